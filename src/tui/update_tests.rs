//! Reducer tests: keys and messages in, state and commands out.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::tui::app::{Pane, Typing};
use crate::tui::model::{ContainerState, Stream};
use crate::tui::msg::{ContainerOp, Ran};
use crate::tui::view_tests::{id, loaded, log_line};

fn press(app: &mut App, code: KeyCode) -> Vec<Cmd> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ch(app: &mut App, c: char) -> Vec<Cmd> {
    press(app, KeyCode::Char(c))
}

fn typed(app: &mut App, s: &str) -> Vec<Cmd> {
    s.chars().flat_map(|c| ch(app, c)).collect()
}

fn select(app: &mut App, name: &str) {
    let pos = app.containers.shown().position(|c| c.name == name).unwrap();
    app.containers.selected = pos;
}

#[test]
fn init_loads_every_list_and_drops_stale_answers() {
    let mut a = loaded(100, 20);
    let cmds = update(&mut a, Msg::StateChanged);
    assert_eq!(cmds.len(), 4);
    let Cmd::LoadContainers(new) = cmds[0] else {
        panic!("{cmds:?}")
    };
    let stale = new - 4;
    update(&mut a, Msg::Job(stale, Output::Containers(Ok(vec![]))));
    assert_eq!(a.containers.items.len(), 5, "a stale answer is dropped");
    update(
        &mut a,
        Msg::Job(new, Output::Containers(Err("boom".into()))),
    );
    assert_eq!(a.containers.error.as_deref(), Some("boom"));
    assert_eq!(a.containers.items.len(), 5, "an error keeps the last rows");
}

#[test]
fn panes_move_and_quit() {
    let mut a = loaded(100, 20);
    ch(&mut a, 'j');
    ch(&mut a, 'j');
    assert_eq!(a.containers.selected_item().unwrap().name, "job");
    press(&mut a, KeyCode::Up);
    assert_eq!(a.containers.selected_item().unwrap().name, "db");
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.pane, Pane::Images);
    ch(&mut a, '3');
    assert_eq!(a.pane, Pane::Volumes);
    press(&mut a, KeyCode::BackTab);
    assert_eq!(a.pane, Pane::Images);
    ch(&mut a, '?');
    assert!(matches!(a.popup, Some(Popup::Help { .. })));
    ch(&mut a, 'q');
    assert!(a.popup.is_none(), "q closes a popup first");
    assert!(!a.quit);
    assert_eq!(ch(&mut a, 'q'), vec![Cmd::Quit]);
    assert!(a.quit);
}

