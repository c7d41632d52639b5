//! Reducer tests of the parity issue's TUI items (9 to 17), beside the older ones.

use super::*;

/// Item 9: a resize while another pane is in front must not size the pty for a pane that is not
/// drawn, and coming back must size it for the pane it is drawn in.
#[test]
fn shell_pty_follows_its_pane_after_a_resize_behind_another_pane() {
    let mut a = loaded(120, 30);
    select(&mut a, "web");
    let cmds = ch(&mut a, 'x');
    assert!(matches!(cmds[..], [Cmd::OpenShell { .. }]), "{cmds:?}");
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)),
    );
    ch(&mut a, '2');
    let cmds = update(&mut a, Msg::Resize(120, 14));
    assert!(cmds.is_empty(), "the hidden pane keeps its pty: {cmds:?}");
    let cmds = ch(&mut a, '1');
    let want = crate::tui::view::shell_size(&a).unwrap();
    assert!(
        matches!(cmds[..], [Cmd::ShellResize { rows, cols, .. }] if (rows, cols) == want),
        "{cmds:?} want {want:?}"
    );
    assert_eq!(a.shell.as_ref().unwrap().parser.screen().size(), want);
    let now = a.now;
    let again = update(&mut a, Msg::Tick(now));
    assert!(
        again.iter().all(|c| matches!(c, Cmd::LoadStats(..))),
        "sent once: {again:?}"
    );
}

/// Item 10: a run without Detach opens the attach pane on the created container and starts
/// it with the pane connected (so that its first lines are not lost).
#[test]
fn run_without_detach_starts_the_container_with_the_pane_attached() {
    let mut a = loaded(120, 30);
    let cmds = update(
        &mut a,
        Msg::Job(
            78,
            Output::Ran(Ok(Ran {
                id: id(9),
                name: "talker".into(),
                attach: true,
            })),
        ),
    );
    assert!(
        cmds.iter().any(|c| matches!(c,
            Cmd::OpenShell { container, attach: true, start: true, .. } if *container == id(9))),
        "{cmds:?}"
    );
    let s = a.shell.as_ref().unwrap();
    assert!(s.attach && s.focused);
}

/// Item 14: the list says "stopping" from the key press until the stop ends; a job with
/// nothing to say (a pull's) does not blank the status bar.
#[test]
fn a_slow_stop_shows_stopping_until_it_ends() {
    let mut a = loaded(120, 20);
    select(&mut a, "web");
    let cmds = ch(&mut a, 's');
    let [Cmd::Container { job, op, .. }] = cmds[..] else {
        panic!("{cmds:?}")
    };
    assert_eq!(op, ContainerOp::Stop);
    assert_eq!(a.busy_op(&id(1)), Some(ContainerOp::Stop));
    let s = crate::tui::view_tests::screen(&a);
    let row = s.lines().find(|l| l.contains("│  web")).unwrap();
    assert!(row.contains("stopping"), "{s}");
    // A reload while it stops still shows it stopping.
    update(&mut a, Msg::StateChanged);
    assert_eq!(a.busy_op(&id(1)), Some(ContainerOp::Stop));
    update(
        &mut a,
        Msg::Job(job, Output::Done(Ok("stopped 1 container(s)".into()))),
    );
    assert_eq!(a.busy_op(&id(1)), None);
    a.say("pulled busybox:latest");
    update(&mut a, Msg::Job(99, Output::Done(Ok(String::new()))));
    assert_eq!(a.status.as_ref().unwrap().text, "pulled busybox:latest");
}

/// Item 14: the hint bar shows only keys that do what it says in the focused pane.
#[test]
fn hints_advertise_only_what_the_pane_does() {
    let last = |a: &App| {
        crate::tui::view_tests::screen(a)
            .lines()
            .last()
            .unwrap()
            .to_string()
    };
    let mut a = loaded(200, 20);
    let containers = last(&a);
    assert!(
        containers.contains("s start/stop") && containers.contains("x shell"),
        "{containers}"
    );
    ch(&mut a, '2');
    let images = last(&a);
    assert!(
        !images.contains("start/stop") && !images.contains("shell"),
        "{images}"
    );
    assert!(images.contains("n run"), "{images}");
    ch(&mut a, '4');
    let logs = last(&a);
    assert!(
        !logs.contains("n run"),
        "n is next match in the logs: {logs}"
    );
    let keys: Vec<&str> = logs
        .split("  ")
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for h in &keys {
        let key = h.split(' ').next().unwrap();
        assert!(seen.insert(key), "key {key} advertised twice: {logs}");
    }
}

