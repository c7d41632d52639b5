//! The events pane: what every berth process recorded since the TUI started (the journal,
//! followed live), newest first; `/` filters by type, action, object or attribute.

use std::cmp::Ordering;

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::Frame;

use super::{render_list, Column, ListSpec};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::list::Item;
use crate::tui::model::EventRow;

impl Item for EventRow {
    fn key(&self) -> &str {
        &self.seq
    }

    fn haystack(&self) -> String {
        format!(
            "{} {} {} {}",
            self.kind, self.action, self.actor, self.attributes
        )
        .to_lowercase()
    }

    fn sort_columns() -> &'static [&'static str] {
        &["time", "type", "object"]
    }

    fn compare(&self, o: &Self, col: usize) -> Ordering {
        // Newest first.
        let by_time = || o.seq.cmp(&self.seq);
        match col {
            1 => self.kind.cmp(&o.kind).then_with(by_time),
            2 => self.actor.cmp(&o.actor).then_with(by_time),
            _ => by_time(),
        }
    }
}

const COLUMNS: [Column; 5] = [
    Column {
        title: "WHEN",
        width: Constraint::Length(9),
        min_pane_width: 0,
    },
    Column {
        title: "TYPE",
        width: Constraint::Length(9),
        min_pane_width: 70,
    },
    Column {
        title: "ACTION",
        width: Constraint::Fill(2),
        min_pane_width: 0,
    },
    Column {
        title: "OBJECT",
        width: Constraint::Fill(2),
        min_pane_width: 0,
    },
    Column {
        title: "ATTRIBUTES",
        width: Constraint::Fill(3),
        min_pane_width: 80,
    },
];

pub fn render(app: &App, f: &mut Frame, area: Rect, focused: bool) {
    let t = &app.theme;
    let cells = |e: &EventRow| {
        let action = if e.action.contains("unhealthy") || e.action == "die" || e.action == "oom" {
            Style::new().fg(t.failed)
        } else if e.action.contains("healthy") || e.action == "start" {
            Style::new().fg(t.running)
        } else {
            Style::new()
        };
        vec![
            Span::styled(format::ago(e.time, app.now), Style::new().fg(t.dim)),
            Span::raw(e.kind.clone()),
            Span::styled(e.action.clone(), action),
            Span::raw(e.actor.clone()),
            Span::styled(e.attributes.clone(), Style::new().fg(t.dim)),
        ]
    };
    render_list(
        app,
        f,
        area,
        focused,
        ListSpec {
            title: "Events",
            noun: "event",
            list: &app.events,
            columns: &COLUMNS,
            cells: &cells,
            empty_hint: "No events since berth started. What any berth process changes shows \
                         here as it happens."
                .into(),
        },
    );
}
