//! Resident memory of a container's monitor, idle and relaying, beside podman's conmon doing
//! the same for the same image. Idle: `sleep 600`, read 2 s after the start (the monitor trims
//! its start-up memory once the container has run for 500 ms). Relaying: a loop of `yes hello |
//! head -c 65536; sleep 0.05` (about 220,000 lines a second into the json-file log), sampled
//! every 200 ms for 4 s after the first second; the table gives the largest sample.

use std::process::Command;
use std::time::Duration;

use super::common::testroot::TestRoot;
use super::support::{have, podman};
use super::PodmanStore;

const CHATTY: &str = "while :; do yes hello | head -c 65536; sleep 0.05; done";

/// `VmRSS`, `RssAnon`, `RssFile` (kB) from /proc/PID/status and `Pss` from smaps_rollup.
#[derive(Default, Clone, Copy)]
struct Rss {
    rss: u64,
    anon: u64,
    file: u64,
    pss: u64,
}

fn field(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn rss_of(pid: u32) -> Rss {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    Rss {
        rss: field(&status, "VmRSS:"),
        anon: field(&status, "RssAnon:"),
        file: field(&status, "RssFile:"),
        pss: field(&rollup, "Pss:"),
    }
}

fn ppid(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Largest sample over 4 s, after 1 s, of `pid`'s memory; or, when `idle`, one read after 2 s.
fn sample(pid: u32, idle: bool) -> Rss {
    if idle {
        std::thread::sleep(Duration::from_secs(2));
        return rss_of(pid);
    }
    std::thread::sleep(Duration::from_secs(1));
    let mut best = Rss::default();
    for _ in 0..20 {
        let r = rss_of(pid);
        if r.rss > best.rss {
            best = r;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    best
}

fn berth_monitor(root: &TestRoot, reference: &str, args: &[&str], idle: bool) -> Rss {
    let id = stdout_of(
        root.cmd()
            .args(["run", "-d", "--network", "none", reference])
            .args(args),
    );
    let pid: u32 = stdout_of(
        root.cmd()
            .args(["inspect", "--format", "{{.State.Pid}}", &id]),
    )
    .parse()
    .expect("container pid");
    let r = sample(ppid(pid), idle);
    let _ = root.cmd().args(["rm", "-f", &id]).output();
    r
}

fn conmon(store: &std::path::Path, reference: &str, args: &[&str], idle: bool) -> Rss {
    let id = stdout_of(
        podman(store)
            .args(["--runtime", "runc", "run", "-d", "--network", "none"])
            .args([
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=4096:4096",
            ])
            .arg(reference)
            .args(args),
    );
    let pid: u32 =
        stdout_of(podman(store).args(["inspect", "--format", "{{.State.ConmonPid}}", &id]))
            .parse()
            .expect("conmon pid");
    let r = sample(pid, idle);
    let _ = podman(store).args(["rm", "-f", "-t", "0", &id]).output();
    r
}

pub fn memory(root: &TestRoot, reference: &str) {
    let idle: &[&str] = &["sleep", "600"];
    let chatty: &[&str] = &["sh", "-c", CHATTY];
    let mut rows = vec![
        (
            "berth monitor, idle",
            berth_monitor(root, reference, idle, true),
        ),
        (
            "berth monitor, relaying",
            berth_monitor(root, reference, chatty, false),
        ),
    ];
    if have("podman") && have("conmon") {
        let dir = tempfile::tempdir().expect("bench temp dir");
        let store = dir.path().join("podman");
        let _unmount = PodmanStore(store.clone());
        let pulled = podman(&store)
            .args(["pull", "-q", "--tls-verify=false", reference])
            .output()
            .is_ok_and(|o| o.status.success());
        if pulled {
            rows.push(("conmon, idle", conmon(&store, reference, idle, true)));
            rows.push(("conmon, relaying", conmon(&store, reference, chatty, false)));
        }
    }
    println!("\n### Monitor memory (kB; relaying: largest of 20 samples)\n");
    println!("| process | VmRSS | RssAnon | RssFile | Pss |");
    println!("|---|---|---|---|---|");
    for (name, r) in rows {
        println!(
            "| {name} | {} | {} | {} | {} |",
            r.rss, r.anon, r.file, r.pss
        );
    }
}
