//! The build view: what is built and how it ended, the steps with a status each, and the
//! output (the end, or scrolled back).

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{centered, frame};
use crate::tui::app::App;
use crate::tui::build_view::StepStatus;
use crate::tui::format;

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(b) = &app.build else {
        return;
    };
    let rect = centered(
        area,
        area.width.min(120),
        area.height.saturating_sub(2).max(5),
    );
    let hint = if b.running() && !b.cancelling {
        "↑↓ PgUp PgDn scroll · G follow · Esc cancel the build · q close (it goes on; B shows it)"
    } else if b.running() {
        "↑↓ PgUp PgDn scroll · G follow · q close"
    } else {
        "↑↓ PgUp PgDn scroll · Esc close · B build again"
    };
    let failed = matches!(b.result, Some(Err(_)));
    let inner = frame(f, rect, t, &format!("Build {}", b.title), hint, failed);
    let w = usize::from(inner.width);
    let mut lines = Vec::new();
    match &b.result {
        None => lines.push(Line::styled(
            format!(
                "{}… step {} of {}",
                if b.cancelling {
                    "cancelling"
                } else {
                    "building"
                },
                b.steps.last().map_or(0, |s| s.n),
                b.steps.last().map_or(0, |s| s.total)
            ),
            Style::new().add_modifier(Modifier::BOLD),
        )),
        Some(Ok(id)) => lines.push(Line::styled(
            format!("built {}", format::short_id(id)),
            Style::new().fg(t.ok).add_modifier(Modifier::BOLD),
        )),
        Some(Err(e)) => {
            for (i, l) in super::message::wrap(e, w).into_iter().enumerate() {
                let l = if i == 0 { format!("failed: {l}") } else { l };
                lines.push(Line::styled(
                    l,
                    Style::new().fg(t.error).add_modifier(Modifier::BOLD),
                ));
            }
        }
    }
    // The steps: the last ones when there are more than a third of the box holds.
    let room = usize::from(inner.height / 3).max(1);
    let skip = b.steps.len().saturating_sub(room);
    for s in b.steps.iter().skip(skip) {
        let (mark, colour) = match s.status {
            StepStatus::Running => ("▶", t.accent),
            StepStatus::Cached => ("≡", t.dim),
            StepStatus::Done => ("✓", t.ok),
            StepStatus::Failed => ("✗", t.error),
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{mark} {:>7} ", s.status.label()),
                Style::new().fg(colour),
            ),
            Span::styled(
                format!("{:>2}/{:<2} ", s.n, s.total),
                Style::new().fg(t.dim),
            ),
            Span::raw(format::ellipsize(&s.text, w.saturating_sub(20))),
        ]));
    }
    lines.push(Line::styled("─".repeat(w), Style::new().fg(t.dim)));
    let out_h = usize::from(inner.height).saturating_sub(lines.len());
    let total = b.lines.len();
    let back = b.back.min(total.saturating_sub(out_h));
    let end = total - back;
    let start = end.saturating_sub(out_h);
    for l in b.lines.range(start..end) {
        let style = if l.starts_with("Step ") {
            Style::new().fg(t.accent).add_modifier(Modifier::BOLD)
        } else if l.starts_with(" ---> ") {
            Style::new().fg(t.dim)
        } else {
            Style::new()
        };
        lines.push(Line::styled(format::ellipsize(l, w), style));
    }
    f.render_widget(Paragraph::new(lines), inner);
}
