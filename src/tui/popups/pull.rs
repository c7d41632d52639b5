//! The pull dialog: a reference to type, then per-layer progress bars from the engine's
//! progress events.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{centered, frame};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::popup::PullDialog;

/// `████░░░░` of `width` cells for `done` of `total`.
pub fn bar(done: u64, total: u64, width: usize) -> String {
    let filled = if total == 0 {
        0
    } else {
        ((done.min(total) as f64 / total as f64) * width as f64).round() as usize
    };
    format!(
        "{}{}",
        "█".repeat(filled),
        "░".repeat(width - filled.min(width))
    )
}

pub fn render(app: &App, d: &PullDialog, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(image) = &d.image else {
        let rect = centered(area, 70, if d.error.is_some() { 6 } else { 5 });
        let inner = frame(f, rect, t, "Pull image", "Enter pull · Esc cancel", false);
        let mut lines = vec![
            Line::from(vec![
                Span::styled("Image: ", Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(d.input.display(true)),
            ]),
            Line::styled(
                "e.g. busybox, alpine:3.20, 127.0.0.1:5000/team/app:1",
                Style::new().fg(t.dim),
            ),
        ];
        if let Some(e) = &d.error {
            lines.push(Line::styled(e.clone(), Style::new().fg(t.error)));
        }
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        return;
    };
    render_progress(
        app,
        &format!("Pull {image}"),
        app.pulls.get(image),
        f,
        area,
        false,
    );
}

/// The progress of a pull (or, with `push`, a push) of one image: a line a layer with its
/// state and a bar, the result at the top, the whole reason of a failure at the bottom.
pub fn render_progress(
    app: &App,
    title: &str,
    progress: Option<&crate::tui::app::PullProgress>,
    f: &mut Frame,
    area: Rect,
    push: bool,
) {
    let t = &app.theme;
    let layers = progress.map(|p| p.layers.as_slice()).unwrap_or_default();
    // The whole reason of a failure, wrapped inside the box's 88 columns.
    let reason = match progress.and_then(|p| p.result.as_ref()) {
        Some(Err(e)) => super::message::wrap(e, usize::from(area.width.min(90)).saturating_sub(2)),
        _ => Vec::new(),
    };
    let extra = 4 + reason.len() as u16;
    let h = (layers.len() as u16).saturating_add(extra).min(area.height);
    let rect = centered(area, 90, h);
    let result = progress.and_then(|p| p.result.as_ref());
    let inner = frame(
        f,
        rect,
        t,
        title,
        match (result.is_some(), push) {
            (true, _) => "Esc close",
            (false, false) => "Esc close (the pull goes on)",
            (false, true) => "Esc close (the push goes on)",
        },
        matches!(result, Some(Err(_))),
    );
    let w = usize::from(inner.width);
    // digest 13, state 19, amounts 20: drop the amounts, then shrink the bar, when narrow.
    let with_amounts = w >= 13 + 19 + 20 + 8;
    let fixed = if with_amounts { 13 + 19 + 20 } else { 13 + 19 };
    let bar_w = w.saturating_sub(fixed).min(40);
    let mut lines = Vec::new();
    let (done, total) = progress.map(|p| p.bytes()).unwrap_or((0, 0));
    let head = match result {
        None if layers.is_empty() && push => "reading the image…".to_string(),
        None if layers.is_empty() => "resolving the manifest…".to_string(),
        None => format!(
            "{} of {} layers done · {} / {}",
            layers.iter().filter(|l| l.finished).count(),
            layers.len(),
            format::size(done),
            format::size(total)
        ),
        Some(Ok(line)) if push => format!("done: {}", format::ellipsize(line, w.saturating_sub(6))),
        Some(Ok(id)) => format!(
            "done: {} ({} layer{})",
            format::short_id(id),
            layers.len(),
            if layers.len() == 1 { "" } else { "s" }
        ),
        Some(Err(_)) => "failed".to_string(),
    };
    let head_style = match result {
        Some(Ok(_)) => Style::new().fg(t.ok).add_modifier(Modifier::BOLD),
        Some(Err(_)) => Style::new().fg(t.error).add_modifier(Modifier::BOLD),
        None => Style::new().add_modifier(Modifier::BOLD),
    };
    lines.push(Line::styled(head, head_style));
    lines.push(Line::raw(""));
    for l in layers {
        let colour = if l.finished { t.ok } else { t.accent };
        let shown_done = if l.finished {
            l.total
        } else {
            l.done.min(l.total)
        };
        let amount = if l.total > 0 {
            format!(
                "{:>8} / {:<8}",
                format::size(shown_done),
                format::size(l.total)
            )
        } else {
            String::new()
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<12} ", format::short_id(&l.digest)),
                Style::new().fg(t.dim),
            ),
            Span::raw(format!("{:<18} ", format::ellipsize(&l.state, 18))),
            Span::styled(bar(shown_done, l.total, bar_w), Style::new().fg(colour)),
            Span::raw(if with_amounts {
                format!(" {amount}")
            } else {
                String::new()
            }),
        ]));
    }
    for l in reason {
        lines.push(Line::styled(l, Style::new().fg(t.error)));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

#[cfg(test)]
mod tests {
    #[test]
    fn bars_fill_in_proportion() {
        assert_eq!(super::bar(5, 10, 4), "██░░");
        assert_eq!(super::bar(20, 10, 4), "████");
        assert_eq!(super::bar(0, 0, 3), "░░░");
        assert_eq!(super::bar(1, 2, 0), "");
    }
}
