//! `cargo bench --bench stats`: `berth stats` against `podman stats` over the same number of
//! running containers (`BENCH_CONTAINERS`, 100 by default): the time of `stats --no-stream`
//! (the first full sample, end to end), and the CPU a one-second stream uses, in percent of one
//! core, measured over `BENCH_STREAM_SECS` (10) after a two-second warm-up. Rounds alternate
//! between the tools (`BENCH_ROUNDS`, 5), so that the machine's load hits both alike; the load
//! average is printed with the figures. Needs root; podman runs on a store of its own
//! (runc, cgroupfs, `--network none`); berth's containers have no network either.
//! When dockerd is installed, `docker stats` runs too, against a private dockerd (no iptables,
//! no bridge, its own roots; containers with `--network none`); docker's stream CPU counts the
//! client and the daemon's processes (dockerd, its containerd and the containers' shims), where
//! the stats are made. Targets: first sample of 100 ≤ 100 ms; streaming 100 ≤ 2 % of one core;
//! the TUI idle with the stats columns ≤ 1 %. `BENCH_BERTH=PATH` runs another berth binary than the one cargo
//! built with the bench (a release build when the bench itself is built in debug).

#[path = "../tests/common/mod.rs"]
mod common;
#[allow(dead_code)] // the TUI benchmark's helpers; this one needs the CPU time only
#[path = "tui/procstat.rs"]
mod procstat;
mod support;
#[allow(dead_code)]
#[path = "tui/tmux.rs"]
mod tmux;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestRoot;
use support::*;

/// The berth binary measured.
fn berth_bin() -> String {
    std::env::var("BENCH_BERTH").unwrap_or_else(|_| common::testroot::BERTH.to_string())
}

