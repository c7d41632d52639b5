//! State of the logs pane: which containers are shown (one, or several merged), their buffers,
//! scroll position, search and filter, and the tail/since/timestamps/wrap switches.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use regex::{Regex, RegexBuilder};

use super::ansi;
use super::input::TextInput;
use super::logbuf::{Entry, LogStore};
use super::msg::JobId;

/// Lines kept per container.
pub const MAX_LINES: usize = 10_000;
/// Bytes of text kept per container.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

/// Position of a line in every walk.
pub type LineKey = (DateTime<Utc>, u64);

/// How many old lines a follow starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    Lines(usize),
    All,
}

impl Tail {
    pub fn next(self) -> Tail {
        match self {
            Tail::Lines(100) => Tail::Lines(1000),
            Tail::Lines(1000) => Tail::Lines(10_000),
            Tail::Lines(_) => Tail::All,
            Tail::All => Tail::Lines(100),
        }
    }

    pub fn lines(self) -> Option<usize> {
        match self {
            Tail::Lines(n) => Some(n),
            Tail::All => None,
        }
    }

    pub fn label(self) -> String {
        match self {
            Tail::Lines(n) => format!("tail {n}"),
            Tail::All => format!("tail all (keeps the last {MAX_LINES})"),
        }
    }
}

/// How far back a follow starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    All,
    Minutes(i64),
}

impl Since {
    pub fn next(self) -> Since {
        match self {
            Since::All => Since::Minutes(5),
            Since::Minutes(5) => Since::Minutes(60),
            Since::Minutes(60) => Since::Minutes(24 * 60),
            Since::Minutes(_) => Since::All,
        }
    }

    pub fn cutoff(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Since::All => None,
            Since::Minutes(m) => Some(now - Duration::minutes(m)),
        }
    }

    pub fn label(self) -> String {
        match self {
            Since::All => "since start".into(),
            Since::Minutes(m) if m % 60 == 0 => format!("since {}h", m / 60),
            Since::Minutes(m) => format!("since {m}m"),
        }
    }
}

/// A search or filter pattern: a case-insensitive regex, or the literal text when it is not
/// a valid regex.
pub fn compile(text: &str) -> Option<Regex> {
    if text.is_empty() {
        return None;
    }
    RegexBuilder::new(text)
        .case_insensitive(true)
        .build()
        .or_else(|_| {
            RegexBuilder::new(&regex::escape(text))
                .case_insensitive(true)
                .build()
        })
        .ok()
}

/// The logs pane.
#[derive(Debug)]
pub struct LogView {
    pub store: LogStore,
    /// Container ids shown, in colour order.
    pub targets: Vec<String>,
    /// Running follow jobs by container id.
    pub follows: BTreeMap<String, JobId>,
    /// Follows that ended, with the error if they failed.
    pub ended: BTreeMap<String, Option<String>>,
    /// The newest line shown at the bottom; `None` follows new lines.
    pub anchor: Option<LineKey>,
    pub timestamps: bool,
    pub wrap: bool,
    pub tail: Tail,
    pub since: Since,
    pub search: TextInput,
    pub search_re: Option<Regex>,
    /// The line the last n/N jumped to.
    pub current: Option<LineKey>,
    pub filter: TextInput,
    pub filter_re: Option<Regex>,
}

impl Default for LogView {
    fn default() -> Self {
        LogView {
            store: LogStore::new(MAX_LINES, MAX_BYTES),
            targets: Vec::new(),
            follows: BTreeMap::new(),
            ended: BTreeMap::new(),
            anchor: None,
            timestamps: false,
            wrap: false,
            tail: Tail::Lines(1000),
            since: Since::All,
            search: TextInput::default(),
            search_re: None,
            current: None,
            filter: TextInput::default(),
            filter_re: None,
        }
    }
}

impl LogView {
    fn passes(&self, e: &Entry<'_>) -> bool {
        match &self.filter_re {
            Some(re) => re.is_match(&ansi::plain(e.text)),
            None => true,
        }
    }

