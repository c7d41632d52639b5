//! Bounded log buffers: one ring per container, capped in lines and bytes so a chatty
//! container keeps memory flat, and a merged newest-first walk over several of them ordered by
//! time (then arrival).
//!
//! A ring stores its lines compactly, for ten full buffers of 10,000 lines fit the TUI's memory
//! budget: the text of the lines back to back in byte chunks of at most [`CHUNK`] bytes (a line
//! never straddles two), and an index of 24 bytes a line (time, arrival number, chunk, offset,
//! length and stream). A chunk is freed once the oldest lines it held are dropped. Walks hand
//! out [`Entry`] views borrowing the text; styles (ANSI SGR) are parsed by the pane at draw
//! time, for the lines on screen only.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use super::model::{LogLine, Stream};

/// Longest line kept; the rest is cut (Docker splits lines at 16 KiB too).
pub const MAX_LINE: usize = 16 * 1024;

/// Largest text chunk of a ring. Holds at least one line of [`MAX_LINE`] bytes; its offsets
/// fit a `u16`.
const CHUNK: usize = 32 * 1024;

/// Capacity a new chunk starts with; it doubles up to [`CHUNK`] as lines arrive, so that a
/// quiet container costs little.
const FIRST_CHUNK: usize = 1024;

/// Set in [`Meta::len`] for a line of stderr.
const STDERR: u16 = 1 << 15;

/// One stored line, as a walk yields it. `time` never goes backwards within a container, so
/// that every walk is ordered by `(time, seq)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    pub seq: u64,
    pub time: DateTime<Utc>,
    pub stream: Stream,
    pub text: &'a str,
}

impl Entry<'_> {
    /// Position of the entry in every walk.
    pub fn key(&self) -> (DateTime<Utc>, u64) {
        (self.time, self.seq)
    }
}

/// Where a line is and what it is: 24 bytes.
#[derive(Debug, Clone, Copy)]
struct Meta {
    /// Nanoseconds since the epoch.
    nanos: i64,
    seq: u64,
    /// Number of the chunk holding the text (counts up, wrapping).
    chunk: u32,
    /// Offset of the text in its chunk.
    off: u16,
    /// Length of the text, with [`STDERR`] set for stderr.
    len: u16,
}

#[derive(Debug)]
struct Ring {
    index: VecDeque<Meta>,
    chunks: VecDeque<Vec<u8>>,
    /// Number of `chunks[0]`.
    first_chunk: u32,
    /// Bytes of text of the lines held.
    bytes: usize,
}

/// The ring of a container that has no lines.
static EMPTY: Ring = Ring {
    index: VecDeque::new(),
    chunks: VecDeque::new(),
    first_chunk: 0,
    bytes: 0,
};

impl Ring {
    fn new() -> Self {
        Ring {
            index: VecDeque::new(),
            chunks: VecDeque::new(),
            first_chunk: 0,
            bytes: 0,
        }
    }

    fn entry(&self, m: &Meta) -> Entry<'_> {
        let chunk = &self.chunks[m.chunk.wrapping_sub(self.first_chunk) as usize];
        let at = usize::from(m.off);
        let bytes = &chunk[at..at + usize::from(m.len & !STDERR)];
        Entry {
            seq: m.seq,
            time: DateTime::from_timestamp_nanos(m.nanos),
            stream: if m.len & STDERR != 0 {
                Stream::Stderr
            } else {
                Stream::Stdout
            },
            // SAFETY: the bytes were copied whole from a `&str` cut on a char boundary
            // (`push`), and chunks are only appended to or dropped whole.
            text: unsafe { std::str::from_utf8_unchecked(bytes) },
        }
    }

    /// Copies `text` into the last chunk, or a new one when it does not fit; returns the
    /// chunk's number and the offset.
    fn store(&mut self, text: &[u8]) -> (u32, u16) {
        let fits = self
            .chunks
            .back()
            .is_some_and(|c| c.len() + text.len() <= CHUNK);
        if !fits {
            self.chunks
                .push_back(Vec::with_capacity(FIRST_CHUNK.max(text.len())));
        }
        let last = self.chunks.len() - 1;
        let chunk = &mut self.chunks[last];
        let need = chunk.len() + text.len();
        if need > chunk.capacity() {
            let grown = (chunk.capacity() * 2).clamp(need, CHUNK);
            chunk.reserve_exact(grown - chunk.len());
        }
        let off = chunk.len();
        chunk.extend_from_slice(text);
        let number = self.first_chunk.wrapping_add(last as u32);
        (number, off as u16)
    }

    /// Drops the oldest line, and the chunks no line is in any more.
    fn pop_front(&mut self) {
        let Some(old) = self.index.pop_front() else {
            return;
        };
        self.bytes -= usize::from(old.len & !STDERR);
        match self.index.front() {
            Some(next) => {
                while self.first_chunk != next.chunk {
                    self.chunks.pop_front();
                    self.first_chunk = self.first_chunk.wrapping_add(1);
                }
            }
            None => {
                self.first_chunk = self.first_chunk.wrapping_add(self.chunks.len() as u32);
                self.chunks.clear();
            }
        }
    }
}

