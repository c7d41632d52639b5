//! Snapshots of the push progress, the forms of moving and making images, the build view, the
//! layer explorer, the image history tab and the offer to pull a missing image.

use insta::assert_snapshot;

use super::*;
use crate::tui::app::{Pane, PullProgress};
use crate::tui::build_view::BuildView;
use crate::tui::details::Tab;
use crate::tui::form::Form;
use crate::tui::layers::Explorer;
use crate::tui::model::{BuildLine, Change, EntryRow, LayerInfo, LayerRow};
use crate::tui::msg::Kind;
use crate::tui::popup::{Confirm, Pending, Popup};

fn with(popup: Popup, w: u16, h: u16) -> App {
    let mut a = loaded(w, h);
    a.popup = Some(popup);
    a
}

#[test]
fn push_progress() {
    let image = "127.0.0.1:5000/team/app:1".to_string();
    let mut a = with(Popup::Push(image.clone()), 100, 14);
    let layer = |d: &str, state: &str, done, finished| LayerRow {
        digest: format!("sha256:{}", d.repeat(32)),
        state: state.into(),
        done,
        total: 4_000_000,
        finished,
    };
    a.pushes.insert(
        image.clone(),
        PullProgress {
            image: image.clone(),
            layers: vec![
                layer("aa", "Layer already exists", 0, true),
                layer("bb", "Pushing", 1_000_000, false),
                layer("cc", "Preparing", 0, false),
            ],
            result: None,
        },
    );
    assert_snapshot!("push_progress", screen(&a));
    if let Some(p) = a.pushes.get_mut(&image) {
        p.result = Some(Ok(format!(
            "1: digest: sha256:{} size: 1234",
            "dd".repeat(32)
        )));
        for l in &mut p.layers {
            l.state = "Pushed".into();
            l.finished = true;
        }
    }
    assert_snapshot!("push_done", screen(&a));
}

#[test]
fn forms_of_moving_and_making_images() {
    let show = |f: Form| screen(&with(Popup::Form(Box::new(f)), 100, 14));
    let mut push = Form::push("127.0.0.1:5000/team/app:1");
    push.focus = 1;
    push.fields[1].value = crate::tui::form::Value::Toggle(true);
    assert_snapshot!("form_push_no_tls_verify", show(push));
    assert_snapshot!("form_save", show(Form::save("busybox:latest")));
    assert_snapshot!("form_load", show(Form::load()));
    assert_snapshot!("form_export", show(Form::export(&id(1), "web")));
    let mut copy = Form::copy(&id(1), "web");
    copy.focus = 1;
    copy.error = Some("Container path: \"etc\" is not absolute: start it with /".into());
    assert_snapshot!("form_copy_error", show(copy));
    assert_snapshot!("form_commit", show(Form::commit(&id(1), "web")));
    assert_snapshot!("form_build", show(Form::build()));
    assert_snapshot!(
        "form_build_narrow",
        screen(&with(Popup::Form(Box::new(Form::build())), 40, 10))
    );
}

fn build_view() -> BuildView {
    let mut b = BuildView::new(7, "app:1".into(), Form::build());
    for l in [
        BuildLine::Step("Step 1/4 : FROM busybox".into()),
        BuildLine::Step(" ---> 0123456789ab".into()),
        BuildLine::Step("Step 2/4 : COPY . /app".into()),
        BuildLine::Step(" ---> Using cache".into()),
        BuildLine::Step(" ---> 1123456789ab".into()),
        BuildLine::Step("Step 3/4 : RUN make".into()),
        BuildLine::Step(" ---> Running in 2123456789ab".into()),
        BuildLine::Output("cc -o app app.c".into()),
        BuildLine::Output("app.c:3: warning: unused variable".into()),
    ] {
        b.push(l);
    }
    b
}

