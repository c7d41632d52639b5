//! The panes: pure rendering of one part of [`App`] each.

pub mod containers;
pub mod details;
pub mod events;
pub mod graphs;
pub mod images;
pub mod logs;
pub mod networks;
pub mod shell;
pub mod volumes;

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::app::{App, Typing};
use super::list::{Item, ListView};
use super::theme::Theme;

/// A pane's border with its title; the focused pane's is bright.
pub fn block<'a>(theme: &Theme, title: Line<'a>, focused: bool) -> Block<'a> {
    Block::bordered()
        .border_style(theme.border(focused))
        .title(title)
}

/// One column of a list table.
#[derive(Clone, Copy)]
pub struct Column {
    pub title: &'static str,
    pub width: Constraint,
    /// Hidden below this pane width.
    pub min_pane_width: u16,
}

/// Columns a list wants to show every cell whole: the widest cell of each column (at least
/// its title, from the list's kept [`ListView::widths`]) plus the spacing, the mark and the
/// border. `columns` pairs each shown column with its index in the list's measures.
pub fn wanted_width<T: Item>(list: &ListView<T>, columns: &[(usize, Column)]) -> u16 {
    let widths: Vec<usize> = columns
        .iter()
        .map(|(i, c)| c.title.len().max(list.width(*i)))
        .collect();
    let total: usize = widths.iter().sum::<usize>() + widths.len() + 1 + 2;
    u16::try_from(total).unwrap_or(u16::MAX)
}

/// What a list pane tells the shared renderer.
pub struct ListSpec<'a, T> {
    pub title: &'static str,
    pub noun: &'static str,
    pub list: &'a ListView<T>,
    pub columns: &'a [Column],
    /// Cells of a row, one per column.
    pub cells: &'a dyn Fn(&T) -> Vec<Span<'static>>,
    /// Shown when there are no rows at all.
    pub empty_hint: String,
}

/// Renders a list pane: border with title, sort and filter, table or state message.
pub fn render_list<T: Item>(
    app: &App,
    f: &mut Frame,
    area: Rect,
    focused: bool,
    spec: ListSpec<'_, T>,
) {
    let t = &app.theme;
    let list = spec.list;
    let mut title = vec![Span::styled(
        format!(" {} ", spec.title),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if list.loaded && list.error.is_none() {
        let n = if list.view.len() == list.items.len() {
            format!("{} ", list.items.len())
        } else {
            format!("{}/{} ", list.view.len(), list.items.len())
        };
        title.push(Span::styled(n, Style::new().fg(t.dim)));
    }
    if !list.marks.is_empty() {
        title.push(Span::styled(
            format!("· {} marked ", list.marks.len()),
            Style::new().fg(t.marked),
        ));
    }
    let mut b = block(t, Line::from(title), focused);
    if area.width >= 30 {
        let arrow = if list.reverse { "▼" } else { "▲" };
        b = b.title(
            Line::styled(
                format!(" {} {arrow} ", list.sort_name()),
                Style::new().fg(t.dim),
            )
            .right_aligned(),
        );
    }
    let typing = focused && app.typing == Some(Typing::ListFilter);
    if typing || !list.filter.is_empty() {
        let text = if typing {
            app.filter_input.display(true)
        } else {
            list.filter.clone()
        };
        b = b.title_bottom(Line::styled(
            format!(" /{text} "),
            Style::new().fg(t.accent),
        ));
    }
    let inner = b.inner(area);
    f.render_widget(b, area);
    let message = if !list.loaded {
        Some((format!("loading {}s…", spec.noun), Style::new().fg(t.dim)))
    } else if let Some(e) = &list.error {
        Some((
            format!("cannot list {}s: {e}", spec.noun),
            Style::new().fg(t.error),
        ))
    } else if list.items.is_empty() {
        Some((spec.empty_hint.clone(), Style::new().fg(t.dim)))
    } else if list.view.is_empty() {
        Some((
            format!(
                "no {} matches \"{}\" (Esc clears the filter)",
                spec.noun, list.filter
            ),
            Style::new().fg(t.dim),
        ))
    } else {
        None
    };
    if let Some((text, style)) = message {
        let p = Paragraph::new(Line::styled(text, style)).wrap(Wrap { trim: true });
        f.render_widget(p, inner);
        return;
    }
    let shown: Vec<usize> = (0..spec.columns.len())
        .filter(|&i| inner.width >= spec.columns[i].min_pane_width)
        .collect();
    let mut widths = vec![Constraint::Length(1)];
    widths.extend(shown.iter().map(|&i| spec.columns[i].width));
    let mut head = vec![Span::raw("")];
    head.extend(shown.iter().map(|&i| Span::raw(spec.columns[i].title)));
    let header = Row::new(head).style(Style::new().fg(t.dim).add_modifier(Modifier::BOLD));
    // Build only the rows that fit (a list may hold thousands).
    let visible = usize::from(inner.height.saturating_sub(1)).max(1);
    let mut offset = list
        .offset
        .min(list.selected)
        .min(list.view.len().saturating_sub(visible));
    if list.selected >= offset + visible {
        offset = list.selected + 1 - visible;
    }
    let rows = list.shown_from(offset).take(visible).map(|item| {
        let mut cells = (spec.cells)(item);
        let mark = if list.marks.contains(item.key()) {
            Span::styled("●", Style::new().fg(t.marked))
        } else {
            Span::raw(" ")
        };
        let mut out = vec![mark];
        for &i in &shown {
            out.push(std::mem::take(&mut cells[i]));
        }
        Row::new(out)
    });
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(if focused {
            t.selected()
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        });
    let mut state = TableState::new().with_selected(Some(list.selected - offset));
    f.render_stateful_widget(table, inner, &mut state);
}
