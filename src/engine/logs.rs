//! Container logs in Docker's json-file format: one JSON object a line,
//! `{"log":"…\n","stream":"stdout","time":"RFC3339Nano"}`. Lines longer than 16 KiB are split
//! into 16 KiB pieces whose `log` has no trailing newline, as Docker does.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::error::{EngineError, IoContext, Result};

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

/// Writes a container's output to its log file, line by line.
pub struct LogWriter {
    file: File,
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    /// Appends to `path` (created if missing).
    pub fn open(path: &Path) -> Result<LogWriter> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ctx("cannot open log file", path)?;
        Ok(LogWriter {
            file,
            pending: [Vec::new(), Vec::new()],
        })
    }

    fn emit(&mut self, stream: Stream, bytes: &[u8]) -> Result<()> {
        let entry = LogEntry {
            line: String::from_utf8_lossy(bytes).into_owned(),
            stream,
            time: Utc::now(),
        };
        let mut json = serde_json::json!({
            "log": entry.line,
            "stream": entry.stream,
            "time": entry.time.to_rfc3339_opts(SecondsFormat::Nanos, true),
        })
        .to_string();
        json.push('\n');
        self.file
            .write_all(json.as_bytes())
            .map_err(|e| EngineError::io("cannot write the container log", e))
    }

    /// Takes bytes read from `stream`; writes every complete line and every full 16 KiB piece.
    pub fn write(&mut self, stream: Stream, data: &[u8]) -> Result<()> {
        let idx = stream as usize;
        let mut buf = std::mem::take(&mut self.pending[idx]);
        buf.extend_from_slice(data);
        let mut start = 0;
        loop {
            let rest = &buf[start..];
            match rest.iter().position(|b| *b == b'\n') {
                Some(nl) if nl < MAX_LINE => {
                    let line = buf[start..start + nl + 1].to_vec();
                    self.emit(stream, &line)?;
                    start += nl + 1;
                }
                _ if rest.len() >= MAX_LINE => {
                    let piece = buf[start..start + MAX_LINE].to_vec();
                    self.emit(stream, &piece)?;
                    start += MAX_LINE;
                }
                _ => break,
            }
        }
        self.pending[idx] = buf[start..].to_vec();
        Ok(())
    }

    /// Writes what is left of unfinished lines (at the end of the output).
    pub fn flush(&mut self) -> Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut self.pending[stream as usize]);
            if !rest.is_empty() {
                self.emit(stream, &rest)?;
            }
        }
        Ok(())
    }
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

/// Reads a log file incrementally (for `logs` and `logs -f`).
pub struct LogReader {
    reader: BufReader<File>,
    partial: String,
    options: LogOptions,
}

impl LogReader {
    /// Opens `path`. A missing file reads as empty until it appears.
    pub fn open(path: &Path, options: LogOptions) -> Result<LogReader> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                File::open("/dev/null").ctx("cannot open", Path::new("/dev/null"))?
            }
            Err(e) => return Err(EngineError::io_path("cannot open log file", path, e)),
        };
        Ok(LogReader {
            reader: BufReader::new(file),
            partial: String::new(),
            options,
        })
    }

    /// Everything currently in the file that the options select (applies `tail`).
    pub fn read_existing(&mut self) -> Result<Vec<LogEntry>> {
        let mut out = self.read_available()?;
        if let Some(n) = self.options.tail {
            let skip = out.len().saturating_sub(n);
            out.drain(..skip);
        }
        Ok(out)
    }

    /// The complete entries written since the last call (selected by since/until).
    pub fn read_available(&mut self) -> Result<Vec<LogEntry>> {
        let mut out = Vec::new();
        loop {
            let mut line = String::new();
            let n = self
                .reader
                .read_line(&mut line)
                .map_err(|e| EngineError::io("cannot read the container log", e))?;
            if n == 0 {
                break;
            }
            self.partial.push_str(&line);
            if !self.partial.ends_with('\n') {
                break;
            }
            let text = std::mem::take(&mut self.partial);
            if let Ok(entry) = serde_json::from_str::<LogEntry>(text.trim_end()) {
                if self.options.keep(&entry) {
                    out.push(entry);
                }
            }
        }
        Ok(out)
    }

    /// Skips to the end (for following only new output).
    pub fn seek_end(&mut self) -> Result<()> {
        self.reader
            .seek(SeekFrom::End(0))
            .map_err(|e| EngineError::io("cannot seek the container log", e))?;
        Ok(())
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
        w.write(Stream::Stdout, b"hel").unwrap();
        w.write(Stream::Stderr, b"oops\n").unwrap();
        w.write(Stream::Stdout, b"lo\nworld\npart").unwrap();
        let long = vec![b'x'; MAX_LINE + 10];
        w.write(Stream::Stderr, &long).unwrap();
        w.write(Stream::Stderr, b"\n").unwrap();
        w.flush().unwrap();
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