    /// Lines that pass the filter, newest first, from the newest of all.
    pub fn lines(&self) -> impl Iterator<Item = (usize, Entry<'_>)> {
        self.store
            .newest_first(&self.targets)
            .filter(|(_, e)| self.passes(e))
    }

    /// Lines from the bottom of the screen upwards: from the anchor, found without walking the
    /// lines newer than it.
    pub fn shown(&self) -> impl Iterator<Item = (usize, Entry<'_>)> {
        self.store
            .newest_first_upto(&self.targets, self.anchor)
            .filter(|(_, e)| self.passes(e))
    }

    /// Scrolls `n` lines towards older ones, keeping a screen of `height` lines filled.
    pub fn scroll_up(&mut self, n: usize, height: usize) {
        let keys: Vec<LineKey> = self.shown().map(|(_, e)| e.key()).collect();
        if keys.is_empty() {
            return;
        }
        let max = keys.len().saturating_sub(height.max(1));
        self.anchor = Some(keys[n.min(max)]).filter(|_| n.min(max) > 0 || self.anchor.is_some());
    }

    /// Scrolls `n` lines towards newer ones; reaching the newest follows again.
    pub fn scroll_down(&mut self, n: usize) {
        let Some(anchor) = self.anchor else { return };
        let newer: Vec<LineKey> = self
            .lines()
            .map(|(_, e)| e.key())
            .take_while(|k| *k > anchor)
            .collect();
        self.anchor = if n >= newer.len() {
            None
        } else {
            Some(newer[newer.len() - n])
        };
    }

    /// Shows the oldest lines.
    pub fn to_top(&mut self, height: usize) {
        self.anchor = None;
        self.scroll_up(usize::MAX, height);
    }

    /// Follows new lines again.
    pub fn to_bottom(&mut self) {
        self.anchor = None;
    }

    fn is_match(&self, e: &Entry<'_>) -> bool {
        self.search_re
            .as_ref()
            .is_some_and(|re| re.is_match(&ansi::plain(e.text)))
    }

    /// Jumps to the next older match; false when there is none.
    pub fn older_match(&mut self, height: usize) -> bool {
        let from = self.current.or(self.anchor);
        let found = self
            .lines()
            .filter(|(_, e)| from.is_none_or(|f| e.key() < f))
            .find(|(_, e)| self.is_match(e))
            .map(|(_, e)| e.key());
        self.jump(found, height)
    }

    /// Jumps to the next newer match; false when there is none.
    pub fn newer_match(&mut self, height: usize) -> bool {
        let Some(from) = self.current.or(self.anchor) else {
            return false;
        };
        let found = self
            .lines()
            .take_while(|(_, e)| e.key() > from)
            .filter(|(_, e)| self.is_match(e))
            .last()
            .map(|(_, e)| e.key());
        self.jump(found, height)
    }

    fn jump(&mut self, found: Option<LineKey>, height: usize) -> bool {
        let Some(key) = found else { return false };
        self.current = Some(key);
        // Put the match in the middle of the screen when there are lines enough below it.
        let below: Vec<LineKey> = self
            .lines()
            .map(|(_, e)| e.key())
            .take_while(|k| *k > key)
            .collect();
        let half = height / 2;
        self.anchor = if below.len() <= half {
            None
        } else if half == 0 {
            Some(key)
        } else {
            Some(below[below.len() - half])
        };
        true
    }

    /// The shown lines as plain text, oldest first (for saving).
    pub fn plain_text(&self, names: &dyn Fn(&str) -> String) -> String {
        let merged = self.targets.len() > 1;
        let mut lines: Vec<String> = self
            .lines()
            .map(|(i, e)| {
                let mut s = String::new();
                if self.timestamps {
                    s.push_str(&e.time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
                    s.push(' ');
                }
                if merged {
                    s.push_str(&names(&self.targets[i]));
                    s.push_str(" | ");
                }
                s.push_str(&ansi::strip(e.text));
                s
            })
            .collect();
        lines.reverse();
        let mut out = lines.join("\n");
        out.push('\n');
        out
    }
}

#[cfg(test)]
#[path = "logview_tests.rs"]
mod tests;
