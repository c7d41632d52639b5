use insta::assert_snapshot;
use ratatui::style::Color;

use super::*;
use crate::tui::app::{Pane, Typing};
use crate::tui::input::TextInput;
use crate::tui::logview::compile;
use crate::tui::model::ContainerRow;
use crate::tui::model::LayerRow;
use crate::tui::msg::{Kind, News, Output};
use crate::tui::shell::ShellPane;

#[test]
fn containers_loading() {
    assert_snapshot!(screen(&app(100, 12)));
}

#[test]
fn containers_empty() {
    let mut a = app(100, 12);
    a.containers.set_items(vec![]);
    assert_snapshot!(screen(&a));
}

#[test]
fn containers_error() {
    let mut a = app(100, 12);
    let job = a.containers_job;
    update(
        &mut a,
        Msg::Job(
            job,
            Output::Containers(Err(
                "listing containers is not available in this build yet".into()
            )),
        ),
    );
    assert_snapshot!(screen(&a));
}

#[test]
fn containers_loaded_wide_with_details() {
    assert_snapshot!(screen(&loaded(140, 12)));
}

#[test]
fn details_tabs_env_mounts_and_processes() {
    use crate::tui::details::Tab;
    let mut a = loaded(140, 14);
    let id = a.containers.selected_item().unwrap().id.clone();
    a.details.tab = Tab::Env;
    a.details.target = Some((Kind::Container, id.clone()));
    a.details.data = Some(Ok(serde_json::json!({
        "Config": {"Env": ["PATH=/usr/local/bin:/usr/bin", "TERM=xterm"], "Labels": {}},
        "Mounts": [{"Name": "data", "Source": "/x", "Destination": "/data", "RW": true}],
    })));
    assert_snapshot!("details_env", screen(&a));
    a.details.tab = Tab::Mounts;
    assert_snapshot!("details_mounts", screen(&a));
    a.details.tab = Tab::Labels;
    assert_snapshot!("details_labels_empty", screen(&a));
    a.details.tab = Tab::Processes;
    a.details.top = None;
    assert_snapshot!("details_processes_loading", screen(&a));
    a.details.top = Some(Ok(vec![
        vec!["UID".into(), "PID".into(), "PPID".into(), "CMD".into()],
        vec!["0".into(), "4242".into(), "4240".into(), "httpd -f".into()],
        vec![
            "33".into(),
            "4250".into(),
            "4242".into(),
            "httpd -f -p 8080".into(),
        ],
    ]));
    assert_snapshot!("details_processes", screen(&a));
    a.details.top = Some(Err("container web is not running".into()));
    assert_snapshot!("details_processes_error", screen(&a));
}

#[test]
fn containers_loaded_narrow() {
    assert_snapshot!(screen(&loaded(50, 12)));
}

#[test]
fn containers_marked_filtered_and_sorted() {
    let mut a = loaded(100, 12);
    a.containers.toggle_mark(10);
    a.containers.toggle_mark(10);
    a.containers.set_filter("e");
    a.containers.cycle_sort();
    assert_snapshot!(screen(&a));
}

#[test]
fn containers_filter_typing_and_no_match() {
    let mut a = loaded(80, 10);
    a.typing = Some(Typing::ListFilter);
    a.filter_input = TextInput::with("zzz");
    a.containers.set_filter("zzz");
    assert_snapshot!(screen(&a));
}

#[test]
fn status_colours_follow_state() {
    let a = loaded(100, 12);
    let b = render(&a);
    let (x, y) = find(&b, "running").unwrap();
    assert_eq!(b[(x, y)].fg, Color::Green);
    let (x, y) = find(&b, "exited 1").unwrap();
    assert_eq!(b[(x, y)].fg, Color::Red);
    let (x, y) = find(&b, "exited 0").unwrap();
    assert_eq!(b[(x, y)].fg, Color::Gray);
}

#[test]
fn images_states() {
    let mut a = app(100, 10);
    a.pane = Pane::Images;
    assert_snapshot!("images_loading", screen(&a));
    a.images.set_items(vec![]);
    assert_snapshot!("images_empty", screen(&a));
    a.images.set_items(images());
    assert_snapshot!("images_loaded", screen(&a));
    a.images.error = Some("listing images is not available in this build yet".into());
    assert_snapshot!("images_error", screen(&a));
    let mut n = loaded(44, 10);
    n.pane = Pane::Images;
    assert_snapshot!("images_narrow", screen(&n));
}

#[test]
fn volumes_states() {
    let mut a = app(100, 10);
    a.pane = Pane::Volumes;
    a.volumes.set_items(vec![]);
    assert_snapshot!("volumes_empty", screen(&a));
    a.volumes.set_items(volumes());
    assert_snapshot!("volumes_loaded", screen(&a));
    a.volumes.error = Some("volume store unreadable".into());
    assert_snapshot!("volumes_error", screen(&a));
    let mut n = loaded(36, 8);
    n.pane = Pane::Volumes;
    assert_snapshot!("volumes_narrow", screen(&n));
}

