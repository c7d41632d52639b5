//! Message dialogs (errors that must be read) and one-line prompts.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{centered, frame};
use crate::tui::app::App;
use crate::tui::popup::{Message, Prompt};

pub fn render(app: &App, m: &Message, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let width = 64u16.min(area.width);
    let text_w = usize::from(width.saturating_sub(4)).max(1);
    let rows: usize = m.text.lines().map(|l| l.chars().count() / text_w + 1).sum();
    let rect = centered(area, width, (rows as u16).saturating_add(2));
    let inner = frame(f, rect, t, &m.title, "Enter/Esc close", m.error);
    let style = if m.error {
        Style::new().fg(t.error)
    } else {
        Style::new()
    };
    let lines: Vec<Line> = m
        .text
        .lines()
        .map(|l| Line::styled(l.to_string(), style))
        .collect();
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

pub fn render_prompt(app: &App, p: &Prompt, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let h = if p.error.is_some() { 5 } else { 3 };
    let rect = centered(area, 64, h);
    let inner = frame(f, rect, t, &p.title, "Enter ok · Esc cancel", false);
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{}: ", p.label),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(p.input.display(true)),
    ])];
    if let Some(e) = &p.error {
        lines.push(Line::styled(e.clone(), Style::new().fg(t.error)));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
