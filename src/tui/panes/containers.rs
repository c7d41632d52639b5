//! The containers pane: name, image, status in colour, health in colour, uptime, restarts, CPU %
//! and memory (wide panes), exit code, ports, id.

use std::cmp::Ordering;

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::Frame;

use super::{render_list, Column, ListSpec};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::list::Item;
use crate::tui::model::{ContainerRow, ContainerState};

impl Item for ContainerRow {
    fn key(&self) -> &str {
        &self.id
    }

    fn haystack(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.name,
            self.image,
            self.state.label(),
            self.id,
            self.ports
        )
        .to_lowercase()
    }

    fn sort_columns() -> &'static [&'static str] {
        &[
            "name", "status", "image", "created", "cpu", "memory", "health",
        ]
    }

    fn compare(&self, o: &Self, col: usize) -> Ordering {
        let by_name = || self.name.cmp(&o.name);
        match col {
            1 => self.state.cmp(&o.state).then_with(by_name),
            2 => self.image.cmp(&o.image).then_with(by_name),
            3 => o.created.cmp(&self.created).then_with(by_name),
            // The busiest first.
            4 => o.cpu.cmp(&self.cpu).then_with(by_name),
            5 => o.memory.cmp(&self.memory).then_with(by_name),
            // The sick first.
            6 => o.health.cmp(&self.health).then_with(by_name),
            _ => by_name(),
        }
    }

    fn measure(&self, widths: &mut Vec<usize>) {
        for (col, w) in cell_widths(self).into_iter().enumerate() {
            crate::tui::list::widen(widths, col, w);
        }
    }
}

const COLUMNS: [Column; 11] = [
    Column {
        title: "NAME",
        width: Constraint::Fill(2),
        min_pane_width: 0,
    },
    Column {
        title: "IMAGE",
        width: Constraint::Fill(2),
        min_pane_width: 40,
    },
    Column {
        title: "STATUS",
        width: Constraint::Length(10),
        min_pane_width: 0,
    },
    Column {
        title: "HEALTH",
        width: Constraint::Length(9),
        min_pane_width: 50,
    },
    Column {
        title: "UP/AGE",
        width: Constraint::Length(10),
        min_pane_width: 30,
    },
    Column {
        title: "RESTARTS",
        width: Constraint::Length(8),
        min_pane_width: 80,
    },
    Column {
        title: "CPU %",
        width: Constraint::Length(7),
        min_pane_width: 90,
    },
    Column {
        title: "MEM",
        width: Constraint::Length(9),
        min_pane_width: 90,
    },
    Column {
        title: "EXIT",
        width: Constraint::Length(4),
        min_pane_width: 56,
    },
    Column {
        title: "PORTS",
        width: Constraint::Fill(1),
        min_pane_width: 100,
    },
    Column {
        title: "ID",
        width: Constraint::Length(12),
        min_pane_width: 72,
    },
];

const PORTS: usize = 9;

/// Text of the status column.
pub fn status_text(c: &ContainerRow) -> String {
    match (c.state, c.exit_code) {
        (ContainerState::Exited, Some(code)) => format!("exited {code}"),
        (s, _) => s.label().to_string(),
    }
}

/// CPU % over the last second (`12.3%`), blank until a running container's second sample.
pub fn cpu_text(c: &ContainerRow) -> String {
    match c.cpu {
        Some(centi) if c.state.is_alive() => format!("{:.1}%", f64::from(centi) / 100.0),
        _ => String::new(),
    }
}

/// Uptime of a running container, or how long ago it exited or was created.
pub fn age_text(c: &ContainerRow, now: chrono::DateTime<chrono::Utc>) -> String {
    match c.state {
        ContainerState::Running | ContainerState::Paused => c
            .started
            .map(|s| format::duration((now - s).num_seconds()))
            .unwrap_or_default(),
        ContainerState::Exited => format::ago(c.finished.unwrap_or(c.created), now),
        _ => format::ago(c.created, now),
    }
}