fn with_logs(w: u16, h: u16) -> App {
    let mut a = loaded(w, h);
    a.pane = Pane::Logs;
    let _ = crate::tui::update_logs::show_logs(&mut a, vec![id(1)]);
    let job = a.logs.follows[&id(1)];
    let lines = vec![
        log_line(1, 0, Stream::Stdout, "httpd: listening on :80"),
        log_line(1, 1, Stream::Stdout, "GET / 200 \x1b[32mOK\x1b[0m 12ms"),
        log_line(1, 2, Stream::Stderr, "warning: slow request /api/report took 2.5s"),
        log_line(1, 3, Stream::Stdout, "GET /api 500 \x1b[1;31mERROR\x1b[0m upstream closed the connection before sending a response"),
        log_line(1, 4, Stream::Stdout, "GET /health 200 OK"),
    ];
    update(&mut a, Msg::Job(job, Output::LogLines(lines)));
    a
}

#[test]
fn logs_states() {
    let mut a = loaded(100, 10);
    a.pane = Pane::Logs;
    assert_snapshot!("logs_no_container", screen(&a));
    let _ = crate::tui::update_logs::show_logs(&mut a, vec![id(1)]);
    assert_snapshot!("logs_waiting", screen(&a));
    let job = a.logs.follows[&id(1)];
    update(
        &mut a,
        Msg::Job(
            job,
            Output::LogsEnded(Some(
                "following logs is not available in this build yet".into(),
            )),
        ),
    );
    assert_snapshot!("logs_error", screen(&a));
    assert_snapshot!("logs_loaded", screen(&with_logs(100, 10)));
    assert_snapshot!("logs_narrow", screen(&with_logs(40, 10)));
}

#[test]
fn logs_switches() {
    let mut a = with_logs(90, 10);
    a.logs.timestamps = true;
    a.logs.wrap = true;
    assert_snapshot!("logs_timestamps_wrap", screen(&a));
    let mut a = with_logs(90, 10);
    a.logs.search = TextInput::with("ok");
    a.logs.search_re = compile("ok");
    assert_snapshot!("logs_search", screen(&a));
    let b = render(&a);
    let (x, y) = find(&b, "OK 12ms").unwrap();
    assert_eq!(b[(x, y)].bg, Color::Yellow, "matches are highlighted");
    let (x, y) = find(&b, "warning").unwrap();
    assert_eq!(b[(x, y)].fg, Color::LightRed, "stderr stands apart");
    let (x, y) = find(&b, "ERROR").unwrap();
    assert_eq!(b[(x, y)].fg, Color::Red, "ANSI colours are kept");
    let mut a = with_logs(90, 10);
    a.typing = Some(Typing::LogFilter);
    a.logs.filter = TextInput::with("get /");
    a.logs.filter_re = compile("get /");
    assert_snapshot!("logs_filter", screen(&a));
}

#[test]
fn logs_merged_with_colour_per_container() {
    let mut a = loaded(100, 10);
    a.pane = Pane::Logs;
    let _ = crate::tui::update_logs::show_logs(&mut a, vec![id(1), id(2)]);
    let (j1, j2) = (a.logs.follows[&id(1)], a.logs.follows[&id(2)]);
    update(
        &mut a,
        Msg::Job(
            j1,
            Output::LogLines(vec![
                log_line(1, 1, Stream::Stdout, "web one"),
                log_line(1, 3, Stream::Stdout, "web three"),
            ]),
        ),
    );
    update(
        &mut a,
        Msg::Job(
            j2,
            Output::LogLines(vec![
                log_line(2, 2, Stream::Stderr, "db two"),
                log_line(2, 4, Stream::Stdout, "db four"),
            ]),
        ),
    );
    assert_snapshot!(screen(&a));
    let b = render(&a);
    let (x, y) = find(&b, "db  │").unwrap();
    let (x1, y1) = find(&b, "web │").unwrap();
    assert_ne!(b[(x, y)].fg, b[(x1, y1)].fg);
}

#[test]
fn shell_pane_beside_logs() {
    let mut a = with_logs(120, 16);
    let mut s = ShellPane::new(&id(1), "web", false, 99, 5, 56);
    s.feed(b"/ # echo $((6*7))\r\n42\r\n/ # ");
    a.shell = Some(s);
    assert_snapshot!(screen(&a));
}

#[test]
fn header_shows_pull_progress_and_mouse_off() {
    let mut a = loaded(120, 6);
    update(
        &mut a,
        Msg::Engine(News::PullStarted {
            image: "docker.io/library/alpine:3".into(),
            layers: vec!["sha256:aa".into()],
        }),
    );
    update(
        &mut a,
        Msg::Engine(News::Layer {
            image: "docker.io/library/alpine:3".into(),
            layer: LayerRow {
                digest: "sha256:aa".into(),
                state: "Downloading".into(),
                done: 50,
                total: 200,
                finished: false,
            },
        }),
    );
    a.mouse = false;
    assert_snapshot!(screen(&a));
    update(&mut a, Msg::Engine(News::Changed(Kind::Image)));
}

