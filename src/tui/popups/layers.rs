//! The layer explorer: the image's layers (the step that made each, its size), then the tree of
//! what the selected layer adds (A), changes (C) and removes (D), with sizes.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{centered, frame};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::model::Change;

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(x) = &app.layers else {
        return;
    };
    let rect = centered(
        area,
        area.width.min(120),
        area.height.saturating_sub(2).max(5),
    );
    let inner = frame(
        f,
        rect,
        t,
        &format!("Layers of {}", x.title),
        "Tab/S-Tab layer · ↑↓ move · Enter/→ open · ← close · Esc close",
        false,
    );
    let w = usize::from(inner.width);
    let dim = Style::new().fg(t.dim);
    let mut lines = Vec::new();
    let layers = match &x.layers {
        None => {
            f.render_widget(Paragraph::new(Line::styled("loading…", dim)), inner);
            return;
        }
        Some(Err(e)) => {
            let text: Vec<Line> = super::message::wrap(e, w)
                .into_iter()
                .map(|l| Line::styled(l, Style::new().fg(t.error)))
                .collect();
            f.render_widget(Paragraph::new(text), inner);
            return;
        }
        Some(Ok(l)) => l,
    };
    if layers.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled("this image has no layers", dim)),
            inner,
        );
        return;
    }
    // The layers, the selected one kept in view within a third of the box.
    let room = usize::from(inner.height / 3).max(1);
    let first = (x.layer + 1).saturating_sub(room);
    for (i, l) in layers.iter().enumerate().skip(first).take(room) {
        let selected = i == x.layer;
        let style = if selected { t.selected() } else { Style::new() };
        let by = if l.created_by.is_empty() {
            format::short_id(&l.diff_id).to_string()
        } else {
            l.created_by.clone()
        };
        let text = format!(
            "{} {:>3}/{:<3} {:>8}  {}",
            if selected { "›" } else { " " },
            i + 1,
            layers.len(),
            format::size(l.size),
            by
        );
        lines.push(Line::styled(format::ellipsize(&text, w), style));
    }
    let (a, c, d) = x.counts();
    lines.push(Line::styled(
        format::ellipsize(
            &format!(
                "layer {} of {}: {a} added · {c} changed · {d} removed",
                x.layer + 1,
                layers.len()
            ),
            w,
        ),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    let entries = match &x.entries {
        None => {
            lines.push(Line::styled("loading…", dim));
            f.render_widget(Paragraph::new(lines), inner);
            return;
        }
        Some(Err(e)) => {
            for l in super::message::wrap(e, w) {
                lines.push(Line::styled(l, Style::new().fg(t.error)));
            }
            f.render_widget(Paragraph::new(lines), inner);
            return;
        }
        Some(Ok(e)) => e,
    };
    let rows = x.rows();
    if rows.is_empty() {
        lines.push(Line::styled("this layer is empty", dim));
    }
    let tree_h = usize::from(inner.height).saturating_sub(lines.len()).max(1);
    let top = (x.cursor + 1).saturating_sub(tree_h);
    for (n, r) in rows.iter().enumerate().skip(top).take(tree_h) {
        let e = &entries[r.entry];
        let (letter, colour) = match e.change {
            Change::Added => ("A", t.ok),
            Change::Changed => ("C", t.paused),
            Change::Removed => ("D", t.error),
        };
        let name = e.path.rsplit('/').next().unwrap_or(&e.path);
        let (icon, suffix) = match (e.dir, x.open.contains(&e.path), e.link) {
            (true, true, _) => ("▾ ", "/"),
            (true, false, _) => ("▸ ", "/"),
            (false, _, true) => ("  ", "@"),
            _ => ("  ", ""),
        };
        let size = if e.change == Change::Removed {
            String::new()
        } else {
            format::size(r.size)
        };
        let line = Line::from(vec![
            Span::styled(format!(" {letter} "), Style::new().fg(colour)),
            Span::styled(format!("{size:>8}  "), dim),
            Span::raw(format!("{}{icon}{name}{suffix}", "  ".repeat(r.depth))),
        ]);
        lines.push(if n == x.cursor {
            line.style(t.selected())
        } else {
            line
        });
    }
    f.render_widget(Paragraph::new(lines), inner);
}