/// All log buffers of the session.
#[derive(Debug)]
pub struct LogStore {
    max_lines: usize,
    max_bytes: usize,
    next_seq: u64,
    rings: HashMap<String, Ring>,
}

impl LogStore {
    /// Buffers of at most `max_lines` lines and `max_bytes` bytes of text each.
    pub fn new(max_lines: usize, max_bytes: usize) -> Self {
        LogStore {
            max_lines: max_lines.max(1),
            max_bytes: max_bytes.max(MAX_LINE),
            next_seq: 0,
            rings: HashMap::new(),
        }
    }

    /// Appends a line, dropping the oldest ones past the caps.
    pub fn push(&mut self, line: LogLine) {
        let ring = self.rings.entry(line.container).or_insert_with(Ring::new);
        let mut cut = line.text.len().min(MAX_LINE);
        while !line.text.is_char_boundary(cut) {
            cut -= 1;
        }
        let text = &line.text.as_bytes()[..cut];
        let nanos = line
            .time
            .timestamp_nanos_opt()
            .unwrap_or(if line.time.timestamp() < 0 {
                i64::MIN
            } else {
                i64::MAX
            });
        let nanos = ring
            .index
            .back()
            .map_or(nanos, |last| nanos.max(last.nanos));
        while ring.index.len() >= self.max_lines {
            ring.pop_front();
        }
        // The index grows to the cap exactly, not to the next power of two.
        if ring.index.len() == ring.index.capacity() {
            let more = ring
                .index
                .len()
                .max(8)
                .min(self.max_lines - ring.index.len());
            ring.index.reserve_exact(more);
        }
        let (chunk, off) = ring.store(text);
        let mut len = text.len() as u16;
        if line.stream == Stream::Stderr {
            len |= STDERR;
        }
        self.next_seq += 1;
        ring.bytes += text.len();
        ring.index.push_back(Meta {
            nanos,
            seq: self.next_seq,
            chunk,
            off,
            len,
        });
        while ring.bytes > self.max_bytes && ring.index.len() > 1 {
            ring.pop_front();
        }
    }

    /// Forgets a container's lines.
    pub fn clear(&mut self, container: &str) {
        self.rings.remove(container);
    }

    /// Number of lines held for a container.
    pub fn len(&self, container: &str) -> usize {
        self.rings.get(container).map_or(0, |r| r.index.len())
    }

    /// Bytes of text held for a container.
    pub fn bytes(&self, container: &str) -> usize {
        self.rings.get(container).map_or(0, |r| r.bytes)
    }

    /// Bytes of memory the buffers hold (text chunks and index), for the memory benchmark.
    pub fn footprint(&self) -> usize {
        self.rings
            .values()
            .map(|r| {
                r.chunks.iter().map(Vec::capacity).sum::<usize>()
                    + r.index.capacity() * std::mem::size_of::<Meta>()
            })
            .sum()
    }

    /// The lines of `containers`, newest first, merged by time. Yields the container's index in
    /// `containers` with each entry.
    pub fn newest_first<'a>(&'a self, containers: &[String]) -> NewestFirst<'a> {
        self.newest_first_upto(containers, None)
    }

    /// Like [`LogStore::newest_first`], from the newest line at or before `upto` (each ring's
    /// index is ordered by key, so the start is found by bisection, not by walking the newer
    /// lines).
    pub fn newest_first_upto<'a>(
        &'a self,
        containers: &[String],
        upto: Option<(DateTime<Utc>, u64)>,
    ) -> NewestFirst<'a> {
        let upto = upto.map(|(t, seq)| (t.timestamp_nanos_opt().unwrap_or(i64::MAX), seq));
        let heads = containers
            .iter()
            .map(|c| {
                let ring = self.rings.get(c).unwrap_or(&EMPTY);
                let end = upto.map_or(ring.index.len(), |k| {
                    ring.index.partition_point(|m| (m.nanos, m.seq) <= k)
                });
                let mut it = ring.index.range(..end).rev();
                let first = it.next().map(|m| ring.entry(m));
                Head { ring, it, first }
            })
            .collect();
        NewestFirst { heads }
    }
}

struct Head<'a> {
    ring: &'a Ring,
    it: std::iter::Rev<std::collections::vec_deque::Iter<'a, Meta>>,
    first: Option<Entry<'a>>,
}

/// See [`LogStore::newest_first`].
pub struct NewestFirst<'a> {
    heads: Vec<Head<'a>>,
}

impl<'a> Iterator for NewestFirst<'a> {
    type Item = (usize, Entry<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let (idx, _) = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.first.map(|e| (i, e.key())))
            .max_by_key(|&(_, k)| k)?;
        let head = &mut self.heads[idx];
        let out = head.first.take();
        head.first = head.it.next().map(|m| head.ring.entry(m));
        out.map(|e| (idx, e))
    }
}

#[cfg(test)]
#[path = "logbuf_tests.rs"]
mod tests;
