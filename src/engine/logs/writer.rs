//! The monitor's log writer: json lines into `log.json`, rotated by size into `log.json.1`,
//! `log.json.2`… (gzipped to `log.json.N.gz` with `compress`), and never an obstacle to the
//! relay: when a write fails (a full disk, a removed directory) the partial line is cut off,
//! output is dropped and counted, writing is retried a few times a second, and when it works
//! again a marker entry on stderr says how much was lost and why.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};

use super::config::LogPolicy;
use super::files;
use super::{Stream, MAX_LINE};
use crate::engine::error::{IoContext, Result};

/// How often a failed log is tried again.
const RETRY: Duration = Duration::from_millis(200);

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
        Ok(LogWriter {
            path: path.to_path_buf(),
            file: Some(file),
            size,
            policy,
            pending: [Vec::new(), Vec::new()],
            dropped: Dropped::default(),
        })
    }

    /// Lines and bytes dropped so far and not yet reported in the log.
    pub fn dropped(&self) -> (u64, u64) {
        (self.dropped.lines, self.dropped.bytes)
    }

    /// One json-file entry, `{"log":…,"stream":…,"time":…}` and a newline: the bytes
    /// serde_json writes for that object, by a short loop of the relay's own (the monitor's
    /// hot path: less code to fault back in while it relays, no map built per line).
    fn encode(stream: Stream, bytes: &[u8], time: DateTime<Utc>) -> Vec<u8> {
        let text = String::from_utf8_lossy(bytes);
        let mut out = Vec::with_capacity(text.len() + 80);
        out.extend_from_slice(b"{\"log\":\"");
        escape_json(&text, &mut out);
        out.extend_from_slice(match stream {
            Stream::Stdout => b"\",\"stream\":\"stdout\",\"time\":\"",
            Stream::Stderr => b"\",\"stream\":\"stderr\",\"time\":\"",
        });
        rfc3339_nanos(time, &mut out);
        out.extend_from_slice(b"\"}\n");
        out
    }

    fn emit(&mut self, stream: Stream, bytes: &[u8]) {
        let now = Utc::now();
        if self.dropped.lines > 0 {
            let due = self.dropped.last_try.is_none_or(|t| t.elapsed() >= RETRY);
            if !due || !self.report_dropped(now) {
                self.dropped.lines += 1;
                self.dropped.bytes += bytes.len() as u64;
                return;
            }
        }
        let line = Self::encode(stream, bytes, now);
        if let Err(e) = self.append(&line) {
            self.start_dropping(now, &e);
            self.dropped.lines += 1;
            self.dropped.bytes += bytes.len() as u64;
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
            let f = files::open_append(&self.path)?;
            self.size = f.metadata()?.len();
            self.file = Some(f);
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
                // Never leave half an entry: readers would lose the next one too.
                if file.set_len(self.size).is_err() {
                    self.file = None;
                }
                Err(e)
            }
        }
    }

    /// Closes the current file and starts a new one (see [`files::rotate`]).
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
        let f = files::open_append(&self.path)?;
        self.size = f.metadata()?.len();
        self.file = Some(f);
        Ok(())
    }

    /// Takes bytes read from `stream`; writes every complete line and every full 16 KiB piece.
    /// Never fails: what cannot be written is counted and reported later in the log.
    pub fn write(&mut self, stream: Stream, data: &[u8]) {
        let idx = stream as usize;
        if self.pending[idx].is_empty() {
            // The usual case: lines straight from the bytes read, only the unfinished end kept
            // (no copy of the whole read, which would keep a read-sized buffer resident).
            let used = self.emit_lines(stream, data);
            self.pending[idx] = data[used..].to_vec();
            return;
        }
        let mut buf = std::mem::take(&mut self.pending[idx]);
        buf.extend_from_slice(data);
        let used = self.emit_lines(stream, &buf);
        buf.drain(..used);
        buf.shrink_to(MAX_LINE);
        self.pending[idx] = buf;
    }

    /// Writes every complete line and every full [`MAX_LINE`] piece of `buf`; returns how many
    /// bytes were written.
    fn emit_lines(&mut self, stream: Stream, buf: &[u8]) -> usize {
        let mut start = 0;
        loop {
            let rest = &buf[start..];
            match rest.iter().position(|b| *b == b'\n') {
                Some(nl) if nl < MAX_LINE => {
                    self.emit(stream, &buf[start..start + nl + 1]);
                    start += nl + 1;
                }
                _ if rest.len() >= MAX_LINE => {
                    self.emit(stream, &buf[start..start + MAX_LINE]);
                    start += MAX_LINE;
                }
                _ => return start,
            }
        }
    }

    /// Writes what is left of unfinished lines (at the end of the output), and the marker for
    /// dropped output if the log can be written again.
    pub fn flush(&mut self) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut self.pending[stream as usize]);
            if !rest.is_empty() {
                self.emit(stream, &rest);
            }
        }
        if self.dropped.lines > 0 {
            self.dropped.last_try = None;
            self.report_dropped(Utc::now());
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
        Ok(LogWriter {
            path,
            file,
            size,
            policy,
            pending,
            dropped: Dropped {
                lines,
                bytes,
                since,
                error,
                last_try: None,
            },
        })
    }
}