/// Item 17: h/l and Left/Right switch panes, as lazydocker users expect.
#[test]
fn h_l_and_arrows_switch_panes() {
    let mut a = loaded(120, 20);
    ch(&mut a, 'l');
    assert_eq!(a.pane, Pane::Images);
    press(&mut a, KeyCode::Right);
    assert_eq!(a.pane, Pane::Volumes);
    ch(&mut a, 'h');
    assert_eq!(a.pane, Pane::Images);
    press(&mut a, KeyCode::Left);
    assert_eq!(a.pane, Pane::Containers);
    press(&mut a, KeyCode::Left);
    assert_eq!(a.pane, Pane::Networks);
    press(&mut a, KeyCode::Left);
    assert_eq!(a.pane, Pane::Logs);
}

/// Item 15: a failed run gives the form back as it was, with the whole reason.
#[test]
fn a_failed_run_keeps_the_form() {
    let mut a = loaded(120, 30);
    ch(&mut a, 'n');
    typed(&mut a, "nosuch:1");
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "web9");
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(matches!(cmds[..], [Cmd::Run { .. }]), "{cmds:?}");
    assert!(a.popup.is_none());
    let why = "cannot run nosuch:1: no such image nosuch:1: pull it first (p) and try again";
    update(&mut a, Msg::Job(5, Output::Ran(Err(why.into()))));
    let Some(Popup::Run(f)) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert_eq!(f.fields[0].text, "nosuch:1");
    assert_eq!(f.fields[1].text, "web9");
    assert_eq!(f.error.as_deref(), Some(why));
    let s = crate::tui::view_tests::screen(&a);
    assert!(
        s.contains("pull it first (p) and try"),
        "the whole reason is shown:\n{s}"
    );
}

/// Item 17: a progress line redrawn with CR shows its last state, as a terminal would.
#[test]
fn carriage_returns_show_the_last_redraw() {
    let mut a = loaded(120, 30);
    select(&mut a, "web");
    let cmds = press(&mut a, KeyCode::Enter);
    let job = cmds
        .iter()
        .find_map(|c| match c {
            Cmd::FollowLogs { job, .. } => Some(*job),
            _ => None,
        })
        .unwrap();
    let line = log_line(1, 1, Stream::Stdout, " 10%\r 50%\r100% done\r");
    update(&mut a, Msg::Job(job, Output::LogLines(vec![line])));
    let s = crate::tui::view_tests::screen(&a);
    assert!(s.contains("100% done") && !s.contains("10%"), "{s}");
}

/// Item 17: a failed remove leaves the merged log open; a removed container leaves it.
#[test]
fn the_merged_log_stays_until_a_remove_succeeds() {
    let mut a = loaded(120, 30);
    select(&mut a, "web");
    ch(&mut a, ' ');
    select(&mut a, "db");
    ch(&mut a, ' ');
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.logs.targets.len(), 2);
    ch(&mut a, 'd');
    let cmds = ch(&mut a, 'y');
    let job = cmds
        .iter()
        .find_map(|c| match c {
            Cmd::RemoveContainers { job, .. } => Some(*job),
            _ => None,
        })
        .unwrap();
    assert_eq!(a.logs.targets.len(), 2, "still shown while the remove runs");
    update(
        &mut a,
        Msg::Job(
            job,
            Output::Done(Err("cannot remove web: it is running".into())),
        ),
    );
    assert_eq!(a.logs.targets.len(), 2, "a failed remove keeps the log");
    let cmds = update(&mut a, Msg::StateChanged);
    let Cmd::LoadContainers(load) = cmds[0] else {
        panic!("{cmds:?}")
    };
    let rest: Vec<_> = crate::tui::view_tests::containers()
        .into_iter()
        .filter(|c| c.name != "db")
        .collect();
    update(&mut a, Msg::Job(load, Output::Containers(Ok(rest))));
    assert_eq!(a.logs.targets, vec![id(1)], "db is gone from the log");
}

