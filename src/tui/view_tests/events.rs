//! The events pane: journal events as they arrive (newest first), filtered with `/`, bounded;
//! each event also reloads the list it concerns (instead of polling the database).

use insta::assert_snapshot;

use super::*;
use crate::engine::journal::{Event, EventType};
use crate::tui::app::Pane;
use crate::tui::jobs::{event_row, journal_news};
use crate::tui::msg::{Kind, News, Output};

fn event(seq: i64, kind: EventType, action: &str, actor: &str, attrs: &[(&str, &str)]) -> Event {
    let mut e = Event::new(kind, action, actor);
    e.seq = seq;
    e.time = now() - Duration::seconds(60 - seq);
    for (k, v) in attrs {
        e = e.with(k, v);
    }
    e
}

fn journal() -> Vec<Event> {
    let c = id(1);
    vec![
        event(
            1,
            EventType::Network,
            "create",
            &"ab".repeat(32),
            &[("name", "backend"), ("type", "bridge")],
        ),
        event(
            2,
            EventType::Container,
            "create",
            &c,
            &[("name", "web"), ("image", "busybox")],
        ),
        event(
            3,
            EventType::Volume,
            "mount",
            "data",
            &[("container", &c), ("destination", "/data")],
        ),
        event(
            4,
            EventType::Container,
            "start",
            &c,
            &[("name", "web"), ("image", "busybox")],
        ),
        event(
            5,
            EventType::Container,
            "health_status: healthy",
            &c,
            &[("name", "web")],
        ),
        event(
            6,
            EventType::Container,
            "health_status: unhealthy",
            &c,
            &[("name", "web")],
        ),
        event(
            7,
            EventType::Container,
            "die",
            &c,
            &[("name", "web"), ("exitCode", "137")],
        ),
        event(
            8,
            EventType::Image,
            "push",
            "registry.local/web:1",
            &[("name", "registry.local/web:1")],
        ),
    ]
}

fn with_events(w: u16, h: u16) -> App {
    let mut a = loaded(w, h);
    for e in journal() {
        update(&mut a, Msg::Journal(event_row(&e)));
    }
    update(
        &mut a,
        Msg::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char('6'),
        )),
    );
    a
}

#[test]
fn events_pane_newest_first() {
    let a = with_events(130, 14);
    assert_eq!(a.pane, Pane::Events);
    let s = screen(&a);
    let push = s.find("push").unwrap();
    let create = s.find("backend").unwrap();
    assert!(push < create, "newest first:\n{s}");
    assert!(
        s.contains("health_status: unhealthy") && s.contains("exitCode=137"),
        "{s}"
    );
    assert_snapshot!(s);
}

#[test]
fn events_pane_filtered_and_narrow() {
    let mut a = with_events(60, 12);
    a.events.set_filter("health");
    let s = screen(&a);
    assert!(
        s.contains("health_status: healthy") && !s.contains("push"),
        "{s}"
    );
    assert_snapshot!(s);
    // Empty at first.
    let mut e = app(80, 8);
    update(
        &mut e,
        Msg::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char('6'),
        )),
    );
    let s = screen(&e);
    assert!(s.contains("No events since berth started"), "{s}");
    assert_snapshot!("events_pane_empty", s);
}

#[test]
fn the_pane_keeps_the_newest_and_each_event_reloads_its_list() {
    let mut a = app(80, 8);
    for i in 0..(crate::tui::update::EVENTS_KEPT as i64 + 5) {
        let e = event(i + 1, EventType::Volume, "create", &format!("v{i}"), &[]);
        update(&mut a, Msg::Journal(event_row(&e)));
    }
    assert_eq!(a.events.items.len(), crate::tui::update::EVENTS_KEPT);
    assert_eq!(a.events.items[0].actor, "v5");
    let kinds: Vec<Option<News>> = journal().iter().map(journal_news).collect();
    assert_eq!(kinds[0], Some(News::Changed(Kind::Network)));
    assert_eq!(kinds[1], Some(News::Changed(Kind::Container)));
    assert_eq!(kinds[2], Some(News::Changed(Kind::Volume)));
    assert_eq!(kinds[7], Some(News::Changed(Kind::Image)));
    // A probe's exec changes no list.
    let exec = event(9, EventType::Container, "exec_die", &id(1), &[]);
    assert_eq!(journal_news(&exec), None);
    // A container event while the list loads (the start's load has not answered here): one
    // more load when that one answers, however many events came meanwhile.
    let loads = |cmds: &[crate::tui::msg::Cmd]| {
        cmds.iter()
            .filter(|c| matches!(c, crate::tui::msg::Cmd::LoadContainers(_)))
            .count()
    };
    let change = || Msg::Engine(journal_news(&journal()[3]).unwrap());
    assert!(a.containers_loading);
    assert_eq!(loads(&update(&mut a, change())), 0);
    assert_eq!(loads(&update(&mut a, change())), 0);
    let pending = a.containers_job;
    let answered = update(
        &mut a,
        Msg::Job(pending, Output::Containers(Ok(Vec::new()))),
    );
    assert_eq!(loads(&answered), 1, "{answered:?}");
    // That load answers with nothing new meanwhile: no more loads.
    let again = a.containers_job;
    let cmds = update(&mut a, Msg::Job(again, Output::Containers(Ok(Vec::new()))));
    assert_eq!(loads(&cmds), 0, "{cmds:?}");
    // The reload a container event asks for when none is under way.
    let cmds = update(&mut a, change());
    assert_eq!(loads(&cmds), 1, "{cmds:?}");
}
