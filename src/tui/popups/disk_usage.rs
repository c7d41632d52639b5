//! The system df view: docker's `system df` table (TYPE, TOTAL, ACTIVE, SIZE, RECLAIMABLE), the
//! selected row highlighted, its prune one key away.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{centered, frame};
use crate::tui::app::App;
use crate::tui::format::size;

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(d) = &app.disk else {
        return;
    };
    let rect = centered(area, 76, 11);
    let error = matches!(d.rows, Some(Err(_)));
    let inner = frame(
        f,
        rect,
        t,
        "Disk usage",
        "↑↓ select · X/Enter prune · r measure again · Esc close",
        error,
    );
    let dim = Style::new().fg(t.dim);
    let rows = match &d.rows {
        None => {
            f.render_widget(Paragraph::new(Line::styled("measuring…", dim)), inner);
            return;
        }
        Some(Err(e)) => {
            f.render_widget(
                Paragraph::new(Line::styled(e.clone(), Style::new().fg(t.error)))
                    .wrap(Wrap { trim: false }),
                inner,
            );
            return;
        }
        Some(Ok(rows)) => rows,
    };
    let cell = |what: &str, total: &str, active: &str, sz: &str, rec: &str| {
        format!(" {what:<14}{total:>6}{active:>8}{sz:>11}  {rec}")
    };
    let mut lines = vec![Line::styled(
        cell("TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"),
        dim,
    )];
    for (n, r) in rows.iter().enumerate() {
        // Docker's cell: the size, with its share of the total when there is one.
        let rec = match (r.reclaimable * 100).checked_div(r.size) {
            Some(share) => format!("{} ({share}%)", size(r.reclaimable)),
            None => size(r.reclaimable),
        };
        let text = cell(
            r.what.title(),
            &r.total.to_string(),
            &r.active.to_string(),
            &size(r.size),
            &rec,
        );
        let style = if n == d.selected {
            Style::new().bg(t.selected_bg).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        let w = usize::from(inner.width);
        lines.push(Line::styled(format!("{text:<w$}"), style));
    }
    let total: u64 = rows.iter().map(|r| r.reclaimable).sum();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(" {} reclaimable in all", size(total)),
        dim,
    ));
    f.render_widget(Paragraph::new(lines), inner);
}
