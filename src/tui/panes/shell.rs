//! The shell pane: the embedded terminal of an exec or attach session.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::Frame;
use tui_term::widget::PseudoTerminal;

use super::block;
use crate::tui::app::App;
use crate::tui::shell::ShellPane;

pub fn render(app: &App, shell: &ShellPane, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let what = if shell.attach { "Attach" } else { "Shell" };
    let state = match &shell.ended {
        Some(None) => " (exited; Esc closes)".to_string(),
        Some(Some(_)) => " (failed; Esc closes)".to_string(),
        None if shell.focused => " (C-] leaves)".to_string(),
        None => format!(
            " ({} to type)",
            app.keymap.key_label(crate::tui::keymap::Action::Shell)
        ),
    };
    let more = match app.shells_back.len() {
        0 => String::new(),
        n => format!(
            " · {n} more ({} next)",
            app.keymap.key_label(crate::tui::keymap::Action::NextShell)
        ),
    };
    let title = Line::styled(
        format!(" {what}: {}{state}{more} ", shell.title),
        Style::new().add_modifier(Modifier::BOLD),
    );
    let b = block(t, title, shell.focused);
    let mut cursor = tui_term::widget::Cursor::default();
    if !shell.focused || shell.ended.is_some() {
        cursor.hide();
    }
    let term = PseudoTerminal::new(shell.parser.screen())
        .block(b)
        .cursor(cursor);
    f.render_widget(term, area);
}
