//! The images pane: repo:tag, id, size, created, in use.

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
use crate::tui::model::ImageRow;

impl Item for ImageRow {
    fn key(&self) -> &str {
        // Untagged images all read `<none>:<none>`: their id tells them apart.
        if self.reference.starts_with("<none>") {
            &self.id
        } else {
            &self.reference
        }
    }

    fn haystack(&self) -> String {
        format!("{} {}", self.reference, self.id).to_lowercase()
    }

    fn sort_columns() -> &'static [&'static str] {
        &["name", "size", "created"]
    }

    fn compare(&self, o: &Self, col: usize) -> Ordering {
        let by_name = || self.reference.cmp(&o.reference);
        match col {
            1 => o.size.cmp(&self.size).then_with(by_name),
            2 => o.created.cmp(&self.created).then_with(by_name),
            _ => by_name(),
        }
    }

    fn measure(&self, widths: &mut Vec<usize>) {
        let cells = [self.reference.chars().count(), 12, 8, 14, 6];
        for (col, w) in cells.into_iter().enumerate() {
            crate::tui::list::widen(widths, col, w);
        }
    }
}

const COLUMNS: [Column; 5] = [
    Column {
        title: "REPOSITORY:TAG",
        width: Constraint::Fill(3),
        min_pane_width: 0,
    },
    Column {
        title: "ID",
        width: Constraint::Length(12),
        min_pane_width: 50,
    },
    Column {
        title: "SIZE",
        width: Constraint::Length(8),
        min_pane_width: 30,
    },
    Column {
        title: "CREATED",
        width: Constraint::Length(14),
        min_pane_width: 60,
    },
    Column {
        title: "IN USE",
        width: Constraint::Length(6),
        min_pane_width: 40,
    },
];

/// The width the list wants to show every REPOSITORY:TAG whole.
pub fn wanted(app: &App) -> u16 {
    let cols: Vec<(usize, Column)> = COLUMNS.iter().copied().enumerate().collect();
    super::wanted_width(&app.images, &cols)
}

pub fn render(app: &App, f: &mut Frame, area: Rect, focused: bool) {
    let t = &app.theme;
    let now = app.now;
    let cells = |i: &ImageRow| {
        let in_use = match i.containers {
            0 => Span::styled("-", Style::new().fg(t.dim)),
            n => Span::styled(n.to_string(), Style::new().fg(t.running)),
        };
        vec![
            Span::raw(i.reference.clone()),
            Span::styled(format::short_id(&i.id).to_string(), Style::new().fg(t.dim)),
            Span::raw(format::size(i.size)),
            Span::raw(i.created.map(|c| format::ago(c, now)).unwrap_or_default()),
            in_use,
        ]
    };
    let hint = format!(
        "No images yet. Press {} to pull one (e.g. busybox).",
        app.keymap.key_label(Action::Pull)
    );
    render_list(
        app,
        f,
        area,
        focused,
        ListSpec {
            title: "Images",
            noun: "image",
            list: &app.images,
            columns: &COLUMNS,
            cells: &cells,
            empty_hint: hint,
        },
    );
}
