//! The inspect dialog: scrollable JSON with keys coloured.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{centered, frame};
use crate::tui::app::App;
use crate::tui::popup::Inspect;

pub fn render(app: &App, i: &Inspect, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let rect = centered(
        area,
        area.width.saturating_sub(6).max(20),
        area.height.saturating_sub(2),
    );
    let error = matches!(i.text, Some(Err(_)));
    let inner = frame(
        f,
        rect,
        t,
        &format!("Inspect {}", i.title),
        "↑↓ PgUp PgDn scroll · Esc close",
        error,
    );
    let text = match &i.text {
        None => {
            f.render_widget(Line::styled("loading…", Style::new().fg(t.dim)), inner);
            return;
        }
        Some(Err(e)) => {
            let p = Paragraph::new(Line::styled(e.clone(), Style::new().fg(t.error)))
                .wrap(Wrap { trim: true });
            f.render_widget(p, inner);
            return;
        }
        Some(Ok(text)) => text,
    };
    let total = text.lines().count();
    let top = i
        .scroll
        .min(total.saturating_sub(usize::from(inner.height)));
    let lines: Vec<Line> = text
        .lines()
        .skip(top)
        .take(usize::from(inner.height))
        .map(|l| {
            let trimmed = l.trim_start();
            let indent = &l[..l.len() - trimmed.len()];
            match trimmed.split_once("\": ") {
                Some((k, v)) if trimmed.starts_with('"') => Line::from(vec![
                    Span::raw(indent.to_string()),
                    Span::styled(format!("{k}\""), Style::new().fg(t.accent)),
                    Span::raw(format!(": {v}")),
                ]),
                _ => Line::raw(l.to_string()),
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}
