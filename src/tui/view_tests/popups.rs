use insta::assert_snapshot;

use super::*;
use crate::tui::app::PullProgress;
use crate::tui::input::TextInput;
use crate::tui::model::LayerRow;
use crate::tui::msg::Kind;
use crate::tui::popup::{
    Confirm, Inspect, Message, Pending, Popup, Prompt, PromptFor, PullDialog, RunForm,
};

fn with(popup: Popup, w: u16, h: u16) -> App {
    let mut a = loaded(w, h);
    a.popup = Some(popup);
    a
}

#[test]
fn help_popup() {
    assert_snapshot!(
        "help_top",
        screen(&with(Popup::Help { scroll: 0 }, 100, 30))
    );
    assert_snapshot!(
        "help_scrolled_to_end",
        screen(&with(Popup::Help { scroll: 999 }, 100, 30))
    );
    assert_snapshot!(
        "help_narrow",
        screen(&with(Popup::Help { scroll: 0 }, 40, 16))
    );
}

fn confirm(n: usize) -> Confirm {
    let names: Vec<String> = (0..n).map(|i| format!("container-{i}")).collect();
    Confirm {
        title: if n == 1 {
            "Remove container container-0?".into()
        } else {
            format!("Remove {n} containers?")
        },
        items: names.clone(),
        action: Pending::RemoveContainers(names),
        force: Some(true),
        volumes: Some(false),
    }
}

#[test]
fn confirm_popup() {
    assert_snapshot!(
        "confirm_one",
        screen(&with(Popup::Confirm(confirm(1)), 90, 14))
    );
    assert_snapshot!(
        "confirm_many",
        screen(&with(Popup::Confirm(confirm(11)), 90, 20))
    );
    let prune = Confirm {
        title: "Prune 2 images?".into(),
        items: vec![
            "127.0.0.1:5000/team/app:1".into(),
            "<none>:<none>".into(),
            "This removes 2 images no container uses, freeing up to 88 MB.".into(),
        ],
        action: Pending::Prune(Kind::Image),
        force: None,
        volumes: None,
    };
    assert_snapshot!(
        "confirm_prune",
        screen(&with(Popup::Confirm(prune), 90, 10))
    );
    assert_snapshot!(
        "confirm_narrow",
        screen(&with(Popup::Confirm(confirm(2)), 36, 12))
    );
}

fn pulling(a: &mut App, result: Option<Result<String, String>>) {
    let image = "docker.io/library/busybox:latest".to_string();
    let layer = |n: u8, state: &str, done: u64, total: u64, finished: bool| LayerRow {
        digest: format!("sha256:{}", format!("{n:02x}").repeat(32)),
        state: state.into(),
        done,
        total,
        finished,
    };
    a.pulls.insert(
        image.clone(),
        PullProgress {
            image: image.clone(),
            layers: vec![
                layer(0xa1, "Pull complete", 2_000_000, 2_000_000, true),
                layer(0xb2, "Downloading", 1_500_000, 6_000_000, false),
                layer(0xc3, "Waiting", 0, 800_000, false),
                layer(0xd4, "Already exists", 0, 300_000, true),
            ],
            result,
        },
    );
    a.popup = Some(Popup::Pull(PullDialog {
        input: TextInput::with("busybox"),
        image: Some(image),
        error: None,
    }));
}

#[test]
fn pull_popup() {
    let input = PullDialog {
        input: TextInput::with("busy"),
        image: None,
        error: None,
    };
    assert_snapshot!("pull_input", screen(&with(Popup::Pull(input), 90, 10)));
    let bad = PullDialog {
        input: TextInput::with("Bad Ref"),
        image: None,
        error: Some("invalid reference format: repository name must be lowercase".into()),
    };
    assert_snapshot!("pull_input_error", screen(&with(Popup::Pull(bad), 90, 10)));
    let mut a = loaded(100, 14);
    pulling(&mut a, None);
    assert_snapshot!("pull_progress", screen(&a));
    pulling(&mut a, Some(Ok(format!("sha256:{}", "ab".repeat(32)))));
    assert_snapshot!("pull_done", screen(&a));
    pulling(
        &mut a,
        Some(Err("registry 127.0.0.1:5000: manifest unknown".into())),
    );
    assert_snapshot!("pull_failed", screen(&a));
    let mut n = loaded(44, 12);
    pulling(&mut n, None);
    assert_snapshot!("pull_narrow", screen(&n));
}