/// Item 11: a second shell does not end the first; `]` switches between them and output of
/// the one behind is kept.
#[test]
fn a_second_shell_keeps_the_first_open() {
    let mut a = loaded(120, 30);
    select(&mut a, "web");
    let cmds = ch(&mut a, 'x');
    let [Cmd::OpenShell { job: first, .. }] = cmds[..] else {
        panic!("{cmds:?}")
    };
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)),
    );
    let cmds = ch(&mut a, 'a');
    assert!(
        !cmds.iter().any(|c| matches!(c, Cmd::Cancel(_))),
        "the first session lives on: {cmds:?}"
    );
    let second = a.shell.as_ref().unwrap().job;
    assert_ne!(first, second);
    assert_eq!(a.shells_back.len(), 1);
    update(
        &mut a,
        Msg::Job(first, Output::ShellOutput(b"vi is still here".to_vec())),
    );
    let s = crate::tui::view_tests::screen(&a);
    assert!(s.contains("1 more (] next)"), "{s}");
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)),
    );
    ch(&mut a, ']');
    assert_eq!(a.shell.as_ref().unwrap().job, first);
    assert!(a.shell.as_ref().unwrap().focused);
    let s = crate::tui::view_tests::screen(&a);
    assert!(s.contains("vi is still here"), "{s}");
    // Opening the first again brings it to the front instead of a new session.
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)),
    );
    ch(&mut a, ']');
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)),
    );
    let cmds = ch(&mut a, 'x');
    assert!(cmds.is_empty(), "{cmds:?}");
    assert_eq!(a.shell.as_ref().unwrap().job, first);
}

/// Item 16: `y` puts the selected object's id on the clipboard (the loop writes OSC 52).
#[test]
fn y_copies_the_selected_id() {
    let mut a = loaded(120, 30);
    select(&mut a, "web");
    let want = a.containers.selected_item().unwrap().id.clone();
    assert_eq!(ch(&mut a, 'y'), vec![Cmd::Copy(want.clone())]);
    assert!(a.status.as_ref().unwrap().text.contains(&want));
    ch(&mut a, '3');
    let vol = a.volumes.selected_item().unwrap().name.clone();
    assert_eq!(ch(&mut a, 'y'), vec![Cmd::Copy(vol)]);
    assert_eq!(
        crate::tui::event_loop::osc52("ab"),
        "\x1b]52;c;YWI=\x07",
        "base64 of the text between OSC 52's brackets"
    );
}

/// Item 16: the inspect dialog searches (`/`, Enter), jumps with `n`/`N` (wrapping), and says
/// when nothing matches; `n` no longer closes it.
#[test]
fn inspect_search_jumps_between_matches() {
    use crate::tui::popup::{Inspect, Popup};
    let mut a = loaded(120, 30);
    let text: String = (0..60)
        .map(|n| match n {
            10 | 40 => format!("  \"Pid\": {n},\n"),
            _ => format!("  \"Key{n}\": \"value\",\n"),
        })
        .collect();
    a.popup = Some(Popup::Inspect(Inspect {
        title: "container web".into(),
        text: Some(Ok(text)),
        scroll: 0,
        search: None,
        query: String::new(),
        hit: None,
    }));
    let scroll = |a: &App| match &a.popup {
        Some(Popup::Inspect(i)) => i.scroll,
        other => panic!("{other:?}"),
    };
    ch(&mut a, '/');
    typed(&mut a, "PID");
    press(&mut a, KeyCode::Enter);
    assert_eq!(scroll(&a), 8, "line 10 shown two lines below the top");
    ch(&mut a, 'n');
    assert_eq!(scroll(&a), 38);
    ch(&mut a, 'n');
    assert_eq!(scroll(&a), 8, "wraps around");
    ch(&mut a, 'N');
    assert_eq!(scroll(&a), 38);
    ch(&mut a, '/');
    typed(&mut a, "x");
    press(&mut a, KeyCode::Enter);
    assert!(a.status.as_ref().unwrap().error, "no match is said");
    assert!(a.popup.is_some());
    press(&mut a, KeyCode::Esc);
    assert!(a.popup.is_none());
}

