//! The right half on wide screens when no logs are shown: details of the selected row.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::block;
use crate::tui::app::{App, Pane};
use crate::tui::format;
use crate::tui::keymap::Action;

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mut rows: Vec<(&str, Span<'static>)> = Vec::new();
    let now = app.now;
    let key = |a: Action| app.keymap.key_label(a);
    let hint = match app.pane {
        Pane::Images => {
            if let Some(i) = app.images.selected_item() {
                rows.push(("Image", Span::raw(i.reference.clone())));
                let id_w = usize::from(area.width).saturating_sub(14);
                let id = if i.id.len() <= id_w {
                    i.id.as_str()
                } else {
                    format::short_id(&i.id)
                };
                rows.push(("ID", Span::raw(id.to_string())));
                rows.push(("Size", Span::raw(format::size(i.size))));
                if let Some(c) = i.created {
                    rows.push(("Created", Span::raw(format::ago(c, now))));
                }
                rows.push(("Containers", Span::raw(i.containers.to_string())));
            }
            format!(
                "{} run it · {} details · {} remove",
                key(Action::Run),
                key(Action::Open),
                key(Action::Remove)
            )
        }
        Pane::Volumes => {
            if let Some(v) = app.volumes.selected_item() {
                rows.push(("Volume", Span::raw(v.name.clone())));
                rows.push((
                    "Size",
                    Span::raw(v.size.map(format::size).unwrap_or_else(|| "?".into())),
                ));
                let used = if v.used_by.is_empty() {
                    "-".to_string()
                } else {
                    v.used_by.join(", ")
                };
                rows.push(("Used by", Span::raw(used)));
                if let Some(c) = v.created {
                    rows.push(("Created", Span::raw(format::ago(c, now))));
                }
            }
            format!(
                "{} details · {} remove · {} create",
                key(Action::Open),
                key(Action::Remove),
                key(Action::CreateVolume)
            )
        }
        _ => {
            if let Some(c) = app.containers.selected_item() {
                rows.push(("Name", Span::raw(c.name.clone())));
                let id_w = usize::from(area.width).saturating_sub(14);
                let id = if c.id.len() <= id_w {
                    c.id.as_str()
                } else {
                    format::short_id(&c.id)
                };
                rows.push(("ID", Span::raw(id.to_string())));
                rows.push(("Image", Span::raw(c.image.clone())));
                rows.push(("Command", Span::raw(c.command.clone())));
                rows.push((
                    "Status",
                    Span::styled(
                        super::containers::status_text(c),
                        t.state(c.state, c.exit_code),
                    ),
                ));
                rows.push(("Up/age", Span::raw(super::containers::age_text(c, now))));
                rows.push(("Created", Span::raw(format::ago(c.created, now))));
                if !c.ports.is_empty() {
                    rows.push(("Ports", Span::raw(c.ports.clone())));
                }
            }
            format!(
                "{} follow logs · {} start/stop · {} shell · {} inspect",
                key(Action::Open),
                key(Action::StartStop),
                key(Action::Shell),
                key(Action::Inspect)
            )
        }
    };
    let b = block(
        t,
        Line::styled(" Details ", Style::new().add_modifier(Modifier::BOLD)),
        false,
    );
    let mut lines: Vec<Line> = rows
        .into_iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:>10}  "), Style::new().fg(t.dim)),
                v,
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled("nothing selected", Style::new().fg(t.dim)));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(hint, Style::new().fg(t.dim)));
    f.render_widget(
        Paragraph::new(lines).block(b).wrap(Wrap { trim: false }),
        area,
    );
}
