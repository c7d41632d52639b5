//! Reducer tests of push, save, load, export, copy, commit, build, the layer explorer, the
//! image history tab, the run form's offer to pull, and tidy messages.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::tui::app::Pane;
use crate::tui::details::Tab;
use crate::tui::model::{BuildLine, BuildSpec, Change, CommitSpec, EntryRow, LayerInfo, LayerRow};
use crate::tui::popup::{Pending, Popup};
use crate::tui::view_tests::{id, loaded};

fn press(app: &mut App, code: KeyCode) -> Vec<Cmd> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(app: &mut App, s: &str) -> Vec<Cmd> {
    s.chars()
        .flat_map(|c| press(app, KeyCode::Char(c)))
        .collect()
}

fn form_error(app: &App) -> String {
    match &app.popup {
        Some(Popup::Form(f)) => f.error.clone().unwrap_or_default(),
        other => panic!("{other:?}"),
    }
}

/// The images pane with the registry image selected.
fn on_app_image() -> App {
    let mut a = loaded(120, 30);
    press(&mut a, KeyCode::Char('2'));
    let pos = a
        .images
        .shown()
        .position(|i| i.reference.starts_with("127.0.0.1"))
        .unwrap();
    a.images.selected = pos;
    a
}

#[test]
fn u_pushes_the_selected_image_with_layer_progress() {
    let mut a = on_app_image();
    press(&mut a, KeyCode::Char('u'));
    let cmds = press(&mut a, KeyCode::Enter);
    let image = "127.0.0.1:5000/team/app:1".to_string();
    assert!(
        matches!(&cmds[..], [Cmd::Push { image: i, tls_verify: true, .. }] if *i == image),
        "TLS verified unless asked: {cmds:?}"
    );
    assert_eq!(a.popup, Some(Popup::Push(image.clone())));
    let layer = LayerRow {
        digest: "sha256:aa".into(),
        state: "Pushing".into(),
        done: 5,
        total: 10,
        finished: false,
    };
    update(
        &mut a,
        Msg::Engine(News::PushLayer {
            image: image.clone(),
            layer: layer.clone(),
        }),
    );
    assert_eq!(a.pushes[&image].layers, [layer]);
    update(
        &mut a,
        Msg::Engine(News::PushFinished {
            image: image.clone(),
            result: Ok("1: digest: sha256:bb size: 528".into()),
        }),
    );
    assert!(a
        .status
        .as_ref()
        .unwrap()
        .text
        .contains("digest: sha256:bb"));
    // An untagged image cannot be pushed; the reason names what to do.
    press(&mut a, KeyCode::Esc);
    let pos = a
        .images
        .shown()
        .position(|i| i.reference.starts_with("<none>"))
        .unwrap();
    a.images.selected = pos;
    assert!(press(&mut a, KeyCode::Char('u')).is_empty());
    assert!(a.popup.is_none());
    assert!(a.status.as_ref().unwrap().text.contains("untagged"));
}

#[test]
fn save_load_export_and_copy_forms_check_then_act() {
    let mut a = on_app_image();
    press(&mut a, KeyCode::Char('S'));
    press(&mut a, KeyCode::Enter);
    assert!(form_error(&a).starts_with("File:"), "{}", form_error(&a));
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "/tmp/app.tar");
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(
        matches!(&cmds[..], [Cmd::SaveImage { image, path, .. }]
            if image == "127.0.0.1:5000/team/app:1" && path.to_str() == Some("/tmp/app.tar")),
        "{cmds:?}"
    );
    press(&mut a, KeyCode::Char('L'));
    typed(&mut a, "/tmp/app.tar");
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(matches!(&cmds[..], [Cmd::LoadArchive { .. }]), "{cmds:?}");
    // Export and copy act on the selected container.
    press(&mut a, KeyCode::Char('1'));
    let sel = a.containers.selected_item().unwrap().clone();
    press(&mut a, KeyCode::Char('E'));
    typed(&mut a, "web.tar");
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(
        matches!(&cmds[..], [Cmd::ExportContainer { id: i, name, .. }] if *i == sel.id && *name == sel.name),
        "{cmds:?}"
    );
    assert!(sel.id.len() == id(1).len());
    press(&mut a, KeyCode::Char('F'));
    press(&mut a, KeyCode::Char(' '));
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "etc");
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "/tmp/in");
    press(&mut a, KeyCode::Enter);
    assert!(
        form_error(&a).contains("not absolute"),
        "{}",
        form_error(&a)
    );
    press(&mut a, KeyCode::BackTab);
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    typed(&mut a, "/etc");
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(
        matches!(&cmds[..], [Cmd::CopyFiles { into: true, container_path, host_path, .. }]
            if container_path == "/etc" && host_path.to_str() == Some("/tmp/in")),
        "{cmds:?}"
    );
    // In the images pane, E says where it works.
    press(&mut a, KeyCode::Char('2'));
    assert!(press(&mut a, KeyCode::Char('E')).is_empty());
    assert!(a.status.as_ref().unwrap().text.contains("containers"));
}

