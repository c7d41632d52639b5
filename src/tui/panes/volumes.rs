//! The volumes pane: name, size when cheap, used by, created.

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
use crate::tui::model::VolumeRow;

impl Item for VolumeRow {
    fn key(&self) -> &str {
        &self.name
    }

    fn haystack(&self) -> String {
        format!("{} {}", self.name, self.used_by.join(" ")).to_lowercase()
    }

    fn sort_columns() -> &'static [&'static str] {
        &["name", "size", "created"]
    }

    fn compare(&self, o: &Self, col: usize) -> Ordering {
        let by_name = || self.name.cmp(&o.name);
        match col {
            1 => o.size.cmp(&self.size).then_with(by_name),
            2 => o.created.cmp(&self.created).then_with(by_name),
            _ => by_name(),
        }
    }
}

const COLUMNS: [Column; 4] = [
    Column {
        title: "NAME",
        width: Constraint::Fill(2),
        min_pane_width: 0,
    },
    Column {
        title: "SIZE",
        width: Constraint::Length(8),
        min_pane_width: 30,
    },
    Column {
        title: "USED BY",
        width: Constraint::Fill(2),
        min_pane_width: 40,
    },
    Column {
        title: "CREATED",
        width: Constraint::Length(11),
        min_pane_width: 60,
    },
];

pub fn render(app: &App, f: &mut Frame, area: Rect, focused: bool) {
    let t = &app.theme;
    let now = app.now;
    let cells = |v: &VolumeRow| {
        let used = if v.used_by.is_empty() {
            Span::styled("-", Style::new().fg(t.dim))
        } else {
            Span::raw(v.used_by.join(", "))
        };
        vec![
            Span::raw(v.name.clone()),
            Span::raw(v.size.map(format::size).unwrap_or_else(|| "?".into())),
            used,
            Span::raw(v.created.map(|c| format::ago(c, now)).unwrap_or_default()),
        ]
    };
    let hint = format!(
        "No volumes. Press {} to create one, or run a container with a volume.",
        app.keymap.key_label(Action::CreateVolume)
    );
    render_list(
        app,
        f,
        area,
        focused,
        ListSpec {
            title: "Volumes",
            noun: "volume",
            list: &app.volumes,
            columns: &COLUMNS,
            cells: &cells,
            empty_hint: hint,
        },
    );
}
