//! Reading a log back: its rotated files (gzipped or not) and the current file in order,
//! `--tail N` from the end, and following new entries across rotations.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::files::{self, LogFile};
use super::tail::lines_backwards;
use super::{LogEntry, LogOptions};
use crate::engine::error::{EngineError, Result};

/// Reads a log incrementally (for `logs`, `logs -f` and the TUI).
pub struct LogReader {
    path: PathBuf,
    current: Option<File>,
    offset: u64,
    partial: Vec<u8>,
    options: LogOptions,
}

fn parse(line: &[u8]) -> Option<LogEntry> {
    serde_json::from_slice::<LogEntry>(line).ok()
}

fn read_err(path: &Path, e: std::io::Error) -> EngineError {
    EngineError::io_path("cannot read the container log", path, e)
}

impl LogReader {
    /// Opens the log at `path` (the current file; rotated ones sit beside it). A missing file
    /// reads as empty until it appears.
    pub fn open(path: &Path, options: LogOptions) -> Result<LogReader> {
        let mut r = LogReader {
            path: path.to_path_buf(),
            current: None,
            offset: 0,
            partial: Vec::new(),
            options,
        };
        r.current = r.open_current()?;
        Ok(r)
    }

    fn open_current(&self) -> Result<Option<File>> {
        match File::open(&self.path) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(EngineError::io_path("cannot open log file", &self.path, e)),
        }
    }

    /// Everything currently in the log that the options select (applies `tail`).
    pub fn read_existing(&mut self) -> Result<Vec<LogEntry>> {
        match self.options.tail {
            Some(n) => self.tail(n),
            None => {
                let mut out = Vec::new();
                for f in files::rotated_files(&self.path) {
                    self.read_whole(&f, |e| {
                        out.push(e);
                        true
                    })?;
                }
                out.extend(self.read_available()?);
                Ok(out)
            }
        }
    }

    /// Reads a rotated file forward, passing the selected entries to `f` until it says stop.
    fn read_whole(&self, file: &LogFile, mut f: impl FnMut(LogEntry) -> bool) -> Result<()> {
        let reader = match file.reader() {
            Ok(r) => r,
            // Rotated away meanwhile: its entries moved on to an older file (or were dropped).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(read_err(&file.path, e)),
        };
        for line in BufReader::new(reader).split(b'\n') {
            let line = line.map_err(|e| read_err(&file.path, e))?;
            if let Some(e) = parse(&line).filter(|e| self.options.keep(e)) {
                if !f(e) {
                    break;
                }
            }
        }
        Ok(())
    }

    /// The last `n` selected entries: the current file backwards, then older files.
    fn tail(&mut self, n: usize) -> Result<Vec<LogEntry>> {
        let mut newest: Vec<LogEntry> = Vec::new();
        if n == 0 {
            self.seek_end()?;
            return Ok(newest);
        }
        let options = self.options.clone();
        // Entries are in time order: once one is older than --since, so is everything before.
        let older_than_since = std::cell::Cell::new(false);
        let take = |line: &[u8], newest: &mut Vec<LogEntry>| -> bool {
            if let Some(e) = parse(line) {
                if options.since.is_some_and(|s| e.time < s) {
                    older_than_since.set(true);
                    return false;
                }
                if options.keep(&e) {
                    newest.push(e);
                }
            }
            newest.len() < n
        };
        if let Some(cur) = self.current.as_ref() {
            let end = cur.metadata().map_err(|e| read_err(&self.path, e))?.len();
            self.offset = lines_backwards(cur, end, |l| take(l, &mut newest))
                .map_err(|e| read_err(&self.path, e))?;
        }
        for f in files::rotated_files(&self.path).iter().rev() {
            if newest.len() >= n || older_than_since.get() {
                break;
            }
            let need = n - newest.len();
            if f.compressed {
                let mut last: VecDeque<LogEntry> = VecDeque::new();
                self.read_whole(f, |e| {
                    if last.len() == need {
                        last.pop_front();
                    }
                    last.push_back(e);
                    true
                })?;
                newest.extend(last.into_iter().rev());
            } else if let Ok(file) = File::open(&f.path) {
                let end = file.metadata().map_err(|e| read_err(&f.path, e))?.len();
                lines_backwards(&file, end, |l| take(l, &mut newest))
                    .map_err(|e| read_err(&f.path, e))?;
            }
        }
        newest.truncate(n);
        newest.reverse();
        Ok(newest)
    }

    /// Whether the current file was rotated away (the path names another file now), or
    /// truncated under us.
    fn replaced(&self) -> bool {
        let Some(cur) = self.current.as_ref() else {
            return true;
        };
        let (Ok(now), Ok(ours)) = (std::fs::metadata(&self.path), cur.metadata()) else {
            return false;
        };
        now.ino() != ours.ino() || now.dev() != ours.dev()
    }

    /// The complete entries written since the last call (selected by since/until), following
    /// the log into its next file when it rotates.
    pub fn read_available(&mut self) -> Result<Vec<LogEntry>> {
        let mut out = Vec::new();
        loop {
            self.drain_current(&mut out)?;
            if !self.replaced() {
                break;
            }
            // Rotated: what the old file held is read; go on with the new one from its start.
            match self.open_current()? {
                Some(f) => {
                    self.current = Some(f);
                    self.offset = 0;
                    self.partial.clear();
                }
                None => break,
            }
        }
        Ok(out)
    }

    fn drain_current(&mut self, out: &mut Vec<LogEntry>) -> Result<()> {
        let Some(cur) = self.current.as_ref() else {
            return Ok(());
        };
        let len = cur.metadata().map_err(|e| read_err(&self.path, e))?.len();
        if len < self.offset {
            // Truncated (max-file 1): start over.
            self.offset = 0;
            self.partial.clear();
        }
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = cur
                .read_at(&mut buf, self.offset)
                .map_err(|e| read_err(&self.path, e))?;
            if n == 0 {
                break;
            }
            self.offset += n as u64;
            let mut start = 0;
            for (i, b) in buf[..n].iter().enumerate() {
                if *b != b'\n' {
                    continue;
                }
                let entry = if self.partial.is_empty() {
                    parse(&buf[start..i])
                } else {
                    self.partial.extend_from_slice(&buf[start..i]);
                    let e = parse(&self.partial);
                    self.partial.clear();
                    e
                };
                if let Some(e) = entry.filter(|e| self.options.keep(e)) {
                    out.push(e);
                }
                start = i + 1;
            }
            self.partial.extend_from_slice(&buf[start..n]);
        }
        Ok(())
    }

    /// Skips to the end (for following only new output).
    pub fn seek_end(&mut self) -> Result<()> {
        if let Some(cur) = self.current.as_ref() {
            self.offset = cur.metadata().map_err(|e| read_err(&self.path, e))?.len();
        }
        self.partial.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::logs::{LogDriver, LogPolicy, LogWriter, Stream};

    fn texts(v: &[LogEntry]) -> Vec<String> {
        v.iter().map(|e| e.line.trim_end().to_string()).collect()
    }

    #[test]
    fn a_follower_reads_every_rotation_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.json");
        let policy = LogPolicy {
            driver: LogDriver::Local,
            max_size: 600,
            max_file: 100,
            compress: true,
        };
        let mut w = LogWriter::with_policy(&path, policy).unwrap();
        let mut r = LogReader::open(&path, LogOptions::default()).unwrap();
        let mut got = texts(&r.read_existing().unwrap());
        for i in 0..200 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes());
            if i % 7 == 0 {
                got.extend(texts(&r.read_available().unwrap()));
            }
        }
        got.extend(texts(&r.read_available().unwrap()));
        let want: Vec<String> = (0..200).map(|i| format!("line {i}")).collect();
        assert_eq!(got, want);
        assert!(files::rotated_files(&path).len() > 10);
        assert!(files::rotated_files(&path).iter().all(|f| f.compressed));
        // A fresh reader sees the same, from the gzipped files and the current one.
        let all = LogReader::open(&path, LogOptions::default())
            .unwrap()
            .read_existing()
            .unwrap();
        assert_eq!(texts(&all), want);
        let tail = LogReader::open(
            &path,
            LogOptions {
                tail: Some(30),
                ..Default::default()
            },
        )
        .unwrap()
        .read_existing()
        .unwrap();
        assert_eq!(texts(&tail), want[170..].to_vec());
    }

    #[test]
    fn tail_reads_from_the_end_of_a_huge_log() {
        // 4 GiB of hole, then a few entries: reading it forward would mean 4 GiB of zeros
        // buffered as one line; from the end, only the last block is read.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.json");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(4 << 30).unwrap();
        drop(f);
        let mut w = LogWriter::open(&path).unwrap();
        for i in 0..5 {
            w.write(Stream::Stderr, format!("end {i}\n").as_bytes());
        }
        let mut r = LogReader::open(
            &path,
            LogOptions {
                tail: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        let got = r.read_existing().unwrap();
        assert_eq!(texts(&got), vec!["end 3", "end 4"]);
        assert_eq!(got[1].stream, Stream::Stderr);
        // Following goes on after the tail.
        w.write(Stream::Stdout, b"more\n");
        assert_eq!(texts(&r.read_available().unwrap()), vec!["more"]);
    }
}