#[test]
fn commit_takes_a_reference_and_a_message() {
    let mut a = loaded(120, 30);
    let sel = a.containers.selected_item().unwrap().name.clone();
    press(&mut a, KeyCode::Char('C'));
    typed(&mut a, "Bad Name");
    press(&mut a, KeyCode::Enter);
    assert!(
        form_error(&a).starts_with("Repository:tag:"),
        "{}",
        form_error(&a)
    );
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    typed(&mut a, "snap:1");
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "first cut");
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(
        matches!(&cmds[..], [Cmd::Commit { spec, name, .. }]
            if *spec == CommitSpec { reference: Some("snap:1".into()), message: Some("first cut".into()), author: None }
            && *name == sel),
        "{cmds:?}"
    );
}

#[test]
fn a_build_streams_its_steps_and_ends_with_a_status() {
    let mut a = loaded(120, 30);
    press(&mut a, KeyCode::Char('B'));
    press(&mut a, KeyCode::Enter);
    assert!(form_error(&a).starts_with("Context:"));
    typed(&mut a, "/src/app");
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "app:1 app:latest");
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "V=2 bad");
    press(&mut a, KeyCode::Enter);
    assert!(form_error(&a).starts_with("Build args:"));
    press(&mut a, KeyCode::Backspace);
    press(&mut a, KeyCode::Backspace);
    press(&mut a, KeyCode::Backspace);
    let cmds = press(&mut a, KeyCode::Enter);
    let [Cmd::Build { job, spec }] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    assert_eq!(
        *spec,
        BuildSpec {
            context: "/src/app".into(),
            dockerfile: None,
            tags: vec!["app:1".into(), "app:latest".into()],
            args: vec![("V".into(), "2".into())],
            no_cache: false,
        }
    );
    assert_eq!(a.popup, Some(Popup::Build));
    let job = *job;
    update(
        &mut a,
        Msg::Job(
            job,
            Output::BuildLines(vec![
                BuildLine::Step("Step 1/2 : FROM busybox".into()),
                BuildLine::Step("Step 2/2 : RUN make".into()),
                BuildLine::Output("compiling".into()),
            ]),
        ),
    );
    // Closed while it runs (q: Esc would ask to cancel), B shows it again.
    press(&mut a, KeyCode::Char('q'));
    press(&mut a, KeyCode::Char('B'));
    assert_eq!(a.popup, Some(Popup::Build));
    let cmds = update(
        &mut a,
        Msg::Job(job, Output::Built(Err("RUN make: exit code 2".into()))),
    );
    assert!(matches!(cmds[..], [Cmd::LoadImages(_)]), "{cmds:?}");
    let b = a.build.as_ref().unwrap();
    assert_eq!(b.steps.len(), 2);
    assert_eq!(b.lines.len(), 3);
    assert_eq!(
        b.steps[1].status,
        crate::tui::build_view::StepStatus::Failed
    );
    // Once ended, B offers the form again, as filled.
    press(&mut a, KeyCode::Char('B'));
    let Some(Popup::Form(f)) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert_eq!(f.text(0), "/src/app");
}

