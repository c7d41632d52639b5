//! The monitor's log writer: json lines into `log.json`, rotated by size into `log.json.1`,
//! `log.json.2`… (gzipped to `log.json.N.gz` with `compress`), and never an obstacle to the
//! relay: when a write fails (a full disk, a removed directory) the partial entries are cut
//! off, output is dropped and counted, writing is retried a few times a second, and when it
//! works again a marker entry on stderr says how much was lost and why.
//!
//! The entries of one read of the container's output share its time and go to the file in one
//! `write` (up to [`BATCH`] bytes at a time): the relay's hot path, kept free of allocation and
//! of libc (`engine::monitor::rawsys`). Near a rotation the writer goes entry by entry again, so
//! every file ends with a whole entry and stays under its size limit as before.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};

use super::config::LogPolicy;
use super::encode::{self, Stamp};
use super::files;
use super::{Stream, MAX_LINE};
use crate::engine::error::{IoContext, Result};
use crate::engine::monitor::rawsys;

/// How often a failed log is tried again.
const RETRY: Duration = Duration::from_millis(200);
/// Entries are written once this many bytes of them are waiting.
pub const BATCH: usize = 8 * 1024;

/// Output lost while the log could not be written.
#[derive(Debug, Default, Clone)]
struct Dropped {
    lines: u64,
    bytes: u64,
    since: Option<DateTime<Utc>>,
    error: String,
    last_try: Option<Instant>,
}

/// Writes a container's output to its log file, line by line.
pub struct LogWriter {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    policy: LogPolicy,
    pending: [Vec<u8>; 2],
    dropped: Dropped,
    /// Entries encoded and not written yet (empty between calls), with the output lines and
    /// bytes they hold (what is counted as dropped if they cannot be written).
    batch: Vec<u8>,
    batch_lines: u64,
    batch_bytes: u64,
    /// Called after every rotation (see [`LogWriter::after_rotate`]).
    after_rotate: Option<fn()>,
}

impl LogWriter {
    /// Appends to `path` (created if missing), without rotation.
    pub fn open(path: &Path) -> Result<LogWriter> {
        LogWriter::with_policy(path, LogPolicy::unbounded())
    }

    /// Appends to `path` (created if missing), rotating as `policy` says.
    pub fn with_policy(path: &Path, policy: LogPolicy) -> Result<LogWriter> {
        let file = files::open_append(path).ctx("cannot open log file", path)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(LogWriter::from_parts(
            path.to_path_buf(),
            Some(file),
            size,
            policy,
            [Vec::new(), Vec::new()],
            Dropped::default(),
        ))
    }

    fn from_parts(
        path: PathBuf,
        file: Option<File>,
        size: u64,
        policy: LogPolicy,
        pending: [Vec<u8>; 2],
        dropped: Dropped,
    ) -> LogWriter {
        LogWriter {
            path,
            file,
            size,
            policy,
            pending,
            dropped,
            batch: Vec::new(),
            batch_lines: 0,
            batch_bytes: 0,
            after_rotate: None,
        }
    }

    /// Lines and bytes dropped so far and not yet reported in the log.
    pub fn dropped(&self) -> (u64, u64) {
        (self.dropped.lines, self.dropped.bytes)
    }

    /// Allocates the batch and the unfinished lines' room up front (see
    /// `attach::server::Server::prepare`): the loop then allocates nothing unless an entry is
    /// far longer than usual.
    #[link_section = ".berth_relay"]
    pub fn prepare(&mut self) {
        // Room for that many bytes in all: a second call allocates nothing.
        self.batch
            .reserve((2 * BATCH).saturating_sub(self.batch.len()));
        for p in &mut self.pending {
            p.reserve(MAX_LINE.saturating_sub(p.len()));
        }
    }

    /// Calls `hook` after every rotation (the relay binary gives back the code pages the
    /// rotation's file calls faulted in: `monitor::trim`).
    pub fn after_rotate(&mut self, hook: fn()) {
        self.after_rotate = Some(hook);
    }

    /// One entry on its own (the marker for dropped output).
    fn encode(stream: Stream, bytes: &[u8], time: DateTime<Utc>) -> Vec<u8> {
        let mut out = Vec::with_capacity(encode::bound(bytes.len()));
        let stamp = Stamp::new(time.timestamp(), time.timestamp_subsec_nanos());
        encode::entry(&mut out, stream, bytes, &stamp);
        out
    }

