//! The run form: image, name, command, env, volumes, ports, network, workdir, user, memory,
//! CPUs, restart policy, detach, remove, terminal.

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
    let want = RunForm::FIELDS as u16
        + 2
        + if reason.is_empty() {
            0
        } else {
            1 + reason.len() as u16
        };
    let rect = centered(area, 76, want.min(area.height));
    let inner = frame(
        f,
        rect,
        t,
        "Run a container",
        "Tab move · Space toggle · Enter run · Esc cancel",
        false,
    );
    // The reason always shows; the fields scroll to keep the focused one in view when the
    // screen is too short for all of them.
    let reason_h = if reason.is_empty() {
        0
    } else {
        (1 + reason.len() as u16).min(inner.height.saturating_sub(1))
    };
    let fields_h = inner.height.saturating_sub(reason_h).max(1);
    let shown = usize::from(fields_h);
    let top = (form.focus + 1).saturating_sub(shown);
    let mut lines = Vec::new();
    for (i, label) in RunForm::LABELS.iter().enumerate().skip(top).take(shown) {
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
                let on = match i {
                    RunForm::DETACH => form.detach,
                    RunForm::REMOVE => form.remove,
                    _ => form.tty,
                };
                Span::raw(if on { "[x]" } else { "[ ]" })
            }
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{marker}{label:>15}: "), label_style),
            value,
        ]));
    }
    let fields_area = Rect {
        height: fields_h,
        ..inner
    };
    f.render_widget(Paragraph::new(lines), fields_area);
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