#[test]
fn start_stop_picks_by_state_and_groups_marked() {
    let mut a = loaded(100, 20);
    select(&mut a, "web");
    let cmds = ch(&mut a, 's');
    assert!(
        matches!(&cmds[..], [Cmd::Container { op: ContainerOp::Stop, ids, .. }] if ids == &vec![id(1)])
    );
    select(&mut a, "db");
    ch(&mut a, ' ');
    select(&mut a, "web");
    ch(&mut a, ' ');
    let cmds = ch(&mut a, 's');
    let ops: Vec<_> = cmds
        .iter()
        .map(|c| match c {
            Cmd::Container { op, ids, .. } => (*op, ids.len()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(ops.contains(&(ContainerOp::Start, 1)) && ops.contains(&(ContainerOp::Stop, 1)));
    assert_eq!(ops.len(), 2);
    select(&mut a, "cache");
    a.containers.marks.clear();
    let cmds = ch(&mut a, 'P');
    assert!(matches!(
        &cmds[..],
        [Cmd::Container {
            op: ContainerOp::Unpause,
            ..
        }]
    ));
    ch(&mut a, '2');
    assert!(ch(&mut a, 's').is_empty());
    assert!(a.status.as_ref().unwrap().error);
}

#[test]
fn remove_asks_with_options_then_removes() {
    let mut a = loaded(100, 20);
    select(&mut a, "web");
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.logs.targets, vec![id(1)]);
    ch(&mut a, '1');
    assert!(ch(&mut a, 'd').is_empty());
    let Some(Popup::Confirm(c)) = &a.popup else {
        panic!()
    };
    assert_eq!(c.items, vec!["web".to_string()]);
    ch(&mut a, 'f');
    ch(&mut a, 'v');
    let cmds = ch(&mut a, 'y');
    assert!(a.popup.is_none());
    assert!(
        !cmds.iter().any(|c| matches!(c, Cmd::Cancel(_))),
        "its log stays until it is gone (the_merged_log_stays_until_a_remove_succeeds): {cmds:?}"
    );
    assert!(cmds.iter().any(|c| matches!(c, Cmd::RemoveContainers { ids, force: true, volumes: true, .. } if ids == &vec![id(1)])));
    ch(&mut a, 'd');
    assert!(ch(&mut a, 'n').is_empty());
    assert!(a.popup.is_none(), "n cancels");
}

#[test]
fn enter_follows_logs_and_switching_cancels_the_old_follow() {
    let mut a = loaded(100, 20);
    select(&mut a, "web");
    let cmds = press(&mut a, KeyCode::Enter);
    assert_eq!(a.pane, Pane::Logs);
    let [Cmd::FollowLogs {
        job,
        container,
        tail: Some(1000),
        since: None,
    }] = &cmds[..]
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(container, &id(1));
    let old = *job;
    update(
        &mut a,
        Msg::Job(
            old,
            Output::LogLines(vec![log_line(9, 0, Stream::Stdout, "hello")]),
        ),
    );
    assert_eq!(
        a.logs.store.len(&id(1)),
        1,
        "lines are filed under the followed container"
    );
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.pane, Pane::Containers);
    select(&mut a, "db");
    ch(&mut a, ' ');
    select(&mut a, "worker");
    ch(&mut a, ' ');
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(cmds.contains(&Cmd::Cancel(old)));
    assert_eq!(
        cmds.iter()
            .filter(|c| matches!(c, Cmd::FollowLogs { .. }))
            .count(),
        2
    );
    assert_eq!(
        a.logs.targets,
        vec![id(2), id(5)],
        "marked containers are merged"
    );
    update(
        &mut a,
        Msg::Job(
            old,
            Output::LogLines(vec![log_line(1, 1, Stream::Stdout, "late")]),
        ),
    );
    assert_eq!(
        a.logs.store.len(&id(1)),
        0,
        "lines of a cancelled follow are dropped"
    );
}

#[test]
fn tail_and_since_restart_the_follow() {
    let mut a = loaded(100, 20);
    press(&mut a, KeyCode::Enter);
    let cmds = ch(&mut a, 'T');
    assert!(matches!(cmds[0], Cmd::Cancel(_)));
    assert!(matches!(
        cmds[1],
        Cmd::FollowLogs {
            tail: Some(10_000),
            ..
        }
    ));
    let cmds = ch(&mut a, 'H');
    let Cmd::FollowLogs { since: Some(t), .. } = cmds[1] else {
        panic!("{cmds:?}")
    };
    assert_eq!((a.now - t).num_minutes(), 5);
    ch(&mut a, 't');
    ch(&mut a, 'w');
    assert!(a.logs.timestamps && a.logs.wrap);
}

#[test]
fn search_and_filter_in_logs() {
    let mut a = loaded(100, 20);
    press(&mut a, KeyCode::Enter);
    let job = a.logs.follows[&a.logs.targets[0]];
    let lines = (0..40)
        .map(|i| {
            log_line(
                1,
                i,
                Stream::Stdout,
                &format!("{} line {i}", if i % 10 == 5 { "ERROR" } else { "ok" }),
            )
        })
        .collect();
    update(&mut a, Msg::Job(job, Output::LogLines(lines)));
    ch(&mut a, '/');
    assert_eq!(a.typing, Some(Typing::LogSearch));
    typed(&mut a, "error");
    assert!(a.logs.search_re.is_some());
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.typing, None);
    let cur = |a: &App| {
        let k = a.logs.current.unwrap();
        a.logs
            .lines()
            .find(|(_, e)| e.key() == k)
            .unwrap()
            .1
            .text
            .to_string()
    };
    assert_eq!(cur(&a), "ERROR line 35");
    ch(&mut a, 'n');
    assert_eq!(cur(&a), "ERROR line 25");
    ch(&mut a, 'N');
    assert_eq!(cur(&a), "ERROR line 35");
    press(&mut a, KeyCode::Esc);
    assert!(a.logs.search_re.is_none(), "Esc clears the search first");
    ch(&mut a, 'f');
    typed(&mut a, "error");
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.logs.lines().count(), 4);
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.logs.lines().count(), 40);
    assert_eq!(a.pane, Pane::Logs);
}

#[test]
fn list_filter_is_live_and_esc_restores() {
    let mut a = loaded(100, 20);
    ch(&mut a, '/');
    typed(&mut a, "w");
    assert_eq!(a.containers.view.len(), 2);
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.containers.filter, "w");
    ch(&mut a, '/');
    typed(&mut a, "zz");
    assert_eq!(a.containers.view.len(), 0);
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.containers.filter, "w");
    press(&mut a, KeyCode::Esc);
    assert_eq!(
        a.containers.filter, "",
        "Esc outside typing clears the filter"
    );
}

