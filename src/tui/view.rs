//! Rendering: a pure function of [`App`]. Lays out the header, the focused list, the logs and
//! shell panes and the status bar, then the popup on top.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::app::{App, Pane, Typing};
use super::keymap::{Action, Binding, Context};
use super::{panes, popups};

/// Smallest screen we draw anything but a notice on.
const MIN_W: u16 = 20;
const MIN_H: u16 = 5;

/// Where everything goes on a screen of `app.size`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub list: Option<Rect>,
    pub details: Option<Rect>,
    pub logs: Option<Rect>,
    pub shell: Option<Rect>,
    pub status: Rect,
}

/// Computes the layout.
pub fn areas(app: &App, area: Rect) -> Areas {
    let [header, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let mut a = Areas {
        header,
        status,
        ..Areas::default()
    };
    if app.shell_zoom && app.shell.is_some() {
        a.shell = Some(body);
        return a;
    }
    let wants_logs = matches!(app.pane, Pane::Containers | Pane::Logs)
        && (!app.logs.targets.is_empty() || app.shell.is_some());
    let right = if app.wide() {
        // Beside the details the list takes the room its rows want (up to 70%); beside the
        // logs, 45%.
        let wants_details = !wants_logs && app.pane != Pane::Logs;
        let min = body.width * 45 / 100;
        let list_w = match app.pane {
            Pane::Containers if wants_details => panes::containers::wanted(app),
            Pane::Images => panes::images::wanted(app),
            _ => min,
        }
        .clamp(min, body.width * 70 / 100);
        let [left, right] =
            Layout::horizontal([Constraint::Length(list_w), Constraint::Fill(1)]).areas(body);
        a.list = Some(left);
        if !wants_logs && app.pane != Pane::Logs {
            a.details = Some(right);
            return a;
        }
        right
    } else if app.pane == Pane::Logs {
        body
    } else {
        a.list = Some(body);
        return a;
    };
    match (&app.shell, app.logs.targets.is_empty()) {
        (Some(_), true) => a.shell = Some(right),
        (Some(_), false) => {
            let [top, bottom] = if right.width >= 160 {
                Layout::horizontal([Constraint::Percentage(50); 2]).areas(right)
            } else {
                Layout::vertical([Constraint::Percentage(50); 2]).areas(right)
            };
            a.logs = Some(top);
            a.shell = Some(bottom);
        }
        (None, _) => a.logs = Some(right),
    }
    a
}

/// The column where the right half starts on a wide screen.
pub fn split_column(app: &App) -> u16 {
    let area = Rect::new(0, 0, app.size.0, app.size.1);
    areas(app, area).list.map_or(0, |l| l.x + l.width)
}

/// Whether the details pane is on screen.
pub fn details_shown(app: &App) -> bool {
    let area = Rect::new(0, 0, app.size.0, app.size.1);
    areas(app, area).details.is_some()
}

/// Rows and columns inside the shell pane's border; `None` while the layout hides the pane
/// (another pane in front), so that its pty keeps the size it last had on screen.
pub fn shell_size(app: &App) -> Option<(u16, u16)> {
    let area = Rect::new(0, 0, app.size.0, app.size.1);
    let r = areas(app, area).shell?;
    Some((
        r.height.saturating_sub(2).max(1),
        r.width.saturating_sub(2).max(1),
    ))
}

/// Draws the whole screen.
pub fn view(app: &App, f: &mut Frame) {
    let area = f.area();
    if area.width < MIN_W || area.height < MIN_H {
        let msg = Paragraph::new(format!(
            "berth: {}×{} is too small",
            area.width, area.height
        ))
        .wrap(ratatui::widgets::Wrap { trim: true });
        f.render_widget(msg, area);
        return;
    }
    let a = areas(app, area);
    header(app, f, a.header);
    if let Some(r) = a.list {
        let focused = app.pane != Pane::Logs;
        match app.pane {
            Pane::Images => panes::images::render(app, f, r, focused),
            Pane::Volumes => panes::volumes::render(app, f, r, focused),
            Pane::Networks => panes::networks::render(app, f, r, focused),
            _ => panes::containers::render(app, f, r, focused),
        }
    }
    if let Some(r) = a.details {
        panes::details::render(app, f, r);
    }
    if let Some(r) = a.logs {
        let shell_focused = app.shell.as_ref().is_some_and(|s| s.focused);
        panes::logs::render(app, f, r, app.pane == Pane::Logs && !shell_focused);
    }
    if let (Some(r), Some(shell)) = (a.shell, &app.shell) {
        panes::shell::render(app, shell, f, r);
    }
    status_bar(app, f, a.status);
    if let Some(p) = &app.popup {
        popups::render(app, p, f, area);
    }
}

fn header(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mut spans = vec![Span::styled(
        " berth ",
        Style::new().fg(t.accent).add_modifier(Modifier::BOLD),
    )];
    let counts = [
        Some(app.containers.items.len()),
        Some(app.images.items.len()),
        Some(app.volumes.items.len()),
        None,
        Some(app.networks.items.len()),
    ];
    for (i, pane) in Pane::ALL.iter().enumerate() {
        let label = match counts.get(i) {
            Some(Some(n)) if area.width >= 70 => format!(" {} {} {n} ", i + 1, pane.title()),
            _ if area.width >= 64 => format!(" {} {} ", i + 1, pane.title()),
            _ => format!(" {}{} ", i + 1, &pane.title()[..1]),
        };
        let style = if *pane == app.pane {
            t.selected().fg(t.accent)
        } else {
            Style::new().fg(t.dim)
        };
        spans.push(Span::styled(label, style));
    }
    let mut right = Vec::new();
    let active: Vec<_> = app.pulls.values().filter(|p| p.result.is_none()).collect();
    if let Some(p) = active.first() {
        let (done, total) = p.bytes();
        let pct = (done * 100).checked_div(total).unwrap_or(0);
        right.push(format!(
            "pulling {} {pct}%",
            super::format::ellipsize(&p.image, 30)
        ));
    }
    if !app.mouse {
        right.push("mouse off".to_string());
    }
    let left_w: usize = spans.iter().map(|s| s.width()).sum();
    let right_text = right.join(" · ");
    let room = usize::from(area.width).saturating_sub(left_w + 1);
    if !right_text.is_empty() && right_text.chars().count() < room {
        let pad = room - right_text.chars().count();
        spans.push(Span::raw(" ".repeat(pad)));
        spans.push(Span::styled(right_text, Style::new().fg(t.dim)));
    }
    f.render_widget(Line::from(spans), area);
}

fn status_bar(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    if let Some(s) = &app.status {
        let style = if s.error {
            Style::new().fg(t.error).add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(t.ok)
        };
        f.render_widget(Line::styled(format!(" {}", s.text), style), area);
        return;
    }
    let hints: Vec<(String, &str)> = if app.popup.is_some() {
        Vec::new()
    } else if app.typing.is_some() {
        let what = match app.typing {
            Some(Typing::LogSearch) => "search",
            _ => "filter",
        };
        vec![
            ("Enter".into(), "keep"),
            ("Esc".into(), "clear"),
            ("↑↓".into(), "move"),
            ("".into(), what),
        ]
    } else if app
        .shell
        .as_ref()
        .is_some_and(|s| s.focused && s.ended.is_none())
    {
        vec![("C-]".into(), "leave the shell (keys go to the shell)")]
    } else {
        // Help and quit first, then the most specific context's keys.
        let contexts: &[Context] = app.contexts();
        let first = [Action::Help, Action::Quit];
        let mut order: Vec<&Binding> = app
            .keymap
            .bindings
            .iter()
            .filter(|b| first.contains(&b.action))
            .collect();
        for ctx in contexts {
            order.extend(
                app.keymap
                    .bindings
                    .iter()
                    .filter(|b| b.context == *ctx && !first.contains(&b.action)),
            );
        }
        // Each binding with the first of its keys that does that action here (a key a more
        // specific context takes, like `n` in the logs, is not advertised for the other);
        // each key and each label once.
        let mut v: Vec<(String, &str)> = Vec::new();
        for b in order {
            let Some(short) = b.short else { continue };
            if !app.applies(b.action) {
                continue;
            }
            let key = b
                .keys
                .iter()
                .find(|k| app.keymap.action(contexts, **k) == Some(b.action));
            let Some(key) = key.map(|k| k.label()) else {
                continue;
            };
            if !v.iter().any(|(k, s)| *k == key || *s == short) {
                v.push((key, short));
            }
        }
        v
    };
    let mut spans = Vec::new();
    let mut width = 0usize;
    for (key, what) in hints {
        let piece = if key.is_empty() {
            format!(" {what} ")
        } else {
            format!(" {key} {what} ")
        };
        width += piece.chars().count();
        if width > usize::from(area.width) {
            break;
        }
        if !key.is_empty() {
            spans.push(Span::styled(
                format!(" {key}"),
                Style::new().fg(t.accent).add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::styled(format!(" {what} "), Style::new().fg(t.dim)));
        } else {
            spans.push(Span::styled(format!(" {what} "), Style::new().fg(t.dim)));
        }
    }
    f.render_widget(Line::from(spans), area);
}