/// `berth --root ROOT` with the measured binary, never on a bridge network.
fn berth(root: &std::path::Path) -> Command {
    let mut c = Command::new(berth_bin());
    c.arg("--root").arg(root);
    c.env("BERTH_DEFAULT_NETWORK", "none");
    c
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `cmd` and returns its wall time and the number of lines it printed.
fn sample(cmd: &mut Command) -> (Duration, usize) {
    let start = Instant::now();
    let out = cmd.stderr(Stdio::piped()).output().expect("spawn stats");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (took, String::from_utf8_lossy(&out.stdout).lines().count())
}

/// CPU of a streaming `stats` in percent of one core, over `secs` after a two-second warm-up:
/// the stats process's own, plus that of every process whose command line holds `daemon_dir`
/// (a daemon doing the work for it).
fn stream_cpu(mut cmd: Command, secs: u64, daemon_dir: Option<&std::path::Path>) -> f64 {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn a stats stream");
    std::thread::sleep(Duration::from_secs(2));
    let mut pids = vec![child.id() as i32];
    if let Some(dir) = daemon_dir {
        pids.extend(
            common::procs::with_words(&[&dir.to_string_lossy()])
                .into_iter()
                .map(|(p, _)| p),
        );
    }
    let cpu = |pids: &[i32]| -> Vec<Option<Duration>> {
        pids.iter()
            .map(|p| {
                std::path::Path::new(&format!("/proc/{p}"))
                    .exists()
                    .then(|| procstat::cpu_time(*p))
            })
            .collect()
    };
    let (c0, t0) = (cpu(&pids), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let (c1, t1) = (cpu(&pids), Instant::now());
    let used: Duration = c0
        .iter()
        .zip(&c1)
        .filter_map(|(a, b)| Some(b.as_ref()?.saturating_sub(*a.as_ref()?)))
        .sum();
    let _ = child.kill();
    let _ = child.wait();
    used.as_secs_f64() / (t1 - t0).as_secs_f64() * 100.0
}

fn main() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the stats benchmark needs root (it runs containers)"
    );
    let n = env_num("BENCH_CONTAINERS", 100) as usize;
    let rounds = rounds_or(5);
    let stream_secs = env_num("BENCH_STREAM_SECS", 10);
    let root = TestRoot::new();
    let (_reg, image) = common::pulled_busybox(&root);
    let load_before = loadavg();
    eprintln!("measuring {}", berth_bin());
    eprintln!("starting {n} berth containers…");
    for i in 0..n {
        timed(berth(&root.path()).args([
            "run",
            "-d",
            "--name",
            &format!("s{i:03}"),
            &image,
            "sleep",
            "3600",
        ]));
    }
    let podman_store = root.base().join("podman");
    let _unmount = PodmanStore(podman_store.clone());
    let with_podman = have("podman");
    if with_podman {
        eprintln!("starting {n} podman containers…");
        timed(podman(&podman_store).args(["pull", "-q", "--tls-verify=false", &image]));
        for i in 0..n {
            timed(podman(&podman_store).args([
                "--runtime",
                "runc",
                "run",
                "-d",
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=4096:4096",
                "--network",
                "none",
                "--name",
                &format!("p{i:03}"),
                &image,
                "sleep",
                "3600",
            ]));
        }
    }
    let docker = common::docker::dockerd_path().and_then(|_| common::docker::Dockerd::start());
    if let Some(d) = &docker {
        eprintln!("starting {n} docker containers…");
        d.docker_ok(["pull", "-q", &image]);
        for i in 0..n {
            d.docker_ok([
                "run",
                "-d",
                "--network",
                "none",
                "--name",
                &format!("d{i:03}"),
                &image,
                "sleep",
                "3600",
            ]);
        }
    }
    let (mut berth_t, mut podman_t, mut docker_t) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds {
        let (t, lines) = sample(berth(&root.path()).args(["stats", "--no-stream"]));
        assert_eq!(
            lines,
            n + 1,
            "berth stats --no-stream: a header and {n} rows"
        );
        berth_t.push(t);
        if with_podman {
            let (t, lines) = sample(podman(&podman_store).args(["stats", "--no-stream"]));
            if r == 0 {
                assert_eq!(
                    lines,
                    n + 1,
                    "podman stats --no-stream: a header and {n} rows"
                );
            }
            podman_t.push(t);
        }
        if let Some(d) = &docker {
            let (t, lines) = sample(d.cmd().args(["stats", "--no-stream"]));
            if r == 0 {
                assert_eq!(
                    lines,
                    n + 1,
                    "docker stats --no-stream: a header and {n} rows"
                );
            }
            docker_t.push(t);
        }
    }
    let (mut berth_cpu, mut podman_cpu, mut docker_cpu) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..2 {
        let mut b = berth(&root.path());
        b.arg("stats");
        berth_cpu.push(stream_cpu(b, stream_secs, None));
        if with_podman {
            let mut p = podman(&podman_store);
            p.arg("stats");
            podman_cpu.push(stream_cpu(p, stream_secs, None));
        }
        if let Some(d) = &docker {
            let mut c = d.cmd();
            c.arg("stats");
            docker_cpu.push(stream_cpu(c, stream_secs, Some(d.dir())));
        }
    }
    // The TUI on the same root, showing the containers with their CPU and memory columns
    // (a terminal wide enough for them), idle.
    let launch = format!(
        "exec env -u NO_COLOR HOME='{}' XDG_CONFIG_HOME='{}' BERTH_DEFAULT_NETWORK=none '{}' --root '{}'",
        root.home().display(),
        root.config_home().display(),
        berth_bin(),
        root.path().display()
    );
    let tui = tmux::Tmux::start(240, 50, &launch);
    tui.wait_for("CPU %", Duration::from_secs(60));
    tui.wait_for("s000", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(3));
    let tui_cpu = procstat::cpu_percent(tui.pane_pid(), Duration::from_secs(stream_secs));
    let screen = tui.capture();
    tui.keys(&["q"]);
    std::thread::sleep(Duration::from_millis(500));
    drop(tui);
    let shown = screen.lines().filter(|l| l.contains('%')).count();
    let load_after = loadavg();
    let mut rows = vec![(
        format!("berth stats --no-stream ({n})"),
        median(berth_t.clone()),
    )];
    if with_podman {
        rows.push((format!("podman stats --no-stream ({n})"), median(podman_t)));
    }
    if docker.is_some() {
        rows.push((format!("docker stats --no-stream ({n})"), median(docker_t)));
    }
    table(
        &format!("First full sample of {n} running containers"),
        &rows,
        &format!("berth stats --no-stream ({n})"),
    );
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!(
        "\n### CPU of a one-second stream over {n} running containers ({stream_secs} s, 2 runs)\n"
    );
    println!("| tool | CPU, % of one core |");
    println!("|---|---|");
    println!("| berth stats | {:.2} % |", mean(&berth_cpu));
    if with_podman {
        println!("| podman stats | {:.2} % |", mean(&podman_cpu));
    }
    if docker.is_some() {
        println!(
            "| docker stats (client, dockerd, containerd, shims) | {:.2} % |",
            mean(&docker_cpu)
        );
    }
    println!(
        "\nThe TUI idle with {n} running containers (CPU and memory columns, {} rows with a CPU % on screen): {tui_cpu:.2} % of one core over {stream_secs} s",
        shown.saturating_sub(1)
    );
    let first = median(berth_t).as_secs_f64() * 1000.0;
    println!(
        "\nTargets: first sample ≤ 100 ms: {:.1} ms, {}; stream ≤ 2 %: {:.2} %, {}",
        first,
        if first <= 100.0 { "met" } else { "MISSED" },
        mean(&berth_cpu),
        if mean(&berth_cpu) <= 2.0 {
            "met"
        } else {
            "MISSED"
        }
    );
    println!(
        "TUI idle with stats ≤ 1 %: {tui_cpu:.2} %, {}",
        if tui_cpu <= 1.0 { "met" } else { "MISSED" }
    );
    println!("\nLoad average before: {load_before}; after: {load_after}");
    if with_podman {
        let _ = podman(&podman_store)
            .args(["rm", "-f", "-t", "0", "--all"])
            .stdout(Stdio::null())
            .status();
    }
    // Dropping the private dockerd removes its containers and stops it.
    drop(docker);
}
