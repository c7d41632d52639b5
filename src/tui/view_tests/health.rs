//! The containers pane's HEALTH column (in colour) and RESTARTS column: shown only when a
//! container has a health check or has restarted; sortable, the sick first.

use insta::assert_snapshot;

use super::*;
use crate::tui::model::{ContainerState, Health};

/// The loaded containers with a health verdict each (one without a check) and restarts.
fn with_health(w: u16, h: u16) -> App {
    let mut a = loaded(w, h);
    let mut items = a.containers.items.clone();
    let verdicts = [Some(Health::Healthy), None, Some(Health::Starting)];
    for (c, v) in items.iter_mut().zip(verdicts) {
        c.health = v;
    }
    let mut sick = items[0].clone();
    sick.id = format!("{:064x}", 78);
    sick.name = "flaky".into();
    sick.state = ContainerState::Running;
    sick.health = Some(Health::Unhealthy);
    sick.restarts = 4;
    items.push(sick);
    a.containers.set_items(items);
    a
}

/// The colour of the first cell showing `text` as a word of its own.
fn fg_of(buf: &Buffer, text: &str) -> Option<ratatui::style::Color> {
    let w = buf.area.width as usize;
    let cells: Vec<&str> = buf.content.iter().map(|c| c.symbol()).collect();
    for (row, line) in cells.chunks(w).enumerate() {
        let joined: String = line.concat();
        if let Some(col) = joined.find(&format!(" {text} ")) {
            let col = joined[..col].chars().count() + 1;
            return Some(buf.content[row * w + col].fg);
        }
    }
    None
}

#[test]
fn health_and_restarts_in_colour_sorted_sick_first() {
    let mut a = with_health(150, 12);
    // Sort by health (the seventh sort column).
    a.containers.sort = 6;
    a.containers.set_items(a.containers.items.clone());
    let s = screen(&a);
    assert!(s.contains("HEALTH") && s.contains("RESTARTS"), "{s}");
    let first = s.lines().find(|l| l.contains("flaky")).unwrap();
    assert!(
        first.contains("unhealthy") && first.contains(" 4 "),
        "{first}"
    );
    let buf = render(&a);
    assert_eq!(fg_of(&buf, "unhealthy"), Some(a.theme.failed));
    assert_eq!(fg_of(&buf, "healthy"), Some(a.theme.running));
    assert_eq!(fg_of(&buf, "starting"), Some(a.theme.paused));
    assert_snapshot!(s);
}

#[test]
fn no_health_column_without_checks_and_none_on_narrow_panes() {
    // Without any check or restart, the columns stay away.
    let s = screen(&loaded(150, 12));
    assert!(!s.contains("HEALTH") && !s.contains("RESTARTS"), "{s}");
    // Narrow: the health column goes before the name and status do.
    let s = screen(&with_health(48, 12));
    assert!(!s.contains("HEALTH") && s.contains("flaky"), "{s}");
    assert_snapshot!(s);
}