    #[link_section = ".berth_relay"]
    fn emit(&mut self, stream: Stream, bytes: &[u8], stamp: &Stamp) {
        if self.dropped.lines > 0 {
            let due = self.dropped.last_try.is_none_or(|t| t.elapsed() >= RETRY);
            if !due || !self.report_dropped(stamp.time()) {
                self.dropped.lines += 1;
                self.dropped.bytes += bytes.len() as u64;
                return;
            }
        }
        let near_rotation = self
            .size
            .saturating_add((self.batch.len() + encode::bound(bytes.len())) as u64)
            > self.policy.max_size;
        if near_rotation {
            // Entry by entry, so that the rotation falls between two entries.
            self.write_batch(stamp);
            if self.dropped.lines > 0 {
                self.dropped.lines += 1;
                self.dropped.bytes += bytes.len() as u64;
                return;
            }
        }
        encode::entry(&mut self.batch, stream, bytes, stamp);
        self.batch_lines += 1;
        self.batch_bytes += bytes.len() as u64;
        if near_rotation {
            let len = self.batch.len() as u64;
            if self.size > 0 && self.size.saturating_add(len) > self.policy.max_size {
                if let Err(e) = self.rotate() {
                    self.batch_failed(stamp, &e);
                    return;
                }
            }
            self.write_batch(stamp);
        } else if self.batch.len() >= BATCH {
            self.write_batch(stamp);
        }
    }

    /// Counts the batch as dropped and empties it.
    fn batch_failed(&mut self, stamp: &Stamp, e: &std::io::Error) {
        self.start_dropping(stamp.time(), e);
        self.dropped.lines += self.batch_lines;
        self.dropped.bytes += self.batch_bytes;
        self.batch.clear();
        self.batch_lines = 0;
        self.batch_bytes = 0;
    }

    /// Writes the batch; what cannot be written is cut off the file and counted as dropped.
    #[link_section = ".berth_relay"]
    fn write_batch(&mut self, stamp: &Stamp) {
        if self.batch.is_empty() {
            return;
        }
        if let Err(e) = self.append_batch() {
            self.batch_failed(stamp, &e);
        }
        self.batch.clear();
        self.batch_lines = 0;
        self.batch_bytes = 0;
        if self.batch.capacity() > 8 * BATCH {
            // A burst of escaped bytes: not kept resident.
            self.batch.shrink_to(BATCH);
        }
    }

    #[link_section = ".berth_relay"]
    fn append_batch(&mut self) -> std::io::Result<()> {
        if self.file.is_none() {
            self.reopen()?;
        }
        let Some(file) = self.file.as_ref() else {
            return Err(std::io::Error::other("the log file is not open"));
        };
        match rawsys::write_all(file.as_raw_fd(), &self.batch) {
            Ok(()) => {
                self.size += self.batch.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.cut_back();
                Err(e)
            }
        }
    }

    fn reopen(&mut self) -> std::io::Result<()> {
        let f = files::open_append(&self.path)?;
        self.size = f.metadata()?.len();
        self.file = Some(f);
        Ok(())
    }

    /// Never leaves part of an entry after a failed write: readers would lose the next one too.
    fn cut_back(&mut self) {
        if let Some(file) = self.file.as_ref() {
            if file.set_len(self.size).is_err() {
                self.file = None;
            }
        }
    }

    fn start_dropping(&mut self, now: DateTime<Utc>, e: &std::io::Error) {
        if self.dropped.since.is_none() {
            self.dropped.since = Some(now);
            self.dropped.error = e.to_string();
        }
        self.dropped.last_try = Some(Instant::now());
    }

    /// Writes the marker for what was dropped; `true` when it is in the log.
    fn report_dropped(&mut self, now: DateTime<Utc>) -> bool {
        let d = &self.dropped;
        let since = d
            .since
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
            .unwrap_or_default();
        let text = format!(
            "berth: dropped {} log lines ({} bytes) of output since {since}: cannot write {}: {}\n",
            d.lines,
            d.bytes,
            self.path.display(),
            d.error
        );
        let line = Self::encode(Stream::Stderr, text.as_bytes(), now);
        match self.append(&line) {
            Ok(()) => {
                self.dropped = Dropped::default();
                true
            }
            Err(_) => {
                self.dropped.last_try = Some(Instant::now());
                false
            }
        }
    }

    /// Appends one encoded entry, rotating first when it would pass `max_size`. On failure the
    /// file is cut back to its last complete entry.
    fn append(&mut self, line: &[u8]) -> std::io::Result<()> {
        let len = line.len() as u64;
        if self.size > 0 && self.size.saturating_add(len) > self.policy.max_size {
            self.rotate()?;
        }
        if self.file.is_none() {
            self.reopen()?;
        }
        let Some(file) = self.file.as_mut() else {
            return Err(std::io::Error::other("the log file is not open"));
        };
        match file.write_all(line) {
            Ok(()) => {
                self.size += len;
                Ok(())
            }
            Err(e) => {
                self.cut_back();
                Err(e)
            }
        }
    }

    /// Closes the current file and starts a new one (see [`files::rotate`]). In the relay's
    /// section: the hook drops the code pages, and this function's end runs after it.
    #[link_section = ".berth_relay"]
    fn rotate(&mut self) -> std::io::Result<()> {
        if self.policy.max_file <= 1 {
            if let Some(f) = self.file.as_ref() {
                f.set_len(0)?;
            }
            self.size = 0;
            return Ok(());
        }
        self.file = None;
        files::rotate(&self.path, self.policy.max_file, self.policy.compress)?;
        self.reopen()?;
        if let Some(hook) = self.after_rotate {
            hook();
        }
        Ok(())
    }

