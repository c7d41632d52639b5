//! The details pane's Graphs tab: the selected container's CPU, memory, network and block I/O
//! over the last minutes, one sparkline each (newest on the right), from the samples the stats
//! poller keeps (`tui::graphs`).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};
use ratatui::Frame;

use crate::tui::app::App;
use crate::tui::format;
use crate::tui::graphs::Point;
use crate::tui::model::ContainerState;

/// A figure of a point.
type Figure = fn(&Point) -> u64;

/// One graph: its title and value of a point, and how a value reads.
struct Series {
    title: &'static str,
    value: Figure,
    /// A second figure for the title (sent, written).
    other: Option<(&'static str, Figure)>,
    show: fn(u64) -> String,
}

fn percent(hundredths: u64) -> String {
    format!("{}.{:02} %", hundredths / 100, hundredths % 100)
}

fn per_second(bytes: u64) -> String {
    format!("{}/s", format::size(bytes))
}

const SERIES: [Series; 4] = [
    Series {
        title: "CPU",
        value: |p| p.cpu,
        other: None,
        show: percent,
    },
    Series {
        title: "MEM",
        value: |p| p.memory,
        other: None,
        show: format::size,
    },
    Series {
        title: "NET in",
        value: |p| p.net_rx,
        other: Some(("out", |p| p.net_tx)),
        show: per_second,
    },
    Series {
        title: "BLOCK read",
        value: |p| p.block_read,
        other: Some(("write", |p| p.block_write)),
        show: per_second,
    },
];

/// Draws the graphs of the selected container into `area`, with `hint` on the last line.
pub fn render(app: &App, f: &mut Frame, area: Rect, hint: String) {
    let t = &app.theme;
    let dim = Style::new().fg(t.dim);
    let [body, _, foot] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(Line::styled(hint, dim)), foot);
    let say = |f: &mut Frame, text: &str| {
        f.render_widget(Paragraph::new(Line::styled(text.to_string(), dim)), body)
    };
    let Some(c) = app.containers.selected_item() else {
        return say(f, "nothing selected");
    };
    let points = app.graphs.get(&c.id).map(|h| &h.points);
    let Some(points) = points.filter(|p| !p.is_empty()) else {
        return say(
            f,
            if c.state == ContainerState::Running {
                "collecting samples (one a second while the containers pane shows it)…"
            } else {
                "graphs show running containers"
            },
        );
    };
    // The newest points that fit the width.
    let width = usize::from(body.width.max(1));
    let shown: Vec<&Point> = points
        .iter()
        .skip(points.len().saturating_sub(width))
        .collect();
    let span = shown
        .first()
        .zip(shown.last())
        .map_or(0, |(a, b)| (b.at - a.at).num_seconds());
    let rows = Layout::vertical([Constraint::Ratio(1, 4); 4]).split(body);
    for (s, row) in SERIES.iter().zip(rows.iter()) {
        let values: Vec<u64> = shown.iter().map(|p| (s.value)(p)).collect();
        let now = values.last().copied().unwrap_or(0);
        let max = values.iter().copied().max().unwrap_or(0);
        let mut title = vec![
            Span::styled(format!("{} ", s.title), Style::new().fg(t.accent)),
            Span::raw((s.show)(now)),
        ];
        if let Some((name, other)) = s.other {
            let latest = shown.last().map_or(0, |p| other(p));
            title.push(Span::styled(
                format!("  {name} "),
                Style::new().fg(t.accent),
            ));
            title.push(Span::raw((s.show)(latest)));
        }
        title.push(Span::styled(
            format!("  max {} over {}", (s.show)(max), format::duration(span)),
            dim,
        ));
        let [head, graph] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(*row);
        f.render_widget(Paragraph::new(Line::from(title)), head);
        if graph.height > 0 {
            f.render_widget(
                Sparkline::default()
                    .data(&values)
                    .style(Style::new().fg(t.running)),
                graph,
            );
        }
    }
}
