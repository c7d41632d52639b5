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
        "↑↓ PgUp PgDn scroll · / search · n/N next/prev · Esc close",
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
    let (list_area, search_area) = match &i.search {
        Some(_) if inner.height > 1 => {
            let mut list = inner;
            list.height -= 1;
            let mut bar = inner;
            bar.y += list.height;
            bar.height = 1;
            (list, Some(bar))
        }
        _ => (inner, None),
    };
    let total = text.lines().count();
    let top = i
        .scroll
        .min(total.saturating_sub(usize::from(list_area.height)));
    let needle = i.query.to_ascii_lowercase();
    let hit = Style::new().fg(t.match_fg).bg(t.match_bg);
    let lines: Vec<Line> = text
        .lines()
        .skip(top)
        .take(usize::from(list_area.height))
        .map(|l| {
            if !needle.is_empty() && l.to_ascii_lowercase().contains(&needle) {
                return highlighted(l, &needle, hit);
            }
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
    f.render_widget(Paragraph::new(lines), list_area);
    if let (Some(input), Some(bar)) = (&i.search, search_area) {
        f.render_widget(
            Line::from(vec![
                Span::styled("/", Style::new().fg(t.accent)),
                Span::raw(input.display(true)),
            ]),
            bar,
        );
    }
}

/// `line` with every (ASCII case-insensitive) occurrence of `needle` in `style`.
fn highlighted(line: &str, needle: &str, style: Style) -> Line<'static> {
    let lower = line.to_ascii_lowercase();
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(needle) {
        let start = at + i;
        let end = start + needle.len();
        spans.push(Span::raw(line[at..start].to_string()));
        spans.push(Span::styled(line[start..end].to_string(), style));
        at = end;
    }
    spans.push(Span::raw(line[at..].to_string()));
    Line::from(spans)
}