#[test]
fn run_form_popup() {
    assert_snapshot!(
        "run_empty",
        screen(&with(Popup::Run(Box::new(RunForm::new(""))), 90, 16))
    );
    let mut f = RunForm::new("busybox");
    f.fields[1] = TextInput::with("web");
    f.fields[2] = TextInput::with("httpd -f -p 80");
    f.fields[3] = TextInput::with("MODE=prod");
    f.fields[4] = TextInput::with("data:/data");
    f.fields[5] = TextInput::with("8000:80");
    f.fields[6] = TextInput::with("backend");
    f.fields[7] = TextInput::with("web-primary");
    f.remove = true;
    f.focus = RunForm::REMOVE;
    assert_snapshot!(
        "run_filled",
        screen(&with(Popup::Run(Box::new(f.clone())), 90, 16))
    );
    f.error = Some("Env: \"NOEQUALS\" is not KEY=VALUE".into());
    assert_snapshot!(
        "run_error",
        screen(&with(Popup::Run(Box::new(f.clone())), 90, 16))
    );
    assert_snapshot!("run_narrow", screen(&with(Popup::Run(Box::new(f)), 40, 16)));
}

#[test]
fn inspect_popup() {
    let i = |text| {
        Popup::Inspect(Inspect {
            title: "container web".into(),
            text,
            scroll: 0,
            search: None,
            query: String::new(),
            hit: None,
        })
    };
    assert_snapshot!("inspect_loading", screen(&with(i(None), 80, 10)));
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "Id": id(1), "Name": "web", "State": {"Status": "running", "Pid": 4242}, "Config": {"Cmd": ["httpd", "-f"]}
    }))
    .unwrap();
    assert_snapshot!(
        "inspect_loaded",
        screen(&with(i(Some(Ok(json.clone()))), 80, 12))
    );
    let mut scrolled = with(i(Some(Ok(json))), 80, 8);
    if let Some(Popup::Inspect(x)) = &mut scrolled.popup {
        x.scroll = 3;
    }
    assert_snapshot!("inspect_scrolled_narrow", screen(&scrolled));
    // A kept search highlights its matches; `/` shows the one being typed at the bottom.
    if let Some(Popup::Inspect(x)) = &mut scrolled.popup {
        x.scroll = 0;
        x.query = "cmd".into();
        x.search = Some(crate::tui::input::TextInput::with("cmd"));
    }
    assert_snapshot!("inspect_search", screen(&scrolled));
    assert_snapshot!(
        "inspect_error",
        screen(&with(
            i(Some(Err(
                "cannot inspect container web: no such container".into()
            ))),
            80,
            10
        ))
    );
}

#[test]
fn message_and_prompt_popups() {
    let m = Message {
        title: "Action failed".into(),
        text: "2 of 3 failed:\ncannot stop 010101010101: container is not running\ncannot stop 020202020202: permission denied".into(),
        error: true,
        scroll: 0,
    };
    assert_snapshot!(
        "message_error",
        screen(&with(Popup::Message(m.clone()), 90, 12))
    );
    assert_snapshot!("message_narrow", screen(&with(Popup::Message(m), 30, 14)));
    let p = Prompt {
        title: "Create volume".into(),
        label: "Name".into(),
        input: TextInput::with("-bad"),
        purpose: PromptFor::CreateVolume,
        error: Some("\"-bad\" is not a valid volume name".into()),
    };
    assert_snapshot!("prompt_error", screen(&with(Popup::Prompt(p), 90, 10)));
}

/// The system df view: measuring, the table with a row selected, an error, and its prune's
/// confirm dialog.
#[test]
fn disk_usage_view() {
    use crate::tui::disk_usage::{DiskView, Usage, UsageRow};
    let mut a = loaded(100, 20);
    a.disk = Some(DiskView::default());
    a.popup = Some(crate::tui::popup::Popup::DiskUsage);
    assert_snapshot!("disk_usage_measuring", screen(&a));
    let row = UsageRow::new;
    a.disk.as_mut().unwrap().rows = Some(Ok(vec![
        row(Usage::Images, 3, 1, 92_000_000, 87_500_000),
        row(Usage::Containers, 5, 2, 1_200_000, 300_000),
        row(Usage::Volumes, 2, 1, 12_300_000, 0),
        row(Usage::BuildCache, 0, 0, 0, 0),
    ]));
    a.disk.as_mut().unwrap().selected = 1;
    let s = screen(&a);
    assert!(
        s.contains("88 MB (95%)") && s.contains("Build Cache"),
        "{s}"
    );
    assert_snapshot!("disk_usage_loaded", s);
    update(
        &mut a,
        Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('X'),
            crossterm::event::KeyModifiers::NONE,
        )),
    );
    assert_snapshot!("disk_usage_prune_containers", screen(&a));
    a.disk.as_mut().unwrap().rows = Some(Err(
        "cannot read /var/lib/berth/layers: permission denied".into(),
    ));
    a.popup = Some(crate::tui::popup::Popup::DiskUsage);
    assert_snapshot!("disk_usage_error", screen(&a));
}
