//! The confirm dialog for removals and prunes, with force and volumes switches.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{centered, frame};
use crate::tui::app::App;
use crate::tui::keymap::Action;
use crate::tui::popup::Confirm;

/// Names listed before "… and N more".
const MAX_ITEMS: usize = 8;

pub fn render(app: &App, c: &Confirm, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let key = |a: Action| app.keymap.key_label(a);
    let mut lines: Vec<Line> = c
        .items
        .iter()
        .take(MAX_ITEMS)
        .map(|i| Line::raw(format!("  {i}")))
        .collect();
    if c.items.len() > MAX_ITEMS {
        lines.push(Line::styled(
            format!("  … and {} more", c.items.len() - MAX_ITEMS),
            Style::new().fg(t.dim),
        ));
    }
    lines.push(Line::raw(""));
    let check = |on: bool| if on { "[x]" } else { "[ ]" };
    if let Some(force) = c.force {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} ", check(force)),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                "force ({}): also if running or in use",
                key(Action::ToggleForce)
            )),
        ]));
    }
    if let Some(v) = c.volumes {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} ", check(v)),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                "remove anonymous volumes ({})",
                key(Action::ToggleVolumes)
            )),
        ]));
    }
    let inner_w = usize::from(60u16.min(area.width).saturating_sub(2)).max(1);
    let rows: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_w))
        .sum();
    let h = (rows as u16).saturating_add(2);
    let rect = centered(area, 60, h);
    let hint = format!(
        "{} confirm · {} cancel",
        key(Action::Confirm),
        key(Action::Cancel)
    );
    let inner = frame(f, rect, t, &c.title, &hint, true);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
