//! The recent resource use of each container the stats poller samples, for the details pane's
//! graphs (CPU, memory, network, block I/O): a bounded ring of points per container, one point
//! per sample from the second on, rates from the change of the cumulative counters.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use super::model::StatSample;

/// Points kept per container: five minutes at one sample a second.
pub const KEEP: usize = 300;

/// One moment of a container's resource use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub at: DateTime<Utc>,
    /// CPU use since the sample before, in hundredths of a percent of one CPU.
    pub cpu: u64,
    /// Memory in use, bytes.
    pub memory: u64,
    /// Bytes a second received and sent, read from and written to block devices.
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
}

/// A container's points, oldest first, and the sample the next one is measured from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub points: VecDeque<Point>,
    last: Option<StatSample>,
}

impl History {
    /// Adds `s`: a point measured against the sample before. A counter that went back (the
    /// container started again) gives no point; the next one is measured from `s`.
    pub fn push(&mut self, s: &StatSample) {
        if let Some(prev) = self.last.replace(s.clone()) {
            if let Some(p) = point(&prev, s) {
                if self.points.len() == KEEP {
                    self.points.pop_front();
                }
                self.points.push_back(p);
            }
        }
    }

    pub fn latest(&self) -> Option<&Point> {
        self.points.back()
    }
}

fn point(prev: &StatSample, s: &StatSample) -> Option<Point> {
    let wall = (s.at - prev.at).num_nanoseconds().filter(|w| *w > 0)? as u128;
    let rate = |now: u64, before: u64| -> Option<u64> {
        let d = u128::from(now.checked_sub(before)?);
        u64::try_from(d * 1_000_000_000 / wall).ok()
    };
    let cpu = u128::from(s.cpu_ns.checked_sub(prev.cpu_ns)?) * 10_000 / wall;
    Some(Point {
        at: s.at,
        cpu: u64::try_from(cpu).ok()?,
        memory: s.memory,
        net_rx: rate(s.net_rx, prev.net_rx)?,
        net_tx: rate(s.net_tx, prev.net_tx)?,
        block_read: rate(s.block_read, prev.block_read)?,
        block_write: rate(s.block_write, prev.block_write)?,
    })
}

/// The histories of the containers sampled, by id.
pub type Histories = HashMap<String, History>;

/// Adds a sample to the histories; those of containers the sample no longer covers stay
/// (they scrolled off screen) until their container is gone from the list.
pub fn record(histories: &mut Histories, sample: &[StatSample]) {
    for s in sample {
        histories.entry(s.id.clone()).or_default().push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(secs: i64, cpu_ns: u64, net: u64, block: u64) -> StatSample {
        StatSample {
            id: "c".into(),
            cpu_ns,
            memory: 1 << 20,
            net_rx: net,
            net_tx: net / 2,
            block_read: block,
            block_write: block * 2,
            at: DateTime::from_timestamp(1_000 + secs, 0).unwrap(),
        }
    }

    #[test]
    fn points_are_rates_between_samples_and_the_ring_is_bounded() {
        let mut h = History::default();
        h.push(&sample(0, 0, 0, 0));
        assert!(h.points.is_empty(), "the first sample is only a base");
        // Half a CPU, 2000 B/s in, 1000 B/s out, 100 B/s read, 200 B/s written over 2 s.
        h.push(&sample(2, 1_000_000_000, 4_000, 200));
        let p = *h.latest().unwrap();
        assert_eq!(
            (p.cpu, p.net_rx, p.net_tx, p.block_read, p.block_write),
            (5_000, 2_000, 1_000, 100, 200)
        );
        // A restarted container's counters start again: no point, measured from there on.
        h.push(&sample(3, 10, 0, 0));
        assert_eq!(h.points.len(), 1);
        h.push(&sample(4, 10 + 250_000_000, 0, 0));
        assert_eq!(h.latest().unwrap().cpu, 2_500);
        for n in 0..(KEEP as i64 + 50) {
            h.push(&sample(5 + n, 10 + 250_000_000, 0, 0));
        }
        assert_eq!(h.points.len(), KEEP);
        assert_eq!(h.latest().unwrap().cpu, 0);
    }
}
