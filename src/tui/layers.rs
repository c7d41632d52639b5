//! The layer explorer's state: an image's layers, and the entries of the one selected as a
//! tree (directories open and close, each with the size of what the layer has below it).

use std::collections::{BTreeSet, HashMap};

use super::model::{EntryRow, LayerInfo};
use super::msg::JobId;

/// One row of the tree on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    /// Index into the entries.
    pub entry: usize,
    pub depth: usize,
    /// A file's size, a directory's total.
    pub size: u64,
}

/// The explorer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explorer {
    /// Image id.
    pub image: String,
    /// How the user knows it.
    pub title: String,
    pub layers_job: JobId,
    pub layers: Option<Result<Vec<LayerInfo>, String>>,
    /// The layer shown (0 the base).
    pub layer: usize,
    pub entries_job: JobId,
    pub entries: Option<Result<Vec<EntryRow>, String>>,
    /// Sizes of the entries, a directory's the sum of what is below it.
    pub sizes: Vec<u64>,
    /// Open directories, by path.
    pub open: BTreeSet<String>,
    /// Position in the shown rows.
    pub cursor: usize,
}

impl Explorer {
    pub fn new(image: &str, title: &str, layers_job: JobId) -> Explorer {
        Explorer {
            image: image.into(),
            title: title.into(),
            layers_job,
            layers: None,
            layer: 0,
            entries_job: 0,
            entries: None,
            sizes: Vec::new(),
            open: BTreeSet::new(),
            cursor: 0,
        }
    }

    /// Takes the entries of the shown layer and sums the directories' sizes.
    pub fn set_entries(&mut self, r: Result<Vec<EntryRow>, String>) {
        self.sizes = match &r {
            Ok(entries) => sizes(entries),
            Err(_) => Vec::new(),
        };
        self.entries = Some(r);
        self.cursor = 0;
    }

    /// The rows on screen: every entry whose directories are all open.
    pub fn rows(&self) -> Vec<TreeRow> {
        let Some(Ok(entries)) = &self.entries else {
            return Vec::new();
        };
        let mut shown_open: BTreeSet<&str> = BTreeSet::new();
        let mut rows = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let (parent, depth) = match e.path.rfind('/') {
                Some(at) => (&e.path[..at], e.path.matches('/').count()),
                None => ("", 0),
            };
            if !parent.is_empty() && !shown_open.contains(parent) {
                continue;
            }
            if e.dir && self.open.contains(&e.path) {
                shown_open.insert(&e.path);
            }
            rows.push(TreeRow {
                entry: i,
                depth,
                size: self.sizes.get(i).copied().unwrap_or(0),
            });
        }
        rows
    }

    /// The entry under the cursor.
    pub fn current(&self) -> Option<&EntryRow> {
        let rows = self.rows();
        let row = rows.get(self.cursor)?;
        match &self.entries {
            Some(Ok(e)) => e.get(row.entry),
            _ => None,
        }
    }

    /// Opens or closes the directory under the cursor.
    pub fn toggle(&mut self) {
        if let Some(e) = self.current().filter(|e| e.dir).map(|e| e.path.clone()) {
            if !self.open.remove(&e) {
                self.open.insert(e);
            }
        }
    }

    /// Closes the directory under the cursor, or moves to its parent.
    pub fn close_or_up(&mut self) {
        let Some(e) = self.current().cloned() else {
            return;
        };
        if e.dir && self.open.remove(&e.path) {
            return;
        }
        if let Some(at) = e.path.rfind('/') {
            let parent = &e.path[..at];
            if let Some(pos) = self
                .rows()
                .iter()
                .position(|r| matches!(&self.entries, Some(Ok(x)) if x[r.entry].path == parent))
            {
                self.cursor = pos;
            }
        }
    }

    /// Moves the cursor by `delta` rows, within the rows.
    pub fn move_by(&mut self, delta: isize) {
        let n = self.rows().len();
        self.cursor = self
            .cursor
            .saturating_add_signed(delta)
            .min(n.saturating_sub(1));
    }

    /// (added, changed, removed) of the shown layer.
    pub fn counts(&self) -> (usize, usize, usize) {
        use super::model::Change;
        let Some(Ok(entries)) = &self.entries else {
            return (0, 0, 0);
        };
        entries
            .iter()
            .fold((0, 0, 0), |(a, c, d), e| match e.change {
                Change::Added => (a + 1, c, d),
                Change::Changed => (a, c + 1, d),
                Change::Removed => (a, c, d + 1),
            })
    }
}

/// Each entry's size; a directory's is the sum of the files below it.
fn sizes(entries: &[EntryRow]) -> Vec<u64> {
    let at: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.path.as_str(), i))
        .collect();
    let mut sizes: Vec<u64> = entries.iter().map(|e| e.size).collect();
    for e in entries.iter().filter(|e| !e.dir) {
        let mut p = e.path.as_str();
        while let Some(cut) = p.rfind('/') {
            p = &p[..cut];
            if let Some(&i) = at.get(p) {
                sizes[i] += e.size;
            }
        }
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::model::Change;

    pub fn entry(path: &str, change: Change, dir: bool, size: u64) -> EntryRow {
        EntryRow {
            path: path.into(),
            change,
            dir,
            size,
            link: false,
        }
    }

    #[test]
    fn directories_open_close_and_sum_their_files() {
        let mut x = Explorer::new("sha256:aa", "app:1", 1);
        x.set_entries(Ok(vec![
            entry("etc", Change::Changed, true, 0),
            entry("etc/passwd", Change::Changed, false, 100),
            entry("usr", Change::Changed, true, 0),
            entry("usr/bin", Change::Changed, true, 0),
            entry("usr/bin/app", Change::Added, false, 5000),
            entry("usr/bin/old", Change::Removed, false, 0),
        ]));
        let paths = |x: &Explorer| -> Vec<(String, u64)> {
            x.rows()
                .iter()
                .map(|r| match &x.entries {
                    Some(Ok(e)) => (e[r.entry].path.clone(), r.size),
                    _ => unreachable!(),
                })
                .collect()
        };
        assert_eq!(
            paths(&x),
            [("etc".to_string(), 100), ("usr".to_string(), 5000)]
        );
        x.move_by(1);
        x.toggle();
        x.move_by(1);
        x.toggle();
        assert_eq!(paths(&x).len(), 5);
        assert_eq!(x.rows()[3].depth, 2);
        // Left on a file moves to its directory, then closes it.
        x.move_by(1);
        assert_eq!(x.current().unwrap().path, "usr/bin/app");
        x.close_or_up();
        assert_eq!(x.current().unwrap().path, "usr/bin");
        x.close_or_up();
        assert_eq!(paths(&x).len(), 3);
        assert_eq!(x.counts(), (1, 4, 1));
        x.move_by(100);
        assert_eq!(x.cursor, 2);
    }
}
