//! The run form: image, name, command, env, volumes, ports, network, detach, remove.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{centered, frame};
use crate::tui::app::App;
use crate::tui::popup::RunForm;

pub fn render(app: &App, form: &RunForm, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    // The whole reason of a failure, wrapped inside the box.
    let reason = form
        .error
        .as_deref()
        .map(|e| super::message::wrap(e, usize::from(area.width.min(76)).saturating_sub(2)))
        .unwrap_or_default();
    let h = 11
        + if reason.is_empty() {
            0
        } else {
            1 + reason.len() as u16
        };
    let rect = centered(area, 76, h);
    let inner = frame(
        f,
        rect,
        t,
        "Run a container",
        "Tab move · Space toggle · Enter run · Esc cancel",
        false,
    );
    let mut lines = Vec::new();
    for (i, label) in RunForm::LABELS.iter().enumerate() {
        let focused = form.focus == i;
        let label_style = if focused {
            Style::new().fg(t.accent).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        };
        let marker = if focused { "›" } else { " " };
        let value = match form.fields.get(i) {
            Some(input) if input.text.is_empty() && !focused => {
                Span::styled(RunForm::HINTS[i].to_string(), Style::new().fg(t.dim))
            }
            Some(input) => Span::raw(input.display(focused)),
            None => {
                let on = if i == RunForm::DETACH {
                    form.detach
                } else {
                    form.remove
                };
                Span::raw(if on { "[x]" } else { "[ ]" })
            }
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{marker}{label:>15}: "), label_style),
            value,
        ]));
    }
    if !reason.is_empty() {
        lines.push(Line::raw(""));
    }
    for l in reason {
        lines.push(Line::styled(l, Style::new().fg(t.error)));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
