//! A filterable, sortable, markable list: the state behind the containers, images and volumes
//! panes. Selection and marks follow rows by key across reloads.

use std::cmp::Ordering;
use std::collections::BTreeSet;

/// What a row offers to its list.
pub trait Item {
    /// Unique key (id or name) that survives reloads.
    fn key(&self) -> &str;
    /// Text the filter searches (lower case).
    fn haystack(&self) -> String;
    /// Names of the sort columns.
    fn sort_columns() -> &'static [&'static str];
    /// Order by sort column `col`.
    fn compare(&self, other: &Self, col: usize) -> Ordering;
    /// Grows `widths` (one entry per column of the pane) to this row's cell widths, 0 for an
    /// optional cell with nothing to show. The list keeps the maximum over the shown rows
    /// ([`ListView::widths`]), updated when the rows change instead of at every draw.
    fn measure(&self, _widths: &mut Vec<usize>) {}
}

/// Grows `widths` at column `col` to `w`.
pub fn widen(widths: &mut Vec<usize>, col: usize, w: usize) {
    if widths.len() <= col {
        widths.resize(col + 1, 0);
    }
    widths[col] = widths[col].max(w);
}

/// A list pane's state.
#[derive(Debug, Clone)]
pub struct ListView<T> {
    pub items: Vec<T>,
    /// Indices into `items` of the shown rows, filtered and sorted.
    pub view: Vec<usize>,
    /// Selected position in `view`.
    pub selected: usize,
    /// First shown position in `view`.
    pub offset: usize,
    /// Rows the pane showed at the last move or resize (0 before any).
    pub height: usize,
    pub filter: String,
    pub sort: usize,
    pub reverse: bool,
    pub marks: BTreeSet<String>,
    /// A load has answered at least once.
    pub loaded: bool,
    /// The last load failed with this message.
    pub error: Option<String>,
    /// The widest cell of each column over the shown rows ([`Item::measure`]); a column past
    /// the end has no cell wider than 0.
    pub widths: Vec<usize>,
}

impl<T> Default for ListView<T> {
    fn default() -> Self {
        ListView {
            items: Vec::new(),
            view: Vec::new(),
            selected: 0,
            offset: 0,
            height: 0,
            filter: String::new(),
            sort: 0,
            reverse: false,
            marks: BTreeSet::new(),
            loaded: false,
            error: None,
            widths: Vec::new(),
        }
    }
}

impl<T: Item> ListView<T> {
    /// Replaces the rows, keeping the selection on the same key when it still exists and
    /// dropping marks of rows that are gone.
    pub fn set_items(&mut self, items: Vec<T>) {
        let keep = self.selected_item().map(|i| i.key().to_string());
        self.items = items;
        self.loaded = true;
        self.error = None;
        let keys: BTreeSet<&str> = self.items.iter().map(Item::key).collect();
        self.marks.retain(|m| keys.contains(m.as_str()));
        self.refresh(keep.as_deref());
    }

