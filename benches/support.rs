//! Helpers every comparison benchmark shares: is a peer installed, time a command, medians,
//! the results table, and podman on a store of the benchmark's own.
#![allow(dead_code)] // each benchmark uses a part

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `tool` is on the PATH.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs a shell-free command, panicking with its output if it fails; returns the elapsed time.
pub fn timed(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let out = cmd.output().expect("spawn benchmark command");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A markdown table of medians with each row's ratio to the row named `base`.
pub fn table(title: &str, rows: &[(String, Duration)], base: &str) {
    println!("\n### {title}\n");
    println!("| tool | median | ratio to {base} |");
    println!("|---|---|---|");
    let base_t = rows
        .iter()
        .find(|(n, _)| n == base)
        .map(|(_, d)| d.as_secs_f64());
    for (name, d) in rows {
        let ratio = base_t.map_or("-".to_string(), |b| format!("{:.2}", d.as_secs_f64() / b));
        println!("| {name} | {} | {ratio} |", ms(*d));
    }
}

/// podman with its storage and run root under `store` (cgroupfs, file events: this host).
pub fn podman(store: &Path) -> Command {
    let mut c = Command::new("podman");
    c.arg("--root")
        .arg(store.join("storage"))
        .arg("--runroot")
        .arg(store.join("run"))
        .args([
            "--storage-driver",
            "overlay",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "file",
        ]);
    c
}

/// The machine's load averages (1, 5, 15 minutes), from /proc/loadavg.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
