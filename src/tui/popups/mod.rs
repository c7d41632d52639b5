//! Dialogs drawn over the panes.

pub mod build;
pub mod confirm;
pub mod disk_usage;
pub mod form;
pub mod help;
pub mod inspect;
pub mod layers;
pub mod message;
pub mod pull;
pub mod run_form;

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear};
use ratatui::Frame;

use super::app::App;
use super::popup::Popup;
use super::theme::Theme;

/// Draws the open dialog.
pub fn render(app: &App, popup: &Popup, f: &mut Frame, area: Rect) {
    match popup {
        Popup::Help { scroll } => help::render(app, *scroll, f, area),
        Popup::Confirm(c) => confirm::render(app, c, f, area),
        Popup::Pull(p) => pull::render(app, p, f, area),
        Popup::Run(r) => run_form::render(app, r, f, area),
        Popup::Inspect(i) => inspect::render(app, i, f, area),
        Popup::Message(m) => message::render(app, m, f, area),
        Popup::Prompt(p) => message::render_prompt(app, p, f, area),
        Popup::Form(form) => form::render(app, form, f, area),
        Popup::Build => build::render(app, f, area),
        Popup::Layers => layers::render(app, f, area),
        Popup::DiskUsage => disk_usage::render(app, f, area),
        Popup::Push(image) => pull::render_progress(
            app,
            &format!("Push {image}"),
            app.pushes.get(image),
            f,
            area,
            true,
        ),
    }
}

/// A `w`×`h` box centred in `area`, shrunk to fit.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Clears `rect`, draws a bordered box with `title` and a key hint at the bottom, and returns
/// the inside.
pub fn frame(
    f: &mut Frame,
    rect: Rect,
    theme: &Theme,
    title: &str,
    hint: &str,
    error: bool,
) -> Rect {
    let colour = if error { theme.error } else { theme.accent };
    let mut b = Block::bordered()
        .border_style(Style::new().fg(colour))
        .title(Span::styled(
            format!(" {title} "),
            Style::new().fg(colour).add_modifier(Modifier::BOLD),
        ));
    if !hint.is_empty() {
        b = b.title_bottom(
            Line::styled(format!(" {hint} "), Style::new().fg(theme.dim)).right_aligned(),
        );
    }
    let inner = b.inner(rect);
    f.render_widget(Clear, rect);
    f.render_widget(b, rect);
    inner
}
