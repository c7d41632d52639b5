//! Container logs in Docker's json-file format: one JSON object a line,
//! `{"log":"…\n","stream":"stdout","time":"RFC3339Nano"}`. Lines longer than 16 KiB are split
//! into 16 KiB pieces whose `log` has no trailing newline, as Docker does.
//!
//! [`config`]: `--log-driver`/`--log-opt`; [`writer`]: the monitor's writer (rotation, drops on
//! a full disk, one write per read); [`encode`]: one entry's bytes; [`files`]: the rotated
//! files; [`reader`] and [`tail`]: reading them back.

pub mod config;
pub mod encode;
pub mod files;
pub mod reader;
pub mod tail;
pub mod writer;

pub use config::{LogConfig, LogDriver, LogPolicy};
pub use reader::LogReader;
pub use writer::LogWriter;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::{IoContext, Result};

/// Longest `log` value in one entry.
pub const MAX_LINE: usize = 16 * 1024;

/// Which output a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The text, with its newline when the line was complete.
    #[serde(rename = "log")]
    pub line: String,
    pub stream: Stream,
    pub time: DateTime<Utc>,
}

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// Only the last N entries (before following).
    pub tail: Option<usize>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time.
    pub until: Option<DateTime<Utc>>,
}

impl LogOptions {
    fn keep(&self, e: &LogEntry) -> bool {
        self.since.is_none_or(|s| e.time >= s) && self.until.is_none_or(|u| e.time < u)
    }
}

/// Reads the whole log at `path` (no follow).
pub fn read_all(path: &Path, options: LogOptions) -> Result<Vec<LogEntry>> {
    LogReader::open(path, options)?.read_existing()
}

/// Copies a whole file's bytes (used by tests and debugging).
pub fn raw(path: &Path) -> Result<String> {
    let mut s = String::new();
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut s))
        .ctx("cannot read", path)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_by_stream_and_at_16k() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.json");
        let mut w = LogWriter::open(&path).unwrap();
        w.write(Stream::Stdout, b"hel");
        w.write(Stream::Stderr, b"oops\n");
        w.write(Stream::Stdout, b"lo\nworld\npart");
        let long = vec![b'x'; MAX_LINE + 10];
        w.write(Stream::Stderr, &long);
        w.write(Stream::Stderr, b"\n");
        w.flush();
        let all = read_all(&path, LogOptions::default()).unwrap();
        let got: Vec<(Stream, usize, bool)> = all
            .iter()
            .map(|e| (e.stream, e.line.len(), e.line.ends_with('\n')))
            .collect();
        assert_eq!(
            got,
            vec![
                (Stream::Stderr, 5, true),
                (Stream::Stdout, 6, true),
                (Stream::Stdout, 6, true),
                (Stream::Stderr, MAX_LINE, false),
                (Stream::Stderr, 11, true),
                (Stream::Stdout, 4, false),
            ]
        );
        assert_eq!(all[1].line, "hello\n");
        let raw = raw(&path).unwrap();
        assert!(
            raw.starts_with("{\"log\":\"oops\\n\",\"stream\":\"stderr\",\"time\":\""),
            "{raw}"
        );
        let tail = read_all(
            &path,
            LogOptions {
                tail: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(tail.len(), 2);
        assert_eq!(tail[1].line, "part");
        let future = Utc::now() + chrono::TimeDelta::seconds(5);
        let none = read_all(
            &path,
            LogOptions {
                since: Some(future),
                ..Default::default()
            },
        );
        assert!(none.unwrap().is_empty());
    }
}
