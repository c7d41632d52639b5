//! A [`Form`]: one line a field (label, then the text or `[x]`), the reason of a refusal below.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{centered, frame};
use crate::tui::app::App;
use crate::tui::form::{Form, Value};

pub fn render(app: &App, form: &Form, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let width = area.width.min(80);
    let reason = form
        .error
        .as_deref()
        .map(|e| super::message::wrap(e, usize::from(width).saturating_sub(2)))
        .unwrap_or_default();
    let want = form.fields.len() as u16
        + 2
        + if reason.is_empty() {
            0
        } else {
            1 + reason.len() as u16
        };
    let rect = centered(area, width, want.min(area.height));
    let hint = format!("Tab move · Space toggle · Enter {} · Esc cancel", form.verb);
    let inner = frame(f, rect, t, &form.title, &hint, false);
    let reason_h = if reason.is_empty() {
        0
    } else {
        (1 + reason.len() as u16).min(inner.height.saturating_sub(1))
    };
    let fields_h = inner.height.saturating_sub(reason_h).max(1);
    let shown = usize::from(fields_h);
    let top = (form.focus + 1).saturating_sub(shown);
    let label_w = form
        .fields
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines = Vec::new();
    for (i, field) in form.fields.iter().enumerate().skip(top).take(shown) {
        let focused = form.focus == i;
        let label_style = if focused {
            Style::new().fg(t.accent).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        };
        let marker = if focused { "›" } else { " " };
        let value = match &field.value {
            Value::Text(input) if input.text.is_empty() && !focused => {
                Span::styled(field.hint.to_string(), Style::new().fg(t.dim))
            }
            Value::Text(input) => Span::raw(input.display(focused)),
            Value::Toggle(on) => Span::raw(if *on { "[x]" } else { "[ ]" }),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{marker}{:>label_w$}: ", field.label), label_style),
            value,
        ]));
    }
    f.render_widget(
        Paragraph::new(lines),
        Rect {
            height: fields_h,
            ..inner
        },
    );
    if reason_h > 0 {
        let mut text = vec![Line::raw("")];
        text.extend(
            reason
                .into_iter()
                .map(|l| Line::styled(l, Style::new().fg(t.error))),
        );
        let reason_area = Rect {
            y: inner.y + fields_h,
            height: reason_h,
            ..inner
        };
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), reason_area);
    }
}
