//! The phase log of `berth run --rm --network none IMG true`: each run with `BERTH_TRACE` set to
//! a file of its own; every line (`<unix ns> <pid> <phase>`) is placed on the run's time line
//! (0 = just before the bench spawns the CLI), tagged with the process that wrote it (cli,
//! monitor, rt = libcontainer's intermediate and init processes), and the table gives, per
//! phase in the order of the first run, the median time at which it was reached and the step
//! from the phase before.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use super::common::testroot::TestRoot;
use super::support::timed;

struct Line {
    at_ms: f64,
    who: &'static str,
    what: String,
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// One traced run: its phase lines, the end as seen by the bench last.
fn traced_run(root: &TestRoot, reference: &str, log: &std::path::Path) -> Vec<Line> {
    let _ = std::fs::remove_file(log);
    let t0 = now_ns();
    let child = root
        .cmd()
        .env("BERTH_TRACE", log)
        .args(["run", "--rm", "--network", "none", reference, "true"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn berth run");
    let cli_pid = child.id();
    let out = child.wait_with_output().expect("wait berth run");
    assert!(out.status.success(), "traced run failed");
    let end = now_ns();
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let monitor_pid = text.lines().find_map(|l| {
        let (_, rest) = l.split_once(' ')?;
        let (pid, what) = rest.split_once(' ')?;
        what.starts_with("monitor: ")
            .then(|| pid.parse::<u32>().ok())?
    });
    let mut lines: Vec<Line> = Vec::new();
    for l in text.lines() {
        let mut f = l.splitn(3, ' ');
        let (Some(ns), Some(pid), Some(what)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let (Ok(ns), Ok(pid)) = (ns.parse::<u128>(), pid.parse::<u32>()) else {
            continue;
        };
        let who = if pid == cli_pid {
            "cli"
        } else if Some(pid) == monitor_pid {
            "monitor"
        } else {
            "rt"
        };
        lines.push(Line {
            at_ms: (ns.saturating_sub(t0)) as f64 / 1e6,
            who,
            what: condense(what),
        });
    }
    lines.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    lines.push(Line {
        at_ms: (end - t0) as f64 / 1e6,
        who: "bench",
        what: "cli exited (waitpid)".into(),
    });
    lines
}

/// libcontainer's lines carry whole structures: keep what names the step; ids and pids out.
fn condense(what: &str) -> String {
    if let Some(rest) = what.strip_prefix("lc: mounting Mount { destination: \"") {
        let dest = rest.split('"').next().unwrap_or("");
        return format!("lc: mounting {dest}");
    }
    let what = what
        .split([':', '{', '('])
        .take(2)
        .collect::<Vec<_>>()
        .join(":");
    what.split_whitespace()
        .map(|w| {
            if w.len() >= 12 && w.chars().all(|c| c.is_ascii_hexdigit()) {
                "<id>"
            } else if w.chars().all(|c| c.is_ascii_digit()) {
                "<n>"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn phases(root: &TestRoot, reference: &str, rounds: usize) {
    let dir = tempfile::tempdir().expect("bench temp dir");
    let log = dir.path().join("trace.log");
    // One untimed run first, so no round pays for a cold page cache.
    timed(
        root.cmd()
            .args(["run", "--rm", "--network", "none", reference, "true"]),
    );
    let runs: Vec<Vec<Line>> = (0..rounds)
        .map(|_| traced_run(root, reference, &log))
        .collect();
    // Key: (who, phase, n-th occurrence of that phase in the run).
    let key_of = |run: &[Line]| -> Vec<(String, f64)> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        run.iter()
            .map(|l| {
                let k = format!("{} | {}", l.who, l.what);
                let n = seen.entry(k.clone()).or_default();
                *n += 1;
                (format!("{k} #{n}"), l.at_ms)
            })
            .collect()
    };
    let keyed: Vec<Vec<(String, f64)>> = runs.iter().map(|r| key_of(r)).collect();
    let mut at: HashMap<&str, Vec<f64>> = HashMap::new();
    for run in &keyed {
        for (k, t) in run {
            at.entry(k.as_str()).or_default().push(*t);
        }
    }
    // The order of the median run (by end time).
    let mut ends: Vec<(f64, usize)> = keyed
        .iter()
        .enumerate()
        .map(|(i, r)| (r.last().map_or(0.0, |l| l.1), i))
        .collect();
    ends.sort_by(|a, b| a.0.total_cmp(&b.0));
    let order = &keyed[ends[ends.len() / 2].1];
    println!(
        "\n### Phases of `berth run --rm --network none IMG true` (the run of median length of \
         {rounds}; last column: median over all runs)\n"
    );
    println!("| process | phase | at | step | median at |");
    println!("|---|---|---|---|---|");
    let mut prev = 0.0;
    for (k, t) in order {
        let mut v = at.get(k.as_str()).cloned().unwrap_or_default();
        v.sort_by(f64::total_cmp);
        let m = v[v.len() / 2];
        let (who, what) = k.split_once(" | ").unwrap_or(("", k));
        let what = what
            .rsplit_once(" #")
            .map_or(what, |(w, n)| if n == "1" { w } else { what });
        println!(
            "| {who} | {what} | {t:.1} ms | {:+.1} ms | {m:.1} ms |",
            t - prev
        );
        prev = *t;
    }
    let execs = runs[0]
        .iter()
        .filter(|l| l.what.starts_with("monitor: "))
        .count();
    println!(
        "\nexecs of the berth binary to reach the monitor: {execs} \
         (one `monitor: spawned|sealed` line per exec)"
    );
}