#[test]
fn pull_dialog_validates_normalises_and_shows_progress() {
    let mut a = loaded(100, 20);
    ch(&mut a, 'p');
    typed(&mut a, "Bad Ref");
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    let Some(Popup::Pull(d)) = &a.popup else {
        panic!()
    };
    assert!(d.error.is_some());
    for _ in 0..7 {
        press(&mut a, KeyCode::Backspace);
    }
    typed(&mut a, "busybox");
    let cmds = press(&mut a, KeyCode::Enter);
    let image = "docker.io/library/busybox:latest".to_string();
    assert!(matches!(&cmds[..], [Cmd::Pull { reference, .. }] if *reference == image));
    update(
        &mut a,
        Msg::Engine(News::PullStarted {
            image: image.clone(),
            layers: vec!["sha256:a".into(), "sha256:b".into()],
        }),
    );
    let layer = LayerRow {
        digest: "sha256:a".into(),
        state: "Downloading".into(),
        done: 5,
        total: 10,
        finished: false,
    };
    update(
        &mut a,
        Msg::Engine(News::Layer {
            image: image.clone(),
            layer,
        }),
    );
    assert_eq!(a.pulls[&image].layers.len(), 2);
    assert_eq!(a.pulls[&image].layers[0].done, 5);
    let cmds = update(
        &mut a,
        Msg::Engine(News::PullFinished {
            image: image.clone(),
            result: Err("manifest unknown".into()),
        }),
    );
    assert!(matches!(cmds[..], [Cmd::LoadImages(_)]));
    assert!(a.status.as_ref().unwrap().text.contains("manifest unknown"));
    press(&mut a, KeyCode::Esc);
    assert!(a.popup.is_none());
}

#[test]
fn run_form_submits_a_spec_and_follows_the_new_container() {
    let mut a = loaded(100, 20);
    ch(&mut a, '2');
    ch(&mut a, 'G');
    ch(&mut a, 'n');
    let Some(Popup::Run(f)) = &a.popup else {
        panic!()
    };
    assert_eq!(
        f.fields[0].text, "busybox:latest",
        "prefilled from the selected image"
    );
    typed(&mut a, "web2");
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "sh -c 'echo hi'");
    let cmds = press(&mut a, KeyCode::Enter);
    let [Cmd::Run { spec, .. }] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    assert_eq!(spec.name.as_deref(), Some("web2"));
    assert_eq!(spec.command, ["sh", "-c", "echo hi"]);
    let cmds = update(
        &mut a,
        Msg::Job(
            77,
            Output::Ran(Ok(Ran {
                id: id(9),
                name: "web2".into(),
                attach: false,
            })),
        ),
    );
    assert!(cmds
        .iter()
        .any(|c| matches!(c, Cmd::FollowLogs { container, .. } if *container == id(9))));
    assert_eq!(a.pane, Pane::Logs, "the new container's log is shown");
    ch(&mut a, '1');
    ch(&mut a, 'n');
    press(&mut a, KeyCode::Enter);
    let Some(Popup::Run(f)) = &a.popup else {
        panic!()
    };
    assert!(f.error.as_ref().unwrap().starts_with("Image:"));
}

#[test]
fn failures_show_a_message_and_successes_a_status() {
    let mut a = loaded(100, 20);
    let cmds = update(
        &mut a,
        Msg::Job(5, Output::Done(Err("cannot stop 0101: not running".into()))),
    );
    assert_eq!(cmds.len(), 4, "lists reload after an action");
    let Some(Popup::Message(m)) = &a.popup else {
        panic!()
    };
    assert!(m.error && m.text.contains("not running"));
    press(&mut a, KeyCode::Enter);
    assert!(a.popup.is_none());
    update(
        &mut a,
        Msg::Job(6, Output::Done(Ok("stopped 1 container(s)".into()))),
    );
    assert!(!a.status.as_ref().unwrap().error);
    let later = a.now + chrono::Duration::seconds(10);
    update(&mut a, Msg::Tick(later));
    assert!(a.status.is_none(), "status lines expire");
}

