//! The build view's reducer: `B` opens the form (or the view of the build under way), the
//! build's lines and end come in as job outputs.

use super::app::App;
use super::build_view::BuildView;
use super::form::Form;
use super::model::BuildLine;
use super::msg::Cmd;
use super::popup::Popup;

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
    b.finish(result.clone());
    match result {
        Ok(id) => app.say(format!("built {title} ({})", super::format::short_id(&id))),
        Err(e) => app.complain(format!("build of {title} failed: {e}")),
    }
    vec![app.reload_images()]
}