/// `time` as chrono's `to_rfc3339_opts(SecondsFormat::Nanos, true)` writes it
/// (`2026-12-07T19:47:32.648149211Z`), by a short loop of the writer's own: the relay binary
/// runs it for every line, and chrono's general formatter is much more code to keep resident.
fn rfc3339_nanos(time: DateTime<Utc>, out: &mut Vec<u8>) {
    let secs = time.timestamp();
    let nanos = time.timestamp_subsec_nanos();
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil-date.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    push_digits(out, year, 4);
    out.push(b'-');
    push_digits(out, month, 2);
    out.push(b'-');
    push_digits(out, day, 2);
    out.push(b'T');
    push_digits(out, day_secs / 3600, 2);
    out.push(b':');
    push_digits(out, day_secs / 60 % 60, 2);
    out.push(b':');
    push_digits(out, day_secs % 60, 2);
    out.push(b'.');
    push_digits(out, i64::from(nanos), 9);
    out.push(b'Z');
}

/// `v` in `width` decimal digits, zero-padded.
fn push_digits(out: &mut Vec<u8>, v: i64, width: u32) {
    for i in (0..width).rev() {
        out.push(b'0' + (v / 10_i64.pow(i) % 10) as u8);
    }
}

/// `text` as the inside of a JSON string, escaped as serde_json escapes it: `"` and `\\`,
/// the short forms of backspace, form feed, newline, carriage return and tab, `\\u00XX` for the
/// other control characters; everything else as it is.
fn escape_json(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            0..=0x1f => 0,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if short == 0 {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', short]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        use chrono::TimeZone;
        let mut times = vec![Utc::now()];
        for (secs, nanos) in [
            (0, 0),
            (951_782_400, 1),             // 2000-02-29
            (1_709_164_799, 999_999_999), // 2024-02-28T23:59:59
            (1_798_761_599, 500),         // 2026-12-31T23:59:59
            (4_107_542_400, 123_456_789), // 2100-03-01
            (253_402_300_799, 7),         // 9999-12-31T23:59:59
        ] {
            times.push(Utc.timestamp_opt(secs, nanos).unwrap());
        }
        for t in times {
            let mut got = Vec::new();
            rfc3339_nanos(t, &mut got);
            assert_eq!(
                String::from_utf8(got).unwrap(),
                t.to_rfc3339_opts(SecondsFormat::Nanos, true)
            );
        }
    }

    #[test]
    fn entries_are_the_bytes_serde_json_writes() {
        let time = Utc::now();
        let samples: [&[u8]; 7] = [
            b"hello\n",
            b"",
            b"quote \" backslash \\ slash / tab \t cr \r\n",
            b"\x00\x01\x08\x0b\x0c\x1b\x1f\x7f end",
            "unicode é ✓ \u{2028}".as_bytes(),
            b"invalid \xff\xfe utf-8\n",
            b"\"\\",
        ];
        for (bytes, stream) in samples
            .iter()
            .zip([Stream::Stdout, Stream::Stderr].iter().cycle())
        {
            let mut want = serde_json::json!({
                "log": String::from_utf8_lossy(bytes),
                "stream": stream,
                "time": time.to_rfc3339_opts(SecondsFormat::Nanos, true),
            })
            .to_string();
            want.push('\n');
            let got = LogWriter::encode(*stream, bytes, time);
            assert_eq!(String::from_utf8(got).unwrap(), want, "{bytes:?}");
        }
    }
}