#[test]
fn build_view_running_and_failed() {
    let mut a = with(Popup::Build, 100, 20);
    a.build = Some(build_view());
    assert_snapshot!("build_running", screen(&a));
    // Esc asks before it cancels; once asked, the view says so until the build ends.
    crate::tui::update_build::ask_cancel(&mut a);
    assert_snapshot!("build_cancel_confirm", screen(&a));
    a.popup = Some(Popup::Build);
    a.build.as_mut().unwrap().cancelling = true;
    assert_snapshot!("build_cancelling", screen(&a));
    a.build.as_mut().unwrap().cancelling = false;
    // Closed while it runs: the header says what is built, and the step.
    a.popup = None;
    assert_snapshot!("build_running_in_the_header", screen(&a));
    a.popup = Some(Popup::Build);
    if let Some(b) = a.build.as_mut() {
        b.finish(Err(
            "The command '/bin/sh -c make' (Dockerfile line 3) returned a non-zero code: 2".into(),
        ));
    }
    assert_snapshot!("build_failed", screen(&a));
    if let Some(b) = a.build.as_mut() {
        b.result = Some(Ok(format!("sha256:{}", "ee".repeat(32))));
        b.back = 2;
    }
    assert_snapshot!("build_done_scrolled", screen(&a));
}

fn explorer() -> Explorer {
    let mut x = Explorer::new(&format!("sha256:{}", "cd".repeat(32)), "app:1", 1);
    x.layers = Some(Ok(vec![
        LayerInfo {
            diff_id: format!("sha256:{}", "01".repeat(32)),
            size: 4_261_000,
            created_by: "ADD rootfs.tar.gz / # buildkit".into(),
        },
        LayerInfo {
            diff_id: format!("sha256:{}", "02".repeat(32)),
            size: 52_000,
            created_by: "RUN /bin/sh -c make && rm -rf /tmp/build".into(),
        },
    ]));
    x.layer = 1;
    let e = |p: &str, change, dir, size| EntryRow {
        path: p.into(),
        change,
        dir,
        size,
        link: false,
    };
    x.set_entries(Ok(vec![
        e("etc", Change::Changed, true, 0),
        e("etc/motd", Change::Added, false, 120),
        e("tmp", Change::Changed, true, 0),
        e("tmp/build", Change::Removed, false, 0),
        e("usr", Change::Changed, true, 0),
        e("usr/bin", Change::Changed, true, 0),
        e("usr/bin/app", Change::Added, false, 51_000),
    ]));
    x.open.insert("usr".into());
    x.open.insert("usr/bin".into());
    x.cursor = 3;
    x
}

#[test]
fn layer_explorer() {
    let mut a = with(Popup::Layers, 100, 20);
    a.pane = Pane::Images;
    a.layers = Some(explorer());
    assert_snapshot!("layers_tree", screen(&a));
    a.size = (50, 14);
    assert_snapshot!("layers_narrow", screen(&a));
    let mut loading = Explorer::new("sha256:cd", "app:1", 1);
    a.layers = Some(loading.clone());
    a.size = (100, 12);
    assert_snapshot!("layers_loading", screen(&a));
    loading.layers = Some(Err("no such image: app:1".into()));
    a.layers = Some(loading);
    assert_snapshot!("layers_error", screen(&a));
}

#[test]
fn image_history_tab() {
    let mut a = loaded(140, 12);
    a.pane = Pane::Images;
    a.details.tab = Tab::History;
    let _ = crate::tui::details::sync(&mut a);
    a.details.top = Some(Ok(vec![
        vec!["SIZE".into(), "CREATED".into(), "CREATED BY".into()],
        vec![
            "52 kB".into(),
            "3 hours ago".into(),
            "RUN /bin/sh -c make".into(),
        ],
        vec!["0 B".into(), "3 hours ago".into(), "ENV MODE=prod".into()],
        vec![
            "4.3 MB".into(),
            "5 weeks ago".into(),
            "ADD rootfs.tar.gz /".into(),
        ],
    ]));
    assert_eq!(a.details.tab_for(Kind::Image), Tab::History);
    assert_snapshot!("details_image_history", screen(&a));
}

#[test]
fn offer_to_pull_a_missing_image() {
    let spec = crate::tui::model::RunSpec {
        image: "127.0.0.1:5000/demo:1".into(),
        ..Default::default()
    };
    let mut a = loaded(100, 14);
    let _ = crate::tui::update_run::offer_pull(&mut a, spec);
    assert!(matches!(
        &a.popup,
        Some(Popup::Confirm(Confirm {
            action: Pending::PullAndRun(_),
            ..
        }))
    ));
    assert_snapshot!("confirm_pull_and_run", screen(&a));
}