#[test]
fn shell_takes_keys_until_left() {
    let mut a = loaded(100, 20);
    select(&mut a, "db");
    assert!(ch(&mut a, 'x').is_empty(), "exited containers get no shell");
    select(&mut a, "web");
    let cmds = ch(&mut a, 'x');
    let [Cmd::OpenShell {
        job,
        attach: false,
        cols,
        rows,
        ..
    }] = cmds[..]
    else {
        panic!("{cmds:?}")
    };
    assert!(cols > 10 && rows > 3);
    assert_eq!(
        ch(&mut a, 'l'),
        vec![Cmd::ShellInput {
            job,
            bytes: b"l".to_vec()
        }]
    );
    assert_eq!(
        ch(&mut a, 'q'),
        vec![Cmd::ShellInput {
            job,
            bytes: b"q".to_vec()
        }],
        "q goes to the shell"
    );
    update(
        &mut a,
        Msg::Job(job, Output::ShellOutput(b"42\r\n".to_vec())),
    );
    assert!(a
        .shell
        .as_ref()
        .unwrap()
        .parser
        .screen()
        .contents()
        .contains("42"));
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)),
    );
    assert!(!a.shell.as_ref().unwrap().focused);
    let cmds = update(&mut a, Msg::Resize(140, 40));
    assert!(matches!(cmds[..], [Cmd::ShellResize { .. }]));
    assert!(ch(&mut a, 'x').is_empty(), "x focuses the open shell again");
    assert!(a.shell.as_ref().unwrap().focused);
    update(
        &mut a,
        Msg::Job(
            job,
            Output::ShellEnded(Some(
                "shells in containers is not available in this build yet".into(),
            )),
        ),
    );
    assert!(matches!(a.popup, Some(Popup::Message(_))));
}

#[test]
fn mouse_toggle_and_save() {
    let mut a = loaded(100, 20);
    assert_eq!(ch(&mut a, 'm'), vec![Cmd::SetMouse(false)]);
    press(&mut a, KeyCode::Enter);
    let job = a.logs.follows[&id(3)];
    assert_eq!(
        a.containers.selected_item().unwrap().state,
        ContainerState::Paused
    );
    update(
        &mut a,
        Msg::Job(
            job,
            Output::LogLines(vec![log_line(3, 0, Stream::Stderr, "\x1b[31mred\x1b[0m")]),
        ),
    );
    ch(&mut a, 'S');
    let Some(Popup::Prompt(p)) = &a.popup else {
        panic!()
    };
    assert_eq!(p.input.text, "berth-cache-20260102-030405.log");
    let cmds = press(&mut a, KeyCode::Enter);
    let [Cmd::SaveLogs { text, .. }] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    assert_eq!(text, "red\n");
}

#[test]
fn create_volume_validates_the_name() {
    let mut a = loaded(100, 20);
    ch(&mut a, 'c');
    assert!(a.popup.is_none(), "only in the volumes pane");
    ch(&mut a, '3');
    ch(&mut a, 'c');
    typed(&mut a, "-x");
    assert!(press(&mut a, KeyCode::Enter).is_empty());
    let Some(Popup::Prompt(p)) = &a.popup else {
        panic!()
    };
    assert!(p.error.is_some());
    press(&mut a, KeyCode::Home);
    press(&mut a, KeyCode::Delete);
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(matches!(&cmds[..], [Cmd::CreateVolume { name, .. }] if name == "x"));
}

#[test]
fn zoom_gives_the_shell_the_whole_screen_and_back() {
    let mut a = loaded(100, 30);
    assert!(ch(&mut a, 'z').is_empty());
    assert!(a.status.as_ref().unwrap().error, "no shell to zoom");
    select(&mut a, "web");
    let cmds = ch(&mut a, 'x');
    let [Cmd::OpenShell {
        job, rows, cols, ..
    }] = cmds[..]
    else {
        panic!("{cmds:?}")
    };
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)),
    );
    let cmds = ch(&mut a, 'z');
    assert!(a.shell_zoom && a.shell.as_ref().unwrap().focused);
    let [Cmd::ShellResize {
        job: j,
        rows: r,
        cols: c,
    }] = cmds[..]
    else {
        panic!("{cmds:?}")
    };
    assert_eq!((j, r, c), (job, 26, 98), "was {rows}x{cols}");
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)),
    );
    let cmds = ch(&mut a, 'z');
    assert!(!a.shell_zoom);
    assert!(matches!(cmds[..], [Cmd::ShellResize { .. }]));
}

#[test]
fn shell_goes_to_the_selected_container_even_with_marks() {
    let mut a = loaded(100, 30);
    select(&mut a, "cache");
    ch(&mut a, ' ');
    select(&mut a, "web");
    ch(&mut a, ' ');
    select(&mut a, "web");
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.logs.targets.len(), 2);
    let cmds = ch(&mut a, 'x');
    assert!(
        matches!(&cmds[..], [Cmd::OpenShell { container, .. }] if *container == id(1)),
        "{cmds:?}"
    );
}

#[path = "update_parity_tests.rs"]
mod parity;

#[path = "update_net_tests.rs"]
mod net;

#[path = "update_moves_tests.rs"]
mod moves;

#[path = "update_build_tests.rs"]
mod build_cancel;
