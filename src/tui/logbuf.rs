//! Bounded log buffers: one ring per container, capped in lines and bytes so a chatty
//! container keeps memory flat, and a merged newest-first walk over several of them ordered by
//! time (then arrival).

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use super::model::{LogLine, Stream};

/// Longest line kept; the rest is cut (Docker splits lines at 16 KiB too).
pub const MAX_LINE: usize = 16 * 1024;

/// One stored line. `time` never goes backwards within a container, so that every walk is
/// ordered by `(time, seq)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub time: DateTime<Utc>,
    pub stream: Stream,
    pub text: String,
}

impl Entry {
    /// Position of the entry in every walk.
    pub fn key(&self) -> (DateTime<Utc>, u64) {
        (self.time, self.seq)
    }
}

#[derive(Debug, Default)]
struct Ring {
    lines: VecDeque<Entry>,
    bytes: usize,
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
        let ring = self.rings.entry(line.container).or_default();
        let mut text = line.text;
        if text.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        let time = match ring.lines.back() {
            Some(last) if last.time > line.time => last.time,
            _ => line.time,
        };
        self.next_seq += 1;
        ring.bytes += text.len();
        ring.lines.push_back(Entry {
            seq: self.next_seq,
            time,
            stream: line.stream,
            text,
        });
        while ring.lines.len() > self.max_lines || ring.bytes > self.max_bytes {
            match ring.lines.pop_front() {
                Some(old) => ring.bytes -= old.text.len(),
                None => break,
            }
        }
    }

    /// Forgets a container's lines.
    pub fn clear(&mut self, container: &str) {
        self.rings.remove(container);
    }

    /// Number of lines held for a container.
    pub fn len(&self, container: &str) -> usize {
        self.rings.get(container).map_or(0, |r| r.lines.len())
    }

    /// Bytes of text held for a container.
    pub fn bytes(&self, container: &str) -> usize {
        self.rings.get(container).map_or(0, |r| r.bytes)
    }

    /// The lines of `containers`, newest first, merged by time. Yields the container's index in
    /// `containers` with each entry.
    pub fn newest_first<'a>(&'a self, containers: &[String]) -> NewestFirst<'a> {
        self.newest_first_upto(containers, None)
    }

    /// Like [`LogStore::newest_first`], from the newest line at or before `upto` (each ring is
    /// ordered by key, so the start is found by bisection, not by walking the newer lines).
    pub fn newest_first_upto<'a>(
        &'a self,
        containers: &[String],
        upto: Option<(DateTime<Utc>, u64)>,
    ) -> NewestFirst<'a> {
        let heads = containers
            .iter()
            .map(|c| {
                let mut it = self
                    .rings
                    .get(c)
                    .map(|r| {
                        let end = upto
                            .map_or(r.lines.len(), |k| r.lines.partition_point(|e| e.key() <= k));
                        r.lines.range(..end).rev()
                    })
                    .unwrap_or_default();
                let first = it.next();
                (it, first)
            })
            .collect();
        NewestFirst { heads }
    }
}

/// See [`LogStore::newest_first`].
pub struct NewestFirst<'a> {
    heads: Vec<(
        std::iter::Rev<std::collections::vec_deque::Iter<'a, Entry>>,
        Option<&'a Entry>,
    )>,
}

impl<'a> Iterator for NewestFirst<'a> {
    type Item = (usize, &'a Entry);

    fn next(&mut self) -> Option<Self::Item> {
        let (idx, _) = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, (_, e))| e.map(|e| (i, e.key())))
            .max_by_key(|&(_, k)| k)?;
        let (it, head) = &mut self.heads[idx];
        let out = head.take();
        *head = it.next();
        out.map(|e| (idx, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn line(c: &str, secs: i64, text: &str) -> LogLine {
        LogLine {
            time: Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap(),
            stream: Stream::Stdout,
            container: c.to_string(),
            text: text.to_string(),
        }
    }

    #[test]
    fn ring_is_bounded_in_lines_and_bytes() {
        let mut s = LogStore::new(3, 0);
        for i in 0..10 {
            s.push(line("a", i, &format!("l{i}")));
        }
        assert_eq!(s.len("a"), 3);
        let texts: Vec<_> = s
            .newest_first(&["a".into()])
            .map(|(_, e)| e.text.clone())
            .collect();
        assert_eq!(texts, ["l9", "l8", "l7"]);

        let mut s = LogStore::new(1_000_000, MAX_LINE);
        for i in 0..100 {
            s.push(line("a", i, &"x".repeat(1000)));
        }
        assert!(s.bytes("a") <= MAX_LINE);
        s.push(line("a", 200, &"é".repeat(MAX_LINE)));
        assert_eq!(s.len("a"), 1);
        assert!(s.bytes("a") <= MAX_LINE);
    }

    #[test]
    fn merged_walk_is_time_ordered() {
        let mut s = LogStore::new(100, 0);
        s.push(line("a", 1, "a1"));
        s.push(line("b", 2, "b2"));
        s.push(line("a", 3, "a3"));
        s.push(line("b", 3, "b3"));
        s.push(line("a", 2, "a-late"));
        let got: Vec<_> = s
            .newest_first(&["a".into(), "b".into(), "none".into()])
            .map(|(i, e)| (i, e.text.clone()))
            .collect();
        let want = [(0, "a-late"), (1, "b3"), (0, "a3"), (1, "b2"), (0, "a1")];
        let want: Vec<_> = want.iter().map(|(i, t)| (*i, t.to_string())).collect();
        assert_eq!(got, want);
    }

    /// From a key on, the same walk as skipping the newer lines of the whole one.
    #[test]
    fn merged_walk_from_a_key_skips_the_newer_lines() {
        let mut s = LogStore::new(100, 0);
        for i in 0..20 {
            s.push(line(
                if i % 3 == 0 { "a" } else { "b" },
                i / 2,
                &format!("l{i}"),
            ));
        }
        let ids = ["a".to_string(), "b".to_string()];
        let all: Vec<_> = s.newest_first(&ids).map(|(i, e)| (i, e.key())).collect();
        for (_, at) in &all {
            let want: Vec<_> = all.iter().filter(|(_, k)| k <= at).cloned().collect();
            let got: Vec<_> = s
                .newest_first_upto(&ids, Some(*at))
                .map(|(i, e)| (i, e.key()))
                .collect();
            assert_eq!(got, want);
        }
        assert_eq!(s.newest_first_upto(&ids, None).count(), 20);
    }
}
