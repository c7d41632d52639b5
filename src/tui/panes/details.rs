//! The right half on wide screens when no logs are shown: details of the selected row.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::block;
use crate::tui::app::{App, Pane};
use crate::tui::details::Tab;
use crate::tui::format;
use crate::tui::keymap::Action;
use crate::tui::msg::Kind;

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
                "{} run it · {} layers · {} push · {} remove",
                key(Action::Run),
                key(Action::Layers),
                key(Action::Push),
                key(Action::Remove)
            )
        }
        Pane::Networks => {
            if let Some(n) = app.networks.selected_item() {
                rows.push(("Network", Span::raw(n.name.clone())));
                rows.push(("ID", Span::raw(format::short_id(&n.id).to_string())));
                rows.push(("Driver", Span::raw(n.driver.clone())));
                rows.push(("Subnet", Span::raw(n.subnet.clone())));
                rows.push(("Gateway", Span::raw(n.gateway.clone())));
                rows.push((
                    "Internal",
                    Span::raw(if n.internal {
                        "yes: no route out"
                    } else {
                        "no"
                    }),
                ));
                let attached = if n.containers.is_empty() {
                    "-".to_string()
                } else {
                    n.containers.join(", ")
                };
                rows.push(("Attached", Span::raw(attached)));
                let users = if n.users.is_empty() {
                    "-".to_string()
                } else {
                    n.users.join(", ")
                };
                rows.push(("Used by", Span::raw(users)));
                if let Some(c) = n.created {
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
                if let Some(h) = c.health {
                    rows.push(("Health", Span::styled(h.label(), t.health(h))));
                }
                rows.push(("Up/age", Span::raw(super::containers::age_text(c, now))));
                if c.restarts > 0 {
                    rows.push(("Restarts", Span::raw(c.restarts.to_string())));
                }
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
    let kind = crate::tui::details::selected(app).map_or(Kind::Container, |(k, _)| k);
    let tab = app.details.tab_for(kind);
    let mut title = vec![Span::raw(" ")];
    for (n, x) in Tab::all(kind).iter().enumerate() {
        if n > 0 {
            title.push(Span::styled(" · ", Style::new().fg(t.dim)));
        }
        if *x == tab {
            title.push(Span::styled(
                x.title(),
                Style::new().fg(t.accent).add_modifier(Modifier::BOLD),
            ));
        } else {
            title.push(Span::raw(x.title()));
        }
    }
    title.push(Span::raw(" "));
    let b = block(t, Line::from(title), false);
    if tab == Tab::Graphs {
        let inner = b.inner(area);
        f.render_widget(b, area);
        let hint = format!("{hint} · {} next tab", key(Action::DetailsTab));
        return super::graphs::render(app, f, inner, hint);
    }
    let mut lines: Vec<Line> = if tab == Tab::Summary {
        rows.into_iter()
            .map(|(k, v)| {
                Line::from(vec![
                    Span::styled(format!("{k:>10}  "), Style::new().fg(t.dim)),
                    v,
                ])
            })
            .collect()
    } else {
        tab_lines(app, kind, tab)
    };
    if lines.is_empty() {
        lines.push(Line::styled("nothing selected", Style::new().fg(t.dim)));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("{hint} · {} next tab", key(Action::DetailsTab)),
        Style::new().fg(t.dim),
    ));
    f.render_widget(
        Paragraph::new(lines).block(b).wrap(Wrap { trim: false }),
        area,
    );
}

/// The lines of a data tab: loading, the error, or its rows.
fn tab_lines(app: &App, kind: Kind, tab: Tab) -> Vec<Line<'static>> {
    let t = &app.theme;
    let dim = Style::new().fg(t.dim);
    if crate::tui::details::selected(app).is_none() {
        return Vec::new();
    }
    if tab == Tab::Processes || tab == Tab::History {
        return match &app.details.top {
            None => vec![Line::styled("loading…", dim)],
            Some(Err(e)) => vec![Line::styled(e.clone(), Style::new().fg(t.error))],
            Some(Ok(rows)) => process_lines(rows, dim),
        };
    }
    let v = match &app.details.data {
        None => return vec![Line::styled("loading…", dim)],
        Some(Err(e)) => return vec![Line::styled(e.clone(), Style::new().fg(t.error))],
        Some(Ok(v)) => v,
    };
    let rows = crate::tui::details::rows(tab, kind, v);
    if rows.is_empty() {
        return vec![Line::styled(
            format!("no {}", tab.title().to_lowercase()),
            dim,
        )];
    }
    let w = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .min(28);
    rows.into_iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:<w$}  "), Style::new().fg(t.accent)),
                Span::raw(v),
            ])
        })
        .collect()
}

/// A process table with columns as wide as their widest cell (the command takes the rest).
fn process_lines(rows: &[Vec<String>], dim: Style) -> Vec<Line<'static>> {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |x| x.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .enumerate()
        .map(|(n, r)| {
            let text = r
                .iter()
                .enumerate()
                .map(|(c, x)| {
                    if c + 1 == cols {
                        x.clone()
                    } else {
                        format!("{x:>w$}", w = widths[c])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ");
            if n == 0 {
                Line::styled(text, dim)
            } else {
                Line::raw(text)
            }
        })
        .collect()
}