    /// Recomputes the shown rows after a change of items, filter or sort.
    pub fn refresh(&mut self, keep: Option<&str>) {
        let words: Vec<String> = self
            .filter
            .to_lowercase()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let mut view: Vec<usize> = (0..self.items.len())
            .filter(|&i| {
                let hay = self.items[i].haystack();
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .collect();
        let col = self.sort;
        view.sort_by(|&a, &b| {
            let o = self.items[a].compare(&self.items[b], col);
            if self.reverse {
                o.reverse()
            } else {
                o
            }
        });
        self.view = view;
        self.remeasure();
        let pos = keep.and_then(|k| self.view.iter().position(|&i| self.items[i].key() == k));
        self.selected = pos
            .unwrap_or(self.selected)
            .min(self.view.len().saturating_sub(1));
        // The view may have shrunk under a scrolled viewport: show the selection and fill the
        // pane with the rows before it.
        self.scroll_into_view(self.height);
    }

    /// Measures the shown rows again after a change of rows in place.
    pub fn remeasure(&mut self) {
        let mut widths = Vec::new();
        for &i in &self.view {
            self.items[i].measure(&mut widths);
        }
        self.widths = widths;
    }

    /// The widest cell of column `col` over the shown rows.
    pub fn width(&self, col: usize) -> usize {
        self.widths.get(col).copied().unwrap_or(0)
    }

    /// The shown rows from position `offset`, in order.
    pub fn shown_from(&self, offset: usize) -> impl Iterator<Item = &T> {
        self.view
            .get(offset..)
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| self.items.get(i))
    }

    /// The selected row.
    pub fn selected_item(&self) -> Option<&T> {
        self.view
            .get(self.selected)
            .and_then(|&i| self.items.get(i))
    }

    /// Shown rows in order.
    pub fn shown(&self) -> impl Iterator<Item = &T> {
        self.view.iter().filter_map(|&i| self.items.get(i))
    }

    /// Moves the selection by `delta` rows and scrolls so it stays within `height` rows.
    pub fn move_by(&mut self, delta: isize, height: usize) {
        let last = self.view.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
        self.scroll_into_view(height);
    }

    /// Adjusts `offset` so that the selection is visible in `height` rows and no rows are
    /// left empty at the bottom while rows above are hidden.
    pub fn scroll_into_view(&mut self, height: usize) {
        self.height = height;
        let h = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + h {
            self.offset = self.selected + 1 - h;
        }
        self.offset = self.offset.min(self.view.len().saturating_sub(h));
    }

    /// Sets the filter text and refreshes.
    pub fn set_filter(&mut self, filter: &str) {
        let keep = self.selected_item().map(|i| i.key().to_string());
        self.filter = filter.to_string();
        self.refresh(keep.as_deref());
    }

    /// Sorts by the next column.
    pub fn cycle_sort(&mut self) {
        let keep = self.selected_item().map(|i| i.key().to_string());
        self.sort = (self.sort + 1) % T::sort_columns().len().max(1);
        self.refresh(keep.as_deref());
    }

    /// Reverses the order.
    pub fn toggle_reverse(&mut self) {
        let keep = self.selected_item().map(|i| i.key().to_string());
        self.reverse = !self.reverse;
        self.refresh(keep.as_deref());
    }

    /// Marks or unmarks the selected row and moves down.
    pub fn toggle_mark(&mut self, height: usize) {
        if let Some(k) = self.selected_item().map(|i| i.key().to_string()) {
            if !self.marks.remove(&k) {
                self.marks.insert(k);
            }
            self.move_by(1, height);
        }
    }

    /// Marks every shown row, or clears all marks when some are set.
    pub fn toggle_mark_all(&mut self) {
        if self.marks.is_empty() {
            self.marks = self.shown().map(|i| i.key().to_string()).collect();
        } else {
            self.marks.clear();
        }
    }

    /// What an action applies to: the marked rows the filter shows, or else the selected one.
    /// Marked rows the filter hides are kept but not acted on: the user cannot see them.
    pub fn targets(&self) -> Vec<&T> {
        let marked: Vec<&T> = self
            .shown()
            .filter(|i| self.marks.contains(i.key()))
            .collect();
        if marked.is_empty() {
            self.selected_item().into_iter().collect()
        } else {
            marked
        }
    }

    /// The name of the sort column.
    pub fn sort_name(&self) -> &'static str {
        T::sort_columns().get(self.sort).copied().unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone)]
    struct R(&'static str, u32);

    impl Item for R {
        fn key(&self) -> &str {
            self.0
        }
        fn haystack(&self) -> String {
            self.0.to_string()
        }
        fn sort_columns() -> &'static [&'static str] {
            &["name", "num"]
        }
        fn compare(&self, o: &Self, col: usize) -> Ordering {
            if col == 0 {
                self.0.cmp(o.0)
            } else {
                self.1.cmp(&o.1)
            }
        }
    }

    fn list() -> ListView<R> {
        let mut l = ListView::default();
        l.set_items(vec![R("web", 3), R("db", 1), R("cache", 2), R("worker", 0)]);
        l
    }

    #[test]
    fn sorts_filters_and_keeps_selection() {
        let mut l = list();
        let names: Vec<_> = l.shown().map(|r| r.0).collect();
        assert_eq!(names, ["cache", "db", "web", "worker"]);
        l.move_by(2, 10);
        assert_eq!(l.selected_item().unwrap().0, "web");
        l.cycle_sort();
        assert_eq!(l.sort_name(), "num");
        assert_eq!(l.selected_item().unwrap().0, "web");
        l.set_filter("W");
        let names: Vec<_> = l.shown().map(|r| r.0).collect();
        assert_eq!(names, ["worker", "web"]);
        assert_eq!(l.selected_item().unwrap().0, "web");
        l.set_filter("nothing");
        assert!(l.selected_item().is_none());
        l.move_by(1, 10);
        assert_eq!(l.selected, 0);
    }

    #[test]
    fn marks_follow_keys_and_drop_with_rows() {
        let mut l = list();
        l.toggle_mark(10);
        l.toggle_mark(10);
        assert_eq!(l.targets().len(), 2);
        l.set_items(vec![R("db", 1), R("worker", 0)]);
        let t: Vec<_> = l.targets().iter().map(|r| r.0).collect();
        assert_eq!(t, ["db"]);
        l.toggle_mark_all();
        assert!(l.marks.is_empty());
        l.toggle_mark_all();
        assert_eq!(l.marks.len(), 2);
    }

    /// Item 13: `G`, then a filter with few matches; the matches are all on screen.
    #[test]
    fn a_filter_after_scrolling_shows_the_matches() {
        let names: Vec<&'static str> = (0..202)
            .map(|i| &*Box::leak(format!("c{i:03}").into_boxed_str()))
            .collect();
        let mut l = ListView::default();
        l.set_items(names.iter().map(|n| R(n, 0)).collect());
        l.move_by(isize::MAX / 2, 20);
        assert_eq!(l.offset, 182);
        l.set_filter("c15");
        assert_eq!(l.view.len(), 10);
        assert_eq!(l.offset, 0, "every match fits on screen");
        let shown: Vec<_> = l.shown().skip(l.offset).take(20).map(|r| r.0).collect();
        assert_eq!(shown.len(), 10);
        // Marks hidden by a filter are not acted on.
        l.set_filter("");
        l.move_by(-300, 20);
        l.toggle_mark(20);
        l.set_filter("c15");
        let t: Vec<_> = l.targets().iter().map(|r| r.0).collect();
        assert_eq!(t, [l.selected_item().unwrap().0], "not the hidden c000");
        assert!(l.marks.contains("c000"), "the mark is kept");
    }

    #[test]
    fn scrolls_to_keep_selection_visible() {
        let mut l = list();
        l.move_by(3, 2);
        assert_eq!(l.offset, 2);
        l.move_by(-3, 2);
        assert_eq!(l.offset, 0);
        l.move_by(100, 0);
        assert_eq!(l.selected, 3);
    }
}
