//! The help dialog, generated from the keymap so it always tells the truth.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{centered, frame};
use crate::tui::app::App;
use crate::tui::keymap::{Context, Key};

/// The help text, one line each.
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut out = Vec::new();
    for ctx in [
        Context::Global,
        Context::List,
        Context::Logs,
        Context::Popup,
    ] {
        out.push(Line::styled(
            ctx.title().to_string(),
            Style::new().fg(t.accent).add_modifier(Modifier::BOLD),
        ));
        for b in app.keymap.bindings.iter().filter(|b| b.context == ctx) {
            let keys = if b.keys.is_empty() {
                "(unbound)".to_string()
            } else {
                b.keys.iter().map(Key::label).collect::<Vec<_>>().join("/")
            };
            out.push(Line::from(vec![
                Span::styled(
                    format!("  {keys:<12}"),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(b.help.to_string()),
            ]));
        }
        out.push(Line::raw(""));
    }
    out.push(Line::styled(
        "Text fields".to_string(),
        Style::new().fg(t.accent).add_modifier(Modifier::BOLD),
    ));
    for (k, h) in [
        ("Enter", "keep / submit"),
        ("Esc", "cancel"),
        (
            "Tab/↑/↓",
            "next / previous field (lists: move while filtering)",
        ),
        ("C-u C-w", "clear / delete a word"),
        ("C-]", "shell pane: give the keyboard back to berth"),
    ] {
        out.push(Line::from(vec![
            Span::styled(
                format!("  {k:<12}"),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(h),
        ]));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        "Keys and colours can be changed in tui.toml in berth's config dir.".to_string(),
        Style::new().fg(t.dim),
    ));
    out
}

pub fn render(app: &App, scroll: usize, f: &mut Frame, area: Rect) {
    let rect = centered(area, 86, area.height.saturating_sub(2).max(10));
    let inner = frame(f, rect, &app.theme, "Help", "↑↓ scroll · Esc close", false);
    let all = lines(app);
    let max = all.len().saturating_sub(usize::from(inner.height));
    let top = scroll.min(max);
    let shown: Vec<Line> = all.into_iter().skip(top).collect();
    f.render_widget(Paragraph::new(shown), inner);
}
