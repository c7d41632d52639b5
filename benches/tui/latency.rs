//! Reading the TUI's trace (`BERTH_TUI_TRACE`) and the containers' log files, and the delay
//! from a line's append to the log (the monitor's timestamp in `log.json`, CLOCK_REALTIME) to
//! the frame that first shows it.

use std::collections::HashMap;
use std::path::Path;

use berth::engine::logs::LogEntry;

/// What the trace file holds.
#[derive(Default)]
pub struct Trace {
    pub loop_ns: Option<u128>,
    /// (end of draw ns, draw duration ns, container rows).
    pub frames: Vec<(u128, u128, usize)>,
    /// (tag, seq) → first draw ns.
    pub drawn: HashMap<(String, u64), u128>,
}

impl Trace {
    pub fn read(path: &Path) -> Trace {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut t = Trace::default();
        for line in text.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            let num = |i: usize| f.get(i).and_then(|v| v.parse::<u128>().ok());
            match f.first() {
                Some(&"loop") => t.loop_ns = num(1),
                Some(&"frame") => {
                    if let (Some(at), Some(took), Some(n)) = (num(1), num(2), num(3)) {
                        t.frames.push((at, took, n as usize));
                    }
                }
                Some(&"drawn") => {
                    if let (Some(tag), Some(seq), Some(at)) = (f.get(1), num(2), num(3)) {
                        t.drawn.entry((tag.to_string(), seq as u64)).or_insert(at);
                    }
                }
                _ => {}
            }
        }
        t
    }

    /// The first frame showing at least `containers` rows.
    pub fn first_frame_with(&self, containers: usize) -> Option<u128> {
        self.frames.iter().find(|f| f.2 >= containers).map(|f| f.0)
    }
}

/// The marked lines of a log file: (seq, append ns), in file order.
pub fn appended(log: &Path, tag: &str) -> Vec<(u64, u128)> {
    let text = std::fs::read_to_string(log)
        .unwrap_or_else(|e| panic!("cannot read {} ({e})", log.display()));
    let prefix = format!("@@{tag}:");
    text.lines()
        .filter_map(|l| serde_json::from_str::<LogEntry>(l).ok())
        .filter_map(|e| {
            let rest = e.line.strip_prefix(&prefix)?;
            let seq = rest.split_once(';')?.0.parse().ok()?;
            let ns = e.time.timestamp_nanos_opt()?;
            Some((seq, u128::try_from(ns).ok()?))
        })
        .collect()
}

/// Delays of the lines appended within `[from, to)`, in ms.
pub struct Delays {
    /// Lines appended in the window.
    pub appended: usize,
    /// For each line that was ever on screen: its first frame − its append.
    pub drawn: Vec<f64>,
    /// For every line: the first frame showing it or any line appended after it − its append
    /// (how far the screen lagged behind the logs). Lines no frame caught up with are left out.
    pub stale: Vec<f64>,
}

/// `logs` holds each container's tag and its marked lines (see [`appended`]).
pub fn delays(logs: &[(String, Vec<(u64, u128)>)], trace: &Trace, from: u128, to: u128) -> Delays {
    let mut at: HashMap<(&str, u64), u128> = HashMap::new();
    let mut window: Vec<u128> = Vec::new();
    for (tag, lines) in logs {
        for &(seq, t) in lines {
            at.insert((tag.as_str(), seq), t);
            if t >= from && t < to {
                window.push(t);
            }
        }
    }
    let mut drawn = Vec::new();
    // Newest append shown by each frame.
    let mut newest: HashMap<u128, u128> = HashMap::new();
    for ((tag, seq), &frame) in &trace.drawn {
        let Some(&t) = at.get(&(tag.as_str(), *seq)) else {
            continue;
        };
        if t >= from && t < to {
            drawn.push(ms(frame, t));
        }
        let n = newest.entry(frame).or_insert(t);
        *n = (*n).max(t);
    }
    let mut frames: Vec<(u128, u128)> = newest.into_iter().collect();
    frames.sort();
    let mut best = 0;
    for f in &mut frames {
        best = best.max(f.1);
        f.1 = best;
    }
    window.sort();
    let mut stale = Vec::with_capacity(window.len());
    let mut i = 0;
    for &t in &window {
        while i < frames.len() && frames[i].1 < t {
            i += 1;
        }
        if let Some(&(frame, _)) = frames.get(i) {
            stale.push(ms(frame, t));
        }
    }
    Delays {
        appended: window.len(),
        drawn,
        stale,
    }
}

fn ms(later: u128, earlier: u128) -> f64 {
    (later as f64 - earlier as f64) / 1e6
}

/// Median, 99th percentile and maximum of `v` (sorted in place); zeros when empty.
pub fn summary(v: &mut [f64]) -> (f64, f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99), v[v.len() - 1])
}
