//! Reducer tests of cancelling a build from its view: Esc or ctrl-c asks, y cancels (the
//! command, then the view says it is cancelling until the build ends), n goes back to the view,
//! q only closes the view.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::tui::form::Form;
use crate::tui::model::{BuildLine, BuildSpec};
use crate::tui::popup::{Confirm, Pending, Popup};
use crate::tui::view_tests::loaded;

fn press(app: &mut App, code: KeyCode) -> Vec<Cmd> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// An app whose build view shows a build under way at a RUN step; returns its job.
fn building() -> (App, u64) {
    let mut a = loaded(120, 30);
    let spec = BuildSpec {
        context: "/src/app".into(),
        dockerfile: None,
        tags: vec!["app:1".into()],
        args: Vec::new(),
        no_cache: false,
    };
    let cmds = crate::tui::update_build::start(&mut a, &Form::build(), spec);
    let [Cmd::Build { job, .. }] = cmds[..] else {
        panic!("{cmds:?}")
    };
    update(
        &mut a,
        Msg::Job(
            job,
            Output::BuildLines(vec![
                BuildLine::Step("Step 1/2 : FROM busybox".into()),
                BuildLine::Step("Step 2/2 : RUN sleep 600".into()),
            ]),
        ),
    );
    (a, job)
}

fn asks(a: &App, job: u64) {
    assert!(
        matches!(&a.popup, Some(Popup::Confirm(Confirm { action: Pending::CancelBuild(j), title, .. }))
            if *j == job && title == "Stop the build of app:1?"),
        "{:?}",
        a.popup
    );
}

#[test]
fn esc_in_the_build_view_asks_and_y_cancels_the_build() {
    let (mut a, job) = building();
    assert!(press(&mut a, KeyCode::Esc).is_empty());
    asks(&a, job);
    let cmds = press(&mut a, KeyCode::Char('y'));
    assert!(
        matches!(cmds[..], [Cmd::CancelBuild { job: j }] if j == job),
        "{cmds:?}"
    );
    assert_eq!(a.popup, Some(Popup::Build), "the view shows the end");
    assert!(a.build.as_ref().unwrap().cancelling);
    // Asked once: Esc now closes the view as before.
    assert!(press(&mut a, KeyCode::Esc).is_empty());
    assert_eq!(a.popup, None);
    update(
        &mut a,
        Msg::Job(job, Output::Built(Err("the build was cancelled".into()))),
    );
    let b = a.build.as_ref().unwrap();
    assert!(!b.running());
    assert_eq!(
        b.steps[1].status,
        crate::tui::build_view::StepStatus::Failed
    );
    let said = a
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert_eq!(said, "build of app:1 cancelled");
}

#[test]
fn ctrl_c_asks_too_n_goes_back_and_q_only_closes_the_view() {
    let (mut a, job) = building();
    let cmds = update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(cmds.is_empty(), "{cmds:?}");
    asks(&a, job);
    assert!(press(&mut a, KeyCode::Char('n')).is_empty());
    assert_eq!(a.popup, Some(Popup::Build), "back to the build view");
    assert!(!a.build.as_ref().unwrap().cancelling);
    assert!(press(&mut a, KeyCode::Char('q')).is_empty());
    assert_eq!(a.popup, None, "q closes the view; the build goes on");
    assert!(a.build.as_ref().unwrap().running());
    assert!(!a.quit);
}

#[test]
fn a_finished_build_is_not_asked_about() {
    let (mut a, job) = building();
    update(&mut a, Msg::Job(job, Output::Built(Ok("sha256:ab".into()))));
    assert!(press(&mut a, KeyCode::Esc).is_empty());
    assert_eq!(a.popup, None, "Esc closes the view of a finished build");
}
