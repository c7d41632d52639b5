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

/// The benchmarks named on the command line (cargo passes `--bench`), or `defaults`.
pub fn selected(defaults: &[&str]) -> Vec<String> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.is_empty() {
        defaults.iter().map(|s| s.to_string()).collect()
    } else {
        args
    }
}

/// Rounds from `BENCH_ROUNDS`, else `default`.
pub fn rounds_or(default: usize) -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(default)
}

/// `berth --root ROOT`, never on a bridge in the machine's own namespace: containers join
/// `none` also when the bench binary runs without cargo (which sets this from
/// .cargo/config.toml).
pub fn berth(root: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
    c.arg("--root").arg(root);
    c.env("BERTH_DEFAULT_NETWORK", "none");
    c
}

/// Undoes the bind mount podman makes of its overlay store, also when a benchmark panics.
pub struct PodmanStore(pub std::path::PathBuf);

impl Drop for PodmanStore {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-R")
            .arg(self.0.join("storage/overlay"))
            .stderr(Stdio::null())
            .status();
    }
}
