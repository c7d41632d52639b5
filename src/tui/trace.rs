//! Opt-in timing trace for the TUI benchmark (`cargo bench --bench tui`). With
//! `BERTH_TUI_TRACE=FILE` set, the event loop appends to FILE (wall clock in ns since the epoch,
//! CLOCK_REALTIME, comparable with the `time` of container log entries):
//!
//! - `loop <ns>` when the loop starts;
//! - `frame <ns> <draw-ns> <containers>` after each frame is written to the terminal: when,
//!   how long `Terminal::draw` took, and how many container rows the state held;
//! - `drawn <tag> <seq> <ns>` for each log line carrying a marker `@@<tag>:<seq>;` that is on
//!   screen for the first time (found in the frame's buffer, so it is what the terminal got).
//!
//! Unset, the trace is one `None` check per frame: no clock reads, no allocations.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ratatui::buffer::Buffer;

/// Environment variable naming the trace file.
pub const ENV: &str = "BERTH_TUI_TRACE";

/// The trace of one TUI session (off unless [`ENV`] is set).
#[derive(Default)]
pub struct Trace {
    on: Option<Box<Active>>,
}

struct Active {
    out: BufWriter<File>,
    /// Highest sequence number reported per tag.
    last: HashMap<String, u64>,
    /// Reused text of one screen row.
    row: String,
}

/// Nanoseconds since the epoch, now.
pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

impl Trace {
    /// The trace [`ENV`] asks for (off when unset or empty).
    pub fn from_env() -> io::Result<Trace> {
        match std::env::var_os(ENV) {
            Some(p) if !p.is_empty() => Trace::to_file(PathBuf::from(p)),
            _ => Ok(Trace::default()),
        }
    }

    /// A trace appending to `path` (created if missing).
    pub fn to_file(path: PathBuf) -> io::Result<Trace> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "cannot open the trace file {} ({ENV}): {e}; give a writable path or unset {ENV}",
                        path.display()
                    ),
                )
            })?;
        let mut active = Active {
            out: BufWriter::new(file),
            last: HashMap::new(),
            row: String::new(),
        };
        writeln!(active.out, "loop {}", now_ns())?;
        active.out.flush()?;
        Ok(Trace {
            on: Some(Box::new(active)),
        })
    }

    /// When a draw starts (only when tracing).
    pub fn start(&self) -> Option<Instant> {
        self.on.as_ref().map(|_| Instant::now())
    }

    /// Records a frame just written to the terminal: its time, how long the draw took since
    /// `started`, the number of container rows, and the marked log lines new on screen.
    pub fn frame(&mut self, buf: &Buffer, started: Option<Instant>, containers: usize) {
        let (Some(a), Some(started)) = (self.on.as_mut(), started) else {
            return;
        };
        let took = started.elapsed().as_nanos();
        let now = now_ns();
        // A trace that cannot be written is dropped rather than disturbing the UI.
        if a.write(buf, now, took, containers).is_err() {
            self.on = None;
        }
    }
}

impl Active {
    fn write(&mut self, buf: &Buffer, now: u128, took: u128, containers: usize) -> io::Result<()> {
        writeln!(self.out, "frame {now} {took} {containers}")?;
        let width = usize::from(buf.area.width).max(1);
        for cells in buf.content().chunks(width) {
            self.row.clear();
            for c in cells {
                self.row.push_str(c.symbol());
            }
            let mut rest = self.row.as_str();
            while let Some(at) = rest.find("@@") {
                rest = &rest[at + 2..];
                if let Some((tag, seq)) = marker(rest) {
                    let last = self.last.get(tag).copied().unwrap_or(0);
                    if seq > last {
                        writeln!(self.out, "drawn {tag} {seq} {now}")?;
                        if let Some(l) = self.last.get_mut(tag) {
                            *l = seq;
                        } else {
                            self.last.insert(tag.to_string(), seq);
                        }
                    }
                }
            }
        }
        self.out.flush()
    }
}

/// Parses `<tag>:<seq>;` at the start of `s` (the part after `@@`).
fn marker(s: &str) -> Option<(&str, u64)> {
    let (tag, rest) = s.split_once(':')?;
    if tag.is_empty() || tag.len() > 16 || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (seq, _) = rest.split_once(';')?;
    Some((tag, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    #[test]
    fn markers_parse() {
        assert_eq!(marker("c01:42; text"), Some(("c01", 42)));
        assert_eq!(marker("c01:42 text"), None);
        assert_eq!(marker(":42;"), None);
        assert_eq!(marker("c-1:42;"), None);
        assert_eq!(marker("c1:x;"), None);
    }

    #[test]
    fn reports_each_marked_line_once_and_only_newer_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trace");
        let mut t = Trace::to_file(path.clone()).unwrap();
        let mut buf = Buffer::empty(Rect::new(0, 0, 30, 3));
        buf.set_string(0, 0, "a │ @@c1:7; hello", ratatui::style::Style::new());
        buf.set_string(0, 1, "b │ @@c2:3; @@c1:8;", ratatui::style::Style::new());
        t.frame(&buf, t.start(), 1000);
        // The same lines again and an older one: nothing new.
        buf.set_string(0, 2, "@@c1:5;", ratatui::style::Style::new());
        t.frame(&buf, t.start(), 1000);
        buf.set_string(0, 2, "@@c2:4;", ratatui::style::Style::new());
        t.frame(&buf, t.start(), 999);
        drop(t);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
        let kinds: Vec<&str> = lines.iter().map(|l| l[0]).collect();
        assert_eq!(
            kinds,
            ["loop", "frame", "drawn", "drawn", "drawn", "frame", "frame", "drawn"]
        );
        let drawn: Vec<(&str, &str)> = lines
            .iter()
            .filter(|l| l[0] == "drawn")
            .map(|l| (l[1], l[2]))
            .collect();
        assert_eq!(drawn, [("c1", "7"), ("c2", "3"), ("c1", "8"), ("c2", "4")]);
        assert_eq!(lines[6][3], "999");
        assert_eq!(lines[2][3], lines[1][1], "drawn at the frame's time");
    }

    #[test]
    fn off_without_the_variable_and_bad_paths_are_explained() {
        let mut t = Trace::default();
        assert!(t.start().is_none());
        t.frame(&Buffer::empty(Rect::new(0, 0, 1, 1)), None, 0);
        let e = Trace::to_file(PathBuf::from("/nonexistent-dir/trace"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("/nonexistent-dir/trace") && e.contains(ENV),
            "{e}"
        );
    }
}