#[test]
fn b_explores_the_layers_of_the_selected_image() {
    let mut a = on_app_image();
    let cmds = press(&mut a, KeyCode::Char('b'));
    let [Cmd::LoadLayers { job, image }] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    assert_eq!(*image, format!("sha256:{}", "cd".repeat(32)));
    let layer = |by: &str| LayerInfo {
        diff_id: "sha256:00".into(),
        size: 10,
        created_by: by.into(),
    };
    let job = *job;
    let cmds = update(
        &mut a,
        Msg::Job(
            job,
            Output::Layers(Ok(vec![layer("ADD rootfs"), layer("RUN make")])),
        ),
    );
    // The last layer first.
    let [Cmd::LoadLayerEntries { job, index: 1, .. }] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    let entry = |p: &str, dir: bool| EntryRow {
        path: p.into(),
        change: Change::Added,
        dir,
        size: 3,
        link: false,
    };
    let job = *job;
    update(
        &mut a,
        Msg::Job(
            job,
            Output::LayerEntries(Ok(vec![entry("app", true), entry("app/bin", false)])),
        ),
    );
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.layers.as_ref().unwrap().rows().len(), 2);
    // Tab moves to the next layer (wrapping to the base) and loads it.
    let cmds = press(&mut a, KeyCode::Tab);
    assert!(
        matches!(cmds[..], [Cmd::LoadLayerEntries { index: 0, .. }]),
        "{cmds:?}"
    );
    press(&mut a, KeyCode::Esc);
    assert!(a.popup.is_none());
}

#[test]
fn the_history_tab_loads_once_a_selection() {
    let mut a = on_app_image();
    let mut cmds = Vec::new();
    while a.details.tab_for(Kind::Image) != Tab::History {
        cmds = press(&mut a, KeyCode::Char('v'));
    }
    assert!(
        cmds.iter().any(|c| matches!(c, Cmd::History { .. })),
        "{cmds:?}"
    );
    let later = a.now + chrono::Duration::seconds(5);
    let cmds = update(&mut a, Msg::Tick(later));
    assert!(
        !cmds.iter().any(|c| matches!(c, Cmd::History { .. })),
        "{cmds:?}"
    );
}

#[test]
fn a_missing_image_is_offered_for_a_pull_then_run() {
    let mut a = loaded(120, 30);
    assert_eq!(a.pane, Pane::Containers);
    press(&mut a, KeyCode::Char('n'));
    typed(&mut a, "127.0.0.1:5000/demo:1");
    let cmds = press(&mut a, KeyCode::Enter);
    let [Cmd::Run { spec, .. }] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    let spec = spec.clone();
    update(&mut a, Msg::Job(99, Output::NeedsPull(spec.clone())));
    let Some(Popup::Confirm(c)) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert_eq!(c.action, Pending::PullAndRun(spec.clone()));
    // No: back to the form.
    press(&mut a, KeyCode::Char('n'));
    assert!(matches!(&a.popup, Some(Popup::Run(_))), "{:?}", a.popup);
    press(&mut a, KeyCode::Enter);
    update(&mut a, Msg::Job(100, Output::NeedsPull(spec.clone())));
    let cmds = press(&mut a, KeyCode::Char('y'));
    assert!(
        matches!(&cmds[..], [Cmd::Pull { reference, .. }] if reference == "127.0.0.1:5000/demo:1"),
        "{cmds:?}"
    );
    assert!(matches!(&a.popup, Some(Popup::Pull(_))));
    let cmds = update(
        &mut a,
        Msg::Engine(News::PullFinished {
            image: "127.0.0.1:5000/demo:1".into(),
            result: Ok("sha256:ee".into()),
        }),
    );
    assert!(
        matches!(&cmds[..], [Cmd::Run { spec: s, .. }, Cmd::LoadImages(_)] if *s == spec),
        "{cmds:?}"
    );
    assert!(a.popup.is_none());
    // A failed pull gives the form back with the reason.
    update(&mut a, Msg::Job(101, Output::NeedsPull(spec.clone())));
    press(&mut a, KeyCode::Char('y'));
    update(
        &mut a,
        Msg::Engine(News::PullFinished {
            image: "127.0.0.1:5000/demo:1".into(),
            result: Err("error: error: connection refused".into()),
        }),
    );
    let Some(Popup::Run(f)) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert_eq!(
        f.error.as_deref(),
        Some("pull of 127.0.0.1:5000/demo:1 failed: connection refused")
    );
}

#[test]
fn the_push_form_can_skip_tls_verification() {
    let mut a = on_app_image();
    press(&mut a, KeyCode::Char('u'));
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Char(' '));
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(
        matches!(
            &cmds[..],
            [Cmd::Push {
                tls_verify: false,
                ..
            }]
        ),
        "--tls-verify=false: {cmds:?}"
    );
}
