//! The logs pane: the followed container's lines (or several merged, each in its colour),
//! stdout and stderr apart, ANSI colours kept, search matches highlighted, optional
//! timestamps and wrapping. Draws only the lines that fit, walking from the bottom up.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthChar;

use super::block;
use crate::tui::ansi;
use crate::tui::app::{App, Typing};
use crate::tui::keymap::Action;
use crate::tui::model::Stream;

pub fn render(app: &App, f: &mut Frame, area: Rect, focused: bool) {
    let t = &app.theme;
    let logs = &app.logs;
    let merged = logs.targets.len() > 1;
    let mut title = vec![Span::styled(
        " Logs ",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    for (i, id) in logs.targets.iter().enumerate() {
        let style = if merged {
            Style::new().fg(t.container_colour(i))
        } else {
            Style::new()
        };
        title.push(Span::styled(format!("{} ", app.container_name(id)), style));
    }
    let mut b = block(t, Line::from(title), focused);
    let mut flags = vec![if logs.anchor.is_some() {
        "scrolled"
    } else {
        "follow"
    }
    .to_string()];
    flags.push(logs.tail.label());
    if logs.since != crate::tui::logview::Since::All {
        flags.push(logs.since.label());
    }
    if logs.timestamps {
        flags.push("UTC".into());
    }
    if logs.wrap {
        flags.push("wrap".into());
    }
    if area.width >= 50 {
        b = b.title(
            Line::styled(format!(" {} ", flags.join(" · ")), Style::new().fg(t.dim))
                .right_aligned(),
        );
    }
    let mut bottom = Vec::new();
    let typing = app.typing;
    if typing == Some(Typing::LogSearch) || !logs.search.text.is_empty() {
        let text = logs.search.display(typing == Some(Typing::LogSearch));
        bottom.push(Span::styled(
            format!(" /{text} "),
            Style::new().fg(t.accent),
        ));
    }
    if typing == Some(Typing::LogFilter) || !logs.filter.text.is_empty() {
        let text = logs.filter.display(typing == Some(Typing::LogFilter));
        bottom.push(Span::styled(
            format!(" filter: {text} "),
            Style::new().fg(t.marked),
        ));
    }
    for (id, err) in &logs.ended {
        if let Some(e) = err {
            bottom.push(Span::styled(
                format!(" {}: {e} ", app.container_name(id)),
                Style::new().fg(t.error),
            ));
        }
    }
    if !bottom.is_empty() {
        b = b.title_bottom(Line::from(bottom));
    }
    let inner = b.inner(area);
    f.render_widget(b, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if logs.targets.is_empty() {
        let hint = format!(
            "Select a container and press {} to follow its logs; mark several with {} for a merged view.",
            app.keymap.key_label(Action::Open),
            app.keymap.key_label(Action::Mark)
        );
        let p =
            Paragraph::new(Line::styled(hint, Style::new().fg(t.dim))).wrap(Wrap { trim: true });
        f.render_widget(p, inner);
        return;
    }
    let width = usize::from(inner.width);
    let height = usize::from(inner.height);
    let names: Vec<String> = logs
        .targets
        .iter()
        .map(|id| crate::tui::format::ellipsize(&app.container_name(id), 12))
        .collect();
    let name_w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let mut rows: Vec<Line> = Vec::with_capacity(height);
    for (idx, e) in logs.shown() {
        let mut spans = Vec::new();
        if logs.timestamps {
            spans.push(Span::styled(
                e.time.format("%H:%M:%S%.3f ").to_string(),
                Style::new().fg(t.dim),
            ));
        }
        if merged {
            spans.push(Span::styled(
                format!("{:<name_w$} │ ", names[idx]),
                Style::new().fg(t.container_colour(idx)),
            ));
        }
        let base = match e.stream {
            Stream::Stdout => Style::new(),
            Stream::Stderr => t.stderr_style(),
        };
        let mut styled = ansi::parse(e.text, base, !t.no_color);
        if let Some(re) = &logs.search_re {
            let plain = styled.plain();
            let ranges: Vec<(usize, usize)> =
                re.find_iter(&plain).map(|m| (m.start(), m.end())).collect();
            styled = styled.highlight(&ranges, t.search_match());
        }
        spans.extend(styled.runs.into_iter().map(|(s, st)| Span::styled(s, st)));
        let current = logs.current == Some(e.key());
        let mut lines = if logs.wrap {
            wrap(spans, width)
        } else {
            vec![Line::from(spans)]
        };
        if current {
            for l in &mut lines {
                l.style = t.selected();
            }
        }
        for l in lines.into_iter().rev() {
            rows.push(l);
        }
        if rows.len() >= height {
            break;
        }
    }
    if rows.is_empty() {
        let text = if logs.filter_re.is_some() {
            "no line matches the filter".to_string()
        } else if logs.follows.is_empty() && !logs.ended.is_empty() {
            "no log lines (the follow ended)".to_string()
        } else {
            "waiting for output…".to_string()
        };
        f.render_widget(
            Paragraph::new(Line::styled(text, Style::new().fg(t.dim))),
            inner,
        );
        return;
    }
    rows.truncate(height);
    rows.reverse();
    // Fewer lines than rows: from the top, as a new terminal fills (not at the bottom of an
    // empty pane).
    f.render_widget(Paragraph::new(rows), inner);
}

/// Hard-wraps styled text at `width` columns.
fn wrap(spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width && used > 0 {
                if !piece.is_empty() {
                    cur.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                lines.push(Line::from(std::mem::take(&mut cur)));
                used = 0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            cur.push(Span::styled(piece, span.style));
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(Line::from(cur));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_width_keeping_styles() {
        let red = Style::new().fg(ratatui::style::Color::Red);
        let lines = wrap(vec![Span::raw("abcd"), Span::styled("efg", red)], 3);
        let texts: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(texts, ["abc", "def", "g"]);
        assert_eq!(lines[1].spans[1].style, red);
        assert_eq!(wrap(vec![Span::raw("日本語")], 4).len(), 2);
        assert_eq!(wrap(vec![], 4).len(), 1);
    }
}
