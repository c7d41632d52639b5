//! Message dialogs (errors that must be read) and one-line prompts.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

#[cfg(test)]
#[test]
fn wraps_at_words_and_cuts_long_words() {
    assert_eq!(wrap("ab cd ef", 5), ["ab cd", "ef"]);
    assert_eq!(wrap("abcdefgh x", 3), ["abc", "def", "gh", "x"]);
    assert_eq!(wrap("a\n\nb", 10), ["a", "", "b"]);
    let long = "cannot pull 127.0.0.1:1/x:1: error sending request for url (http://127.0.0.1:1/v2/): Connection refused";
    let joined = wrap(long, 30).join(" ");
    assert!(joined.contains("Connection refused"), "{joined}");
}
use ratatui::Frame;

use super::{centered, frame};
use crate::tui::app::App;
use crate::tui::popup::{Message, Prompt};

/// A message box: as wide as the text wants (up to 100 columns), its lines wrapped at words,
/// as tall as the screen allows and scrollable (↑↓, PgUp/PgDn) past that.
pub fn render(app: &App, m: &Message, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let longest = m.text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let width = (longest as u16)
        .saturating_add(4)
        .clamp(40, 100)
        .min(area.width);
    let text_w = usize::from(width.saturating_sub(2)).max(1);
    let lines = wrap(&m.text, text_w);
    let room = usize::from(area.height.saturating_sub(4)).max(1);
    let visible = lines.len().clamp(1, room);
    let scroll = m.scroll.min(lines.len().saturating_sub(visible));
    let hint = if lines.len() > visible {
        format!(
            "{}-{}/{} ↑↓ scroll · Enter/Esc close",
            scroll + 1,
            scroll + visible,
            lines.len()
        )
    } else {
        "Enter/Esc close".to_string()
    };
    let rect = centered(area, width, (visible as u16).saturating_add(2));
    let inner = frame(f, rect, t, &m.title, &hint, m.error);
    let style = if m.error {
        Style::new().fg(t.error)
    } else {
        Style::new()
    };
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(scroll)
        .take(visible)
        .map(|l| Line::styled(l, style))
        .collect();
    f.render_widget(Paragraph::new(shown), inner);
}

/// Wraps `text` at spaces to lines of at most `width` characters; a longer word (a URL, a
/// digest) is cut across lines rather than lost.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        let mut len = 0usize;
        for word in para.split(' ') {
            let mut word: Vec<char> = word.chars().collect();
            let sep = usize::from(len > 0);
            if len + sep + word.len() > width && len > 0 {
                out.push(std::mem::take(&mut line));
                len = 0;
            } else if sep == 1 {
                line.push(' ');
                len += 1;
            }
            while word.len() > width - len {
                let rest = word.split_off(width - len);
                line.extend(word);
                out.push(std::mem::take(&mut line));
                len = 0;
                word = rest;
            }
            len += word.len();
            line.extend(word);
        }
        out.push(line);
    }
    out
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