#[test]
fn tiny_screens_never_panic() {
    for (w, h) in [
        (0, 0),
        (1, 1),
        (10, 3),
        (19, 4),
        (20, 5),
        (25, 6),
        (3, 40),
        (200, 2),
    ] {
        let mut a = with_logs(w, h);
        a.shell = Some(ShellPane::new(&id(1), "web", false, 9, 1, 1));
        for pane in Pane::ALL {
            a.pane = pane;
            let _ = render(&a);
        }
        a.popup = Some(crate::tui::popup::Popup::Help { scroll: 1000 });
        let _ = render(&a);
    }
    assert_snapshot!(screen(&app(18, 4)));
}

#[test]
fn long_lists_show_the_selected_row() {
    let mut a = loaded(100, 12);
    let rows = (0..1000)
        .map(|i| ContainerRow {
            id: format!("{i:064x}"),
            name: format!("c-{i:04}"),
            ..containers()[0].clone()
        })
        .collect();
    a.containers.set_items(rows);
    a.containers.move_by(500, a.list_height());
    let s = screen(&a);
    assert!(s.contains("c-0500"), "{s}");
    assert!(!s.contains("c-0000"), "{s}");
    a.containers.move_by(-10, a.list_height());
    let s = screen(&a);
    assert!(
        s.contains("c-0490") && s.contains("c-0496"),
        "the window scrolls back:\n{s}"
    );
}

#[test]
fn zoomed_shell_fills_the_screen() {
    let mut a = with_logs(60, 10);
    let mut s = ShellPane::new(&id(1), "web", false, 99, 6, 58);
    s.feed(b"/ # uname\r\nLinux\r\n/ # ");
    a.shell = Some(s);
    a.shell_zoom = true;
    assert_snapshot!(screen(&a));
}

#[test]
fn no_color_draws_without_colour_but_marks_selection_and_stderr() {
    let mut a = with_logs(100, 12);
    a.theme = crate::tui::theme::Theme::monochrome();
    let b = render(&a);
    for cell in &b.content {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    let (x, y) = find(&b, "warning").unwrap();
    assert!(
        b[(x, y)].modifier.contains(ratatui::style::Modifier::BOLD),
        "stderr stands apart"
    );
    a.pane = Pane::Containers;
    let b = render(&a);
    let (x, y) = find(&b, "cache").unwrap();
    assert!(
        b[(x, y)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED),
        "selection shows"
    );
}

/// Item 13: `G` in 202 containers, then `/c15`: all ten matches are drawn, not one.
#[test]
fn containers_filtered_after_scrolling_to_the_end() {
    let mut a = app(80, 24);
    let rows: Vec<ContainerRow> = (0..202u16)
        .map(|i| {
            let mut c = container(1, &format!("c{i:03}"), ContainerState::Running, None);
            c.id = format!("{i:04x}").repeat(16);
            c
        })
        .collect();
    a.containers.set_items(rows);
    let key = |a: &mut App, c: char| {
        update(
            a,
            Msg::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char(c),
                crossterm::event::KeyModifiers::NONE,
            )),
        )
    };
    key(&mut a, 'G');
    for c in "/c15".chars() {
        key(&mut a, c);
    }
    let s = screen(&a);
    let shown = (150..160).filter(|i| s.contains(&format!("c{i}"))).count();
    assert_eq!(shown, 10, "{s}");
    assert_snapshot!(s);
}

/// Item 12: long references are whole when the screen has room, and two tags of one
/// repository look different.
#[test]
fn long_references_get_the_room_the_screen_has() {
    let mut a = app(160, 12);
    let mut rows = images();
    for (i, tag) in ["latest", "v2s2"].iter().enumerate() {
        let mut r = rows[0].clone();
        r.id = format!("sha256:{}", format!("{i:02}").repeat(32));
        r.reference = format!("registry.example.com:5000/library/busybox:{tag}");
        rows.push(r);
    }
    a.images.set_items(rows);
    let mut c = containers();
    c[0].image = "registry.example.com:5000/library/busybox:v2s2".into();
    a.containers.set_items(c);
    let s = screen(&a);
    assert!(
        s.contains("registry.example.com:5000/library/busybox:v2s2"),
        "{s}"
    );
    update(
        &mut a,
        Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('2'),
            crossterm::event::KeyModifiers::NONE,
        )),
    );
    let s = screen(&a);
    for tag in ["latest", "v2s2"] {
        let whole = format!("registry.example.com:5000/library/busybox:{tag}");
        assert!(s.contains(&whole), "{whole} cut:\n{s}");
    }
    assert_snapshot!(s);
}
