//! The run form's image is not here: ask, pull it (the pull dialog shows the progress), then
//! run it; a failed pull gives the form back with the reason.

use super::app::{App, PullProgress};
use super::model::RunSpec;
use super::msg::Cmd;
use super::popup::{Confirm, Pending, Popup, PullDialog};

/// The run found no image: asks whether to pull it.
pub fn offer_pull(app: &mut App, spec: RunSpec) -> Vec<Cmd> {
    let image = spec.image.clone();
    app.status = None;
    app.popup = Some(Popup::Confirm(Confirm {
        title: format!("Pull {image} and run it?"),
        items: vec![
            format!("{image} is not among the images here."),
            "y pulls it from its registry (the progress shows), then runs it; n goes back to the form."
                .into(),
        ],
        action: Pending::PullAndRun(Box::new(spec)),
        force: None,
        volumes: None,
    }));
    Vec::new()
}

/// The user said yes: the pull starts, the run waits for it.
pub fn pull_then_run(app: &mut App, spec: RunSpec) -> Vec<Cmd> {
    let reference = match crate::engine::ImageRef::parse(&spec.image) {
        Ok(r) => r.to_string(),
        Err(e) => return give_back(app, format!("Image: {e}")),
    };
    app.pulls.insert(
        reference.clone(),
        PullProgress {
            image: reference.clone(),
            layers: Vec::new(),
            result: None,
        },
    );
    app.popup = Some(Popup::Pull(PullDialog {
        image: Some(reference.clone()),
        ..PullDialog::default()
    }));
    app.run_after_pull = Some((reference.clone(), spec));
    vec![Cmd::Pull {
        job: app.job(),
        reference,
    }]
}

/// A pull ended: the run waiting for it goes on (or its form comes back with the reason).
pub fn pulled(app: &mut App, image: &str, result: &Result<String, String>) -> Vec<Cmd> {
    if app.run_after_pull.as_ref().is_none_or(|(r, _)| r != image) {
        return Vec::new();
    }
    let Some((_, spec)) = app.run_after_pull.take() else {
        return Vec::new();
    };
    match result {
        Ok(_) => {
            if matches!(&app.popup, Some(Popup::Pull(d)) if d.image.as_deref() == Some(image)) {
                app.popup = None;
            }
            vec![Cmd::Run {
                job: app.job(),
                spec: Box::new(spec),
            }]
        }
        Err(e) => {
            if matches!(&app.popup, Some(Popup::Pull(_))) {
                app.popup = None;
            }
            give_back(app, format!("pull of {image} failed: {e}"))
        }
    }
}

/// The run form as last submitted, with `why`.
fn give_back(app: &mut App, why: String) -> Vec<Cmd> {
    match app.run_form.take() {
        Some(mut form) => {
            form.error = Some(super::messages::tidy(&why));
            app.popup = Some(Popup::Run(Box::new(form)));
        }
        None => super::update::fail(app, "Run failed", why),
    }
    Vec::new()
}