/// Widths of a row's cells, for the list's kept widths: 0 for the optional columns with
/// nothing to show (HEALTH without a health check, RESTARTS never restarted, CPU % and MEM
/// before a stats sample).
fn cell_widths(c: &ContainerRow) -> [usize; 11] {
    let stats = c.memory.is_some();
    [
        c.name.chars().count(),
        c.image.chars().count(),
        10,
        if c.health.is_some() { 9 } else { 0 },
        10,
        if c.restarts > 0 { 8 } else { 0 },
        if stats { 7 } else { 0 },
        if stats { 9 } else { 0 },
        4,
        c.ports.chars().count(),
        12,
    ]
}

/// Which columns have something to show: CPU and memory once there are stats, HEALTH when a
/// container has a health check, RESTARTS when one has restarted.
fn shown_columns(app: &App) -> [bool; 11] {
    let mut on = [true; 11];
    for (i, col) in COLUMNS.iter().enumerate() {
        if matches!(col.title, "CPU %" | "MEM" | "HEALTH" | "RESTARTS") {
            on[i] = app.containers.width(i) > 0;
        }
    }
    on
}

/// The width the list wants to show names, images and ports whole, and the optional columns
/// that have something to show.
pub fn wanted(app: &App) -> u16 {
    let cols: Vec<(usize, Column)> = COLUMNS
        .iter()
        .copied()
        .enumerate()
        .zip(shown_columns(app))
        .filter(|(_, on)| *on)
        .map(|(c, _)| c)
        .collect();
    super::wanted_width(&app.containers, &cols)
}

/// The columns: NAME as wide as the longest name (up to 32), IMAGE and PORTS sharing the rest
/// in proportion to their longest cells; the optional columns without anything to show never.
fn columns(app: &App) -> [Column; 11] {
    let longest = |col: usize, min: usize, max: usize| {
        let n = app.containers.width(col);
        u16::try_from(n.clamp(min, max)).unwrap_or(u16::MAX)
    };
    let mut cols = COLUMNS;
    cols[0].width = Constraint::Length(longest(0, 4, 32));
    cols[1].width = Constraint::Fill(longest(1, 5, 200));
    cols[PORTS].width = Constraint::Fill(longest(PORTS, 5, 200));
    for (c, on) in cols.iter_mut().zip(shown_columns(app)) {
        if !on {
            c.min_pane_width = u16::MAX;
        }
    }
    cols
}

pub fn render(app: &App, f: &mut Frame, area: Rect, focused: bool) {
    let t = &app.theme;
    let now = app.now;
    let cells = |c: &ContainerRow| {
        vec![
            Span::raw(c.name.clone()),
            Span::raw(c.image.clone()),
            match app.busy_op(&c.id) {
                Some(op) => Span::styled(
                    crate::tui::update_actions::ing(op),
                    ratatui::style::Style::new()
                        .fg(t.accent)
                        .add_modifier(ratatui::style::Modifier::BOLD),
                ),
                None => Span::styled(status_text(c), t.state(c.state, c.exit_code)),
            },
            match c.health {
                Some(h) => Span::styled(h.label(), t.health(h)),
                None => Span::raw(""),
            },
            Span::raw(age_text(c, now)),
            Span::raw(if c.restarts > 0 {
                c.restarts.to_string()
            } else {
                String::new()
            }),
            Span::raw(cpu_text(c)),
            Span::raw(c.memory.map(format::size).unwrap_or_default()),
            Span::raw(c.exit_code.map(|e| e.to_string()).unwrap_or_default()),
            Span::raw(c.ports.clone()),
            Span::styled(
                format::short_id(&c.id).to_string(),
                ratatui::style::Style::new().fg(t.dim),
            ),
        ]
    };
    let hint = format!(
        "No containers yet. Press {} to pull an image, then {} to run one.",
        app.keymap.key_label(crate::tui::keymap::Action::Pull),
        app.keymap.key_label(crate::tui::keymap::Action::Run)
    );
    render_list(
        app,
        f,
        area,
        focused,
        ListSpec {
            title: "Containers",
            noun: "container",
            list: &app.containers,
            columns: &columns(app),
            cells: &cells,
            empty_hint: hint,
        },
    );
}