/// Item 17: a prune dialog names what goes, how many and how much space; nothing to prune is
/// said without a dialog.
#[test]
fn prune_dialogs_count_and_size_what_goes() {
    use crate::tui::popup::{Confirm, Popup};
    let mut a = loaded(120, 30);
    ch(&mut a, 'X');
    let Some(Popup::Confirm(Confirm { title, items, .. })) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert_eq!(title, "Prune 3 containers?");
    assert_eq!(items[..3], ["db", "job", "worker"]);
    assert_eq!(items[3], "This removes 3 stopped containers.");
    press(&mut a, KeyCode::Esc);
    ch(&mut a, '2');
    ch(&mut a, 'X');
    let Some(Popup::Confirm(Confirm { title, items, .. })) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert_eq!(title, "Prune 2 images?");
    assert!(
        items.last().unwrap().contains("freeing up to 88 MB"),
        "{items:?}"
    );
    press(&mut a, KeyCode::Esc);
    // The volumes are named, not anonymous: nothing for prune.
    ch(&mut a, '3');
    assert!(ch(&mut a, 'X').is_empty());
    assert!(a.popup.is_none());
    assert!(a.status.as_ref().unwrap().text.contains("nothing to prune"));
}

/// Item 16: the details pane's tabs load the selected object's inspect when shown, follow the
/// selection, and refresh the processes every two seconds.
#[test]
fn details_tabs_load_follow_the_selection_and_refresh_processes() {
    use crate::tui::details::Tab;
    let mut a = loaded(120, 30);
    select(&mut a, "web");
    let web = a.containers.selected_item().unwrap().id.clone();
    let cmds = ch(&mut a, 'v');
    assert_eq!(a.details.tab, Tab::Env);
    let [Cmd::Details { job, kind, id }] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    assert_eq!((*kind, id.as_str()), (Kind::Container, web.as_str()));
    let json = r#"{"Config": {"Env": ["A=1"]}}"#.to_string();
    update(&mut a, Msg::Job(*job, Output::Details(Ok(json))));
    assert!(matches!(a.details.data, Some(Ok(_))));
    // Another row: its own data is asked for.
    let cmds = ch(&mut a, 'j');
    assert!(
        matches!(&cmds[..], [Cmd::Details { id, .. }] if *id != web),
        "{cmds:?}"
    );
    assert!(a.details.data.is_none(), "the old row's data is not shown");
    // Processes: asked at once and again two seconds after the answer.
    for _ in 0..4 {
        ch(&mut a, 'v');
    }
    assert_eq!(a.details.tab, Tab::Processes);
    let top = a.details.top_job;
    assert_ne!(top, 0);
    let now = a.now;
    update(
        &mut a,
        Msg::Job(
            top,
            Output::Top(Ok(vec![vec!["PID".into()], vec!["1".into()]])),
        ),
    );
    // (The containers pane's stats sample rides the same tick.)
    let tick = |a: &mut App, secs: i64| -> Vec<Cmd> {
        update(a, Msg::Tick(now + chrono::Duration::seconds(secs)))
            .into_iter()
            .filter(|c| !matches!(c, Cmd::LoadStats(..)))
            .collect()
    };
    assert!(tick(&mut a, 1).is_empty());
    let cmds = tick(&mut a, 2);
    assert!(matches!(&cmds[..], [Cmd::Top { .. }]), "{cmds:?}");
    // Images have their own tabs: Processes falls back to the summary.
    ch(&mut a, '2');
    assert_eq!(
        a.details
            .tab_for(crate::tui::details::selected(&a).unwrap().0),
        Tab::Summary
    );
}

/// Item 16: `e` runs a command of the user's (optionally as another user) in a terminal pane
/// beside the shell sessions; bad input is explained in the prompt.
#[test]
fn e_execs_a_custom_command_as_a_chosen_user() {
    use crate::tui::msg::Exec;
    use crate::tui::popup::Popup;
    let mut a = loaded(120, 30);
    select(&mut a, "db");
    assert!(ch(&mut a, 'e').is_empty());
    assert!(a.popup.is_none(), "db is not running");
    assert!(a.status.as_ref().unwrap().text.contains("start it first"));
    select(&mut a, "web");
    ch(&mut a, 'e');
    typed(&mut a, "-u");
    press(&mut a, KeyCode::Enter);
    let Some(Popup::Prompt(p)) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert!(p.error.as_deref().unwrap().contains("-u needs a user"));
    typed(&mut a, " nobody sh -c 'id -u'");
    let cmds = press(&mut a, KeyCode::Enter);
    let [Cmd::OpenShell {
        exec: Some(Exec { cmd, user }),
        attach: false,
        ..
    }] = &cmds[..]
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(user, "nobody");
    assert_eq!(cmd, &["sh", "-c", "id -u"]);
    assert!(a.shell.as_ref().unwrap().title.contains("sh -c id -u"));
}