    /// Takes bytes read from `stream`; writes every complete line and every full 16 KiB piece,
    /// all at the time of this call. Never fails: what cannot be written is counted and
    /// reported later in the log.
    #[link_section = ".berth_relay"]
    pub fn write(&mut self, stream: Stream, data: &[u8]) {
        let (secs, nanos) = rawsys::realtime();
        let stamp = Stamp::new(secs, nanos);
        let idx = stream as usize;
        let mut data = data;
        if !self.pending[idx].is_empty() {
            // The unfinished line is completed from the start of this read (never the whole
            // read copied: it would keep a read-sized buffer resident).
            let mut line = std::mem::take(&mut self.pending[idx]);
            let room = MAX_LINE.saturating_sub(line.len()).min(data.len());
            let mut take = room;
            for (i, b) in data[..room].iter().enumerate() {
                if *b == b'\n' {
                    take = i + 1;
                    break;
                }
            }
            line.extend_from_slice(&data[..take]);
            data = &data[take..];
            if line.last() == Some(&b'\n') || line.len() >= MAX_LINE {
                self.emit(stream, &line, &stamp);
                line.clear();
            }
            self.pending[idx] = line;
        }
        if self.pending[idx].is_empty() {
            // Lines straight from the bytes read, only the unfinished end kept.
            let used = self.emit_lines(stream, data, &stamp);
            self.pending[idx].extend_from_slice(&data[used..]);
        }
        self.write_batch(&stamp);
    }

    /// Writes every complete line and every full [`MAX_LINE`] piece of `buf`; returns how many
    /// bytes were written.
    #[link_section = ".berth_relay"]
    fn emit_lines(&mut self, stream: Stream, buf: &[u8], stamp: &Stamp) -> usize {
        let mut start = 0;
        loop {
            let rest = &buf[start..];
            let end = rest.len().min(MAX_LINE);
            let mut nl = None;
            for (i, b) in rest[..end].iter().enumerate() {
                if *b == b'\n' {
                    nl = Some(i);
                    break;
                }
            }
            match nl {
                Some(nl) => {
                    self.emit(stream, &rest[..nl + 1], stamp);
                    start += nl + 1;
                }
                None if rest.len() >= MAX_LINE => {
                    self.emit(stream, &rest[..MAX_LINE], stamp);
                    start += MAX_LINE;
                }
                None => return start,
            }
        }
    }

    /// Writes what is left of unfinished lines (at the end of the output), and the marker for
    /// dropped output if the log can be written again.
    pub fn flush(&mut self) {
        let (secs, nanos) = rawsys::realtime();
        let stamp = Stamp::new(secs, nanos);
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut self.pending[stream as usize]);
            if !rest.is_empty() {
                self.emit(stream, &rest, &stamp);
            }
        }
        self.write_batch(&stamp);
        if self.dropped.lines > 0 {
            self.dropped.last_try = None;
            self.report_dropped(stamp.time());
        }
    }
}
impl LogWriter {
    /// Writes the writer's state (its open file, unfinished lines, what it dropped) for
    /// [`LogWriter::load`] in the program the monitor executes next.
    pub fn save(&self, w: &mut crate::engine::monitor::wire::Writer) {
        w.bytes(self.path.as_os_str().as_encoded_bytes());
        w.fd(self.file.as_ref());
        w.u64(self.size);
        w.u64(match self.policy.driver {
            super::LogDriver::JsonFile => 0,
            super::LogDriver::Local => 1,
            super::LogDriver::None => 2,
        });
        w.u64(self.policy.max_size);
        w.u64(u64::from(self.policy.max_file));
        w.bool(self.policy.compress);
        w.bytes(&self.pending[0]);
        w.bytes(&self.pending[1]);
        w.u64(self.dropped.lines);
        w.u64(self.dropped.bytes);
        w.str(
            &self
                .dropped
                .since
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Nanos, true))
                .unwrap_or_default(),
        );
        w.str(&self.dropped.error);
    }

    /// The writer [`LogWriter::save`] wrote (a failed write is retried at once).
    pub fn load(r: &mut crate::engine::monitor::wire::Reader) -> Result<LogWriter> {
        use std::os::unix::ffi::OsStringExt;
        let path = PathBuf::from(std::ffi::OsString::from_vec(r.bytes()?));
        let file = r.file()?;
        let size = r.u64()?;
        let driver = match r.u64()? {
            0 => super::LogDriver::JsonFile,
            1 => super::LogDriver::Local,
            _ => super::LogDriver::None,
        };
        let policy = LogPolicy {
            driver,
            max_size: r.u64()?,
            max_file: u32::try_from(r.u64()?).unwrap_or(u32::MAX),
            compress: r.bool()?,
        };
        let pending = [r.bytes()?, r.bytes()?];
        let lines = r.u64()?;
        let bytes = r.u64()?;
        let since = DateTime::parse_from_rfc3339(&r.string()?)
            .ok()
            .map(|t| t.with_timezone(&Utc));
        let error = r.string()?;
        Ok(LogWriter::from_parts(
            path,
            file,
            size,
            policy,
            pending,
            Dropped {
                lines,
                bytes,
                since,
                error,
                last_try: None,
            },
        ))
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
