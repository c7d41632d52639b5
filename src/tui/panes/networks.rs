//! The networks pane: name, driver, subnet, internal, the containers attached, created.

use std::cmp::Ordering;

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::Frame;

use super::{render_list, Column, ListSpec};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::keymap::Action;
use crate::tui::list::Item;
use crate::tui::model::NetworkRow;

impl Item for NetworkRow {
    fn key(&self) -> &str {
        &self.name
    }

    fn haystack(&self) -> String {
        format!(
            "{} {} {} {}",
            self.name,
            self.id,
            self.subnet,
            self.containers.join(" ")
        )
        .to_lowercase()
    }

    fn sort_columns() -> &'static [&'static str] {
        &["name", "containers", "created"]
    }

    fn compare(&self, o: &Self, col: usize) -> Ordering {
        let by_name = || self.name.cmp(&o.name);
        match col {
            1 => o
                .containers
                .len()
                .cmp(&self.containers.len())
                .then_with(by_name),
            2 => o.created.cmp(&self.created).then_with(by_name),
            _ => by_name(),
        }
    }
}

const COLUMNS: [Column; 6] = [
    Column {
        title: "NAME",
        width: Constraint::Fill(2),
        min_pane_width: 0,
    },
    Column {
        title: "ID",
        width: Constraint::Length(12),
        min_pane_width: 70,
    },
    Column {
        title: "SUBNET",
        width: Constraint::Length(18),
        min_pane_width: 40,
    },
    Column {
        title: "INTERNAL",
        width: Constraint::Length(8),
        min_pane_width: 60,
    },
    Column {
        title: "CONTAINERS",
        width: Constraint::Fill(2),
        min_pane_width: 30,
    },
    Column {
        title: "CREATED",
        width: Constraint::Length(11),
        min_pane_width: 80,
    },
];

pub fn render(app: &App, f: &mut Frame, area: Rect, focused: bool) {
    let t = &app.theme;
    let now = app.now;
    let cells = |n: &NetworkRow| {
        let attached = if n.containers.is_empty() {
            Span::styled("-", Style::new().fg(t.dim))
        } else {
            Span::styled(n.containers.join(", "), Style::new().fg(t.running))
        };
        vec![
            Span::raw(n.name.clone()),
            Span::styled(format::short_id(&n.id).to_string(), Style::new().fg(t.dim)),
            Span::raw(n.subnet.clone()),
            Span::raw(if n.internal { "yes" } else { "no" }),
            attached,
            Span::raw(n.created.map(|c| format::ago(c, now)).unwrap_or_default()),
        ]
    };
    let hint = format!(
        "No networks yet. Press {} to create one; the default bridge appears with its first use.",
        app.keymap.key_label(Action::CreateVolume)
    );
    render_list(
        app,
        f,
        area,
        focused,
        ListSpec {
            title: "Networks",
            noun: "network",
            list: &app.networks,
            columns: &COLUMNS,
            cells: &cells,
            empty_hint: hint,
        },
    );
}
