//! Snapshots of the networks pane, its details and the network form.

use insta::assert_snapshot;

use super::*;
use crate::tui::app::Pane;
use crate::tui::form::Form;
use crate::tui::model::NetworkRow;
use crate::tui::popup::Popup;

/// Three networks: the default bridge, a user network with two containers, an internal one.
pub fn networks() -> Vec<NetworkRow> {
    let net = |n: u8, name: &str, subnet: &str, internal: bool, on: &[&str]| NetworkRow {
        users: on.iter().map(|s| s.to_string()).collect(),
        id: id(0x40 + n),
        name: name.into(),
        driver: "bridge".into(),
        subnet: subnet.into(),
        gateway: subnet.replace(".0/16", ".1").replace(".0/24", ".1"),
        internal,
        containers: on.iter().map(|s| s.to_string()).collect(),
        created: Some(now() - chrono::Duration::hours(n.into())),
    };
    vec![
        net(1, "bridge", "172.17.0.0/16", false, &["web"]),
        net(2, "backend", "172.18.0.0/16", false, &["db", "web"]),
        net(3, "isolated", "10.9.0.0/24", true, &[]),
    ]
}

pub fn with_networks(w: u16, h: u16) -> App {
    let mut a = loaded(w, h);
    a.networks.set_items(networks());
    a
}

#[test]
fn networks_pane() {
    let mut a = with_networks(140, 12);
    a.pane = Pane::Networks;
    assert_snapshot!("networks_loaded_with_details", screen(&a));
    a.size = (60, 10);
    assert_snapshot!("networks_narrow", screen(&a));
    let mut e = loaded(100, 10);
    e.pane = Pane::Networks;
    e.networks.set_items(vec![]);
    assert_snapshot!("networks_empty", screen(&e));
    e.networks.error = Some("cannot open the state database".into());
    assert_snapshot!("networks_error", screen(&e));
    assert_eq!(networks().len(), 3);
}

#[test]
fn network_form() {
    let mut a = with_networks(100, 16);
    a.pane = Pane::Networks;
    let mut f = Form::create_network();
    a.popup = Some(Popup::Form(Box::new(f.clone())));
    assert_snapshot!("network_form_empty", screen(&a));
    f.fields[0] = crate::tui::form::Field::text("Name", "", "frontend");
    f.focus = 1;
    f.error = Some(
        "Subnet: invalid subnet \"10.50.0.1/16\": the address has host bits set; did you mean 10.50.0.0/16?"
            .into(),
    );
    a.popup = Some(Popup::Form(Box::new(f)));
    assert_snapshot!("network_form_error", screen(&a));
}