/// Item 11: quitting with a live terminal session asks first (a `vi` in a shell would be lost);
/// with none, or once the session ended, `q` quits at once.
#[test]
fn quit_asks_while_terminal_sessions_are_open() {
    use crate::tui::popup::{Confirm, Pending, Popup};
    let mut a = loaded(120, 30);
    select(&mut a, "web");
    let cmds = ch(&mut a, 'x');
    let [Cmd::OpenShell { job, .. }] = cmds[..] else {
        panic!("{cmds:?}")
    };
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)),
    );
    assert!(ch(&mut a, 'q').is_empty());
    assert!(!a.quit);
    let Some(Popup::Confirm(Confirm {
        title,
        items,
        action,
        ..
    })) = &a.popup
    else {
        panic!("{:?}", a.popup)
    };
    assert_eq!(title, "Quit with 1 open terminal session?");
    assert!(items[0].contains("web"), "{items:?}");
    assert_eq!(*action, Pending::Quit);
    ch(&mut a, 'n');
    assert!(a.popup.is_none() && !a.quit, "n keeps the session");
    ch(&mut a, 'q');
    assert_eq!(ch(&mut a, 'y'), vec![Cmd::Quit]);
    assert!(a.quit);
    // An ended session does not hold the quit.
    let mut b = loaded(120, 30);
    select(&mut b, "web");
    let cmds = ch(&mut b, 'x');
    let [Cmd::OpenShell { job: j2, .. }] = cmds[..] else {
        panic!("{cmds:?}")
    };
    let _ = job;
    update(&mut b, Msg::Job(j2, Output::ShellEnded(None)));
    update(
        &mut b,
        Msg::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)),
    );
    assert_eq!(ch(&mut b, 'q'), vec![Cmd::Quit]);
}

/// Item 15: the run form takes workdir, user, memory, CPUs, restart policy and a terminal,
/// each checked as the CLI checks it.
#[test]
fn run_form_takes_workdir_user_limits_restart_and_tty() {
    use crate::tui::popup::RunForm;
    let mut f = RunForm::new("busybox");
    f.fields[8] = crate::tui::input::TextInput::with("/srv");
    f.fields[9] = crate::tui::input::TextInput::with("nobody");
    f.fields[10] = crate::tui::input::TextInput::with("256m");
    f.fields[11] = crate::tui::input::TextInput::with("0.5");
    f.fields[12] = crate::tui::input::TextInput::with("on-failure:3");
    f.tty = true;
    let spec = f.spec().unwrap();
    assert_eq!(spec.workdir.as_deref(), Some("/srv"));
    assert_eq!(spec.user.as_deref(), Some("nobody"));
    assert_eq!(spec.memory, Some(256 * 1024 * 1024));
    assert_eq!(spec.cpus, Some(0.5));
    assert_eq!(spec.restart.as_deref(), Some("on-failure:3"));
    assert!(spec.tty);
    let bad = |i: usize, v: &str| {
        let mut g = f.clone();
        g.fields[i] = crate::tui::input::TextInput::with(v);
        g.spec().unwrap_err()
    };
    assert!(bad(8, "srv").starts_with("Workdir:"));
    assert!(bad(10, "lots").starts_with("Memory:"));
    assert!(bad(11, "-1").starts_with("CPUs:"));
    assert!(bad(12, "sometimes").starts_with("Restart:"));
    f.remove = true;
    assert!(f.spec().unwrap_err().contains("Remove on exit"));
    // Space toggles the terminal when it has the focus.
    let mut a = loaded(120, 30);
    ch(&mut a, 'n');
    for _ in 0..RunForm::TTY {
        press(&mut a, KeyCode::Tab);
    }
    ch(&mut a, ' ');
    let Some(crate::tui::popup::Popup::Run(form)) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert!(form.tty);
}
