//! Reducer tests of the networks pane, its form and the run form's network fields.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::tui::app::Pane;
use crate::tui::model::NetworkSpec;
use crate::tui::popup::{Pending, Popup};
use crate::tui::view_tests::loaded;
use crate::tui::view_tests::networks::{networks, with_networks};

fn press(app: &mut App, code: KeyCode) -> Vec<Cmd> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(app: &mut App, s: &str) -> Vec<Cmd> {
    s.chars()
        .flat_map(|c| press(app, KeyCode::Char(c)))
        .collect()
}

#[test]
fn five_opens_the_networks_pane_which_loads_with_the_others() {
    let mut a = loaded(120, 20);
    let cmds = update(&mut a, Msg::StateChanged);
    assert!(
        cmds.iter().any(|c| matches!(c, Cmd::LoadNetworks(_))),
        "{cmds:?}"
    );
    let job = a.networks_job;
    update(&mut a, Msg::Job(job, Output::Networks(Ok(networks()))));
    press(&mut a, KeyCode::Char('5'));
    assert_eq!(a.pane, Pane::Networks);
    assert_eq!(a.networks.selected_item().unwrap().name, "backend");
    // A change the engine reports reloads the list.
    let cmds = update(&mut a, Msg::Engine(News::Changed(Kind::Network)));
    assert!(matches!(cmds[..], [Cmd::LoadNetworks(_)]), "{cmds:?}");
}

#[test]
fn c_opens_the_network_form_which_checks_then_creates() {
    let mut a = with_networks(120, 24);
    press(&mut a, KeyCode::Char('5'));
    press(&mut a, KeyCode::Char('c'));
    assert!(matches!(&a.popup, Some(Popup::Form(_))), "{:?}", a.popup);
    typed(&mut a, "bad name");
    press(&mut a, KeyCode::Enter);
    let Some(Popup::Form(f)) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert!(f.error.as_deref().unwrap().starts_with("Name:"), "{f:?}");
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    typed(&mut a, "frontend");
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "10.50.0.1/16");
    press(&mut a, KeyCode::Enter);
    let Some(Popup::Form(f)) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert!(f.error.as_deref().unwrap().contains("host bits"), "{f:?}");
    for _ in 0..4 {
        press(&mut a, KeyCode::Backspace);
    }
    typed(&mut a, "0/16");
    let s = a.popup.clone();
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Char(' '));
    assert_ne!(a.popup, s);
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(
        matches!(&cmds[..], [Cmd::CreateNetwork { spec, .. }]
            if *spec == NetworkSpec { name: "frontend".into(), subnet: Some("10.50.0.0/16".into()), internal: true }),
        "{cmds:?}"
    );
    assert!(a.popup.is_none());
}

#[test]
fn remove_and_prune_of_networks_ask_first() {
    let mut a = with_networks(120, 24);
    press(&mut a, KeyCode::Char('5'));
    press(&mut a, KeyCode::Char('d'));
    let Some(Popup::Confirm(c)) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert_eq!(c.action, Pending::RemoveNetworks(vec!["backend".into()]));
    assert_eq!(c.force, None, "a network has no force option");
    let cmds = press(&mut a, KeyCode::Char('y'));
    assert!(
        matches!(&cmds[..], [Cmd::RemoveNetworks { names, .. }] if names == &["backend"]),
        "{cmds:?}"
    );
    // Prune: only user networks no container is attached to.
    press(&mut a, KeyCode::Char('X'));
    let Some(Popup::Confirm(c)) = &a.popup else {
        panic!("{:?}", a.popup)
    };
    assert_eq!(c.title, "Prune 1 network?");
    assert_eq!(c.items[0], "isolated");
    let cmds = press(&mut a, KeyCode::Enter);
    assert!(
        matches!(
            cmds[..],
            [Cmd::Prune {
                kind: Kind::Network,
                ..
            }]
        ),
        "{cmds:?}"
    );
    // Inspect and the details follow the selected network.
    let cmds = press(&mut a, KeyCode::Char('i'));
    assert!(
        matches!(&cmds[..], [Cmd::Inspect { kind: Kind::Network, id, .. }] if *id == networks()[1].id),
        "{cmds:?}"
    );
}

#[test]
fn run_form_takes_ports_network_and_aliases() {
    let mut a = loaded(120, 30);
    press(&mut a, KeyCode::Char('n'));
    typed(&mut a, "busybox");
    for _ in 0..5 {
        press(&mut a, KeyCode::Tab);
    }
    typed(&mut a, "8000:80");
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "backend");
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "db primary");
    let cmds = press(&mut a, KeyCode::Enter);
    let [Cmd::Run { spec, .. }] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    assert_eq!(spec.ports, ["8000:80"]);
    assert_eq!(spec.network.as_deref(), Some("backend"));
    assert_eq!(spec.aliases, ["db", "primary"]);
}
