//! The build view's reducer: `B` opens the form (or the view of the build under way), the
//! build's lines and end come in as job outputs; Esc or ctrl-c in the view of a running build
//! asks, then cancels it as SIGINT cancels the CLI's (`q` only closes the view).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::App;
use super::build_view::BuildView;
use super::form::Form;
use super::model::BuildLine;
use super::msg::Cmd;
use super::popup::{Confirm, Pending, Popup};

/// `B`: the view of the build under way, else the form (as last filled).
pub fn open(app: &mut App) -> Vec<Cmd> {
    match &app.build {
        Some(b) if b.running() => app.popup = Some(Popup::Build),
        Some(b) => {
            let mut form = b.form.clone();
            form.error = None;
            super::update_form::open(app, form);
        }
        None => super::update_form::open(app, Form::build()),
    }
    Vec::new()
}

/// A submitted build form: the build starts and its view opens.
pub fn start(app: &mut App, form: &Form, spec: super::model::BuildSpec) -> Vec<Cmd> {
    let job = app.job();
    let title = spec
        .tags
        .first()
        .cloned()
        .unwrap_or_else(|| spec.context.clone());
    app.build = Some(BuildView::new(job, title, form.clone()));
    app.popup = Some(Popup::Build);
    vec![Cmd::Build { job, spec }]
}

/// Lines of the build with job `job`.
pub fn lines(app: &mut App, job: u64, lines: Vec<BuildLine>) {
    if let Some(b) = app.build.as_mut().filter(|b| b.job == job) {
        for l in lines {
            b.push(l);
        }
    }
}

/// The end of the build with job `job`.
pub fn built(app: &mut App, job: u64, result: Result<String, String>) -> Vec<Cmd> {
    let Some(b) = app.build.as_mut().filter(|b| b.job == job) else {
        return Vec::new();
    };
    let title = b.title.clone();
    let cancelled = b.cancelling && result.is_err();
    b.finish(result.clone());
    match result {
        Ok(id) => app.say(format!("built {title} ({})", super::format::short_id(&id))),
        Err(_) if cancelled => app.say(format!("build of {title} cancelled")),
        Err(e) => app.complain(format!("build of {title} failed: {e}")),
    }
    vec![app.reload_images()]
}

/// Esc or ctrl-c while the view shows a build under way (not yet being cancelled).
pub fn asks_to_cancel(app: &App, ev: &KeyEvent) -> bool {
    let key = ev.code == KeyCode::Esc
        || (ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL));
    key && app
        .build
        .as_ref()
        .is_some_and(|b| b.running() && !b.cancelling)
}

/// "Cancel the build?"
pub fn ask_cancel(app: &mut App) -> Vec<Cmd> {
    let Some(b) = &app.build else {
        return Vec::new();
    };
    app.popup = Some(Popup::Confirm(Confirm {
        title: format!("Stop the build of {}?", b.title),
        items: vec![
            "y stops it: the RUN step's container is killed and removed, nothing of the \
             unfinished step is kept (finished steps stay cached)."
                .into(),
            "n goes back to the build view; q there closes the view and the build goes on.".into(),
        ],
        action: Pending::CancelBuild(b.job),
        force: None,
        volumes: None,
    }));
    Vec::new()
}

/// Yes: the build under way (job `job`) is stopped; the view shows it until it ends.
pub fn cancel(app: &mut App, job: u64) -> Vec<Cmd> {
    app.popup = Some(Popup::Build);
    let Some(b) = app.build.as_mut().filter(|b| b.job == job && b.running()) else {
        return Vec::new();
    };
    b.cancelling = true;
    let title = b.title.clone();
    app.say(format!("cancelling the build of {title}…"));
    vec![Cmd::CancelBuild { job }]
}
