//! Start latency and monitor memory, side by side with the peers in one run (issue 16).
//!
//! `cargo bench --bench start -- latency` — `berth run --rm --network none IMG true` end to end
//! beside `runc run` (and `crun run` when installed) of the same rootfs as an OCI bundle from
//! `runc spec`, and `podman run --rm` with runc, rounds interleaved so machine load hits all
//! alike (`BENCH_ROUNDS`, default 30).
//! `cargo bench --bench start -- phases` — where each millisecond of a berth run goes: runs with
//! `BERTH_TRACE` (see `src/engine/trace.rs`), every phase line of the CLI, the monitor and the
//! container's init placed on the run's time line, medians over `BENCH_ROUNDS` (default 15).
//! `cargo bench --bench start -- memory` — RSS of an idle monitor (`sleep`) and of one relaying
//! a chatty container (`yes | head -c` loops), beside podman's conmon doing the same.
//!
//! No arguments: all three. Prints Markdown tables (for docs/benchmarks.md) and the load average.
//! Needs root and the packages of `scripts/deps.sh bench`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "start/memory.rs"]
mod memory;
#[path = "start/phases.rs"]
mod phases;
#[path = "support.rs"]
mod support;
use support::*;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::testroot::TestRoot;
use common::{Auth, Registry};

fn main() {
    let which = selected(&["latency", "phases", "memory"]);
    let image = common::images::single_layer();
    let registry = Registry::start(Auth::None);
    let reference = registry.reference("bench/busybox:latest");
    registry.push(image, "bench/busybox:latest");
    let root = TestRoot::new();
    timed(
        root.cmd()
            .args(["pull", "-q", "--tls-verify=false", &reference]),
    );
    println!("\nload average before: {}", loadavg());
    for w in which {
        match w.as_str() {
            "latency" => latency(&root, &reference, rounds_or(30)),
            "phases" => phases::phases(&root, &reference, rounds_or(15)),
            "memory" => memory::memory(&root, &reference),
            other => eprintln!("unknown benchmark {other}: use latency, phases or memory"),
        }
    }
    println!("\nload average after: {}", loadavg());
}

/// An OCI bundle of the image's rootfs made by `runc spec`, running `true` without a terminal.
fn bundle(dir: &Path) -> std::path::PathBuf {
    let bundle = dir.join("bundle");
    let rootfs = bundle.join("rootfs");
    std::fs::create_dir_all(&rootfs).expect("bundle dir");
    let layer = common::images::single_layer().layer_data(0);
    tar::Archive::new(flate2::read::GzDecoder::new(layer))
        .unpack(&rootfs)
        .expect("unpack rootfs for runc");
    timed(Command::new("runc").args(["spec"]).current_dir(&bundle));
    let spec_path = bundle.join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&spec_path).expect("read spec")).expect("spec");
    spec["process"]["terminal"] = false.into();
    spec["process"]["args"] = serde_json::json!(["true"]);
    std::fs::write(&spec_path, serde_json::to_vec(&spec).expect("spec json")).expect("spec");
    bundle
}

fn oci_run(tool: &str, bundle: &Path, i: usize) -> Duration {
    timed(
        Command::new(tool)
            .args(["run", "--bundle"])
            .arg(bundle)
            .arg(format!("berth-bench-{tool}-{}-{i}", std::process::id()))
            .stdin(Stdio::null()),
    )
}

fn latency(root: &TestRoot, reference: &str, rounds: usize) {
    let dir = tempfile::tempdir().expect("bench temp dir");
    let runc = have("runc").then(|| bundle(dir.path()));
    let crun = have("crun") && runc.is_some();
    let podman_store = dir.path().join("podman");
    let _unmount = PodmanStore(podman_store.clone());
    let podman_ok = have("podman");
    if podman_ok {
        timed(podman(&podman_store).args(["pull", "-q", "--tls-verify=false", reference]));
    }
    let mut t: [Vec<Duration>; 4] = Default::default();
    eprintln!("latency: {rounds} rounds, interleaved");
    // What a tool goes on doing after its command returned (berth's monitor deleting a `--rm`
    // container's files; podman's conmon and its `container cleanup`) must not land on the next
    // tool's run: each run starts once the previous one's processes are gone.
    let berth_rest = format!("--root {} monitor", root.path().display());
    let podman_rest = podman_store.to_string_lossy().into_owned();
    let mut lingered = [Duration::ZERO; 4];
    let before = inode_cost(root.path().as_path());
    for i in 0..rounds {
        t[0].push(timed(root.cmd().args([
            "run",
            "--rm",
            "--network",
            "none",
            reference,
            "true",
        ])));
        lingered[0] += settle(&berth_rest);
        if let Some(b) = &runc {
            t[1].push(oci_run("runc", b, i));
            if crun {
                t[2].push(oci_run("crun", b, i));
            }
        }
        if podman_ok {
            // runc: crun refuses this machine's hybrid cgroups; explicit limits because
            // podman's defaults (nofile, nproc) are above the hard limits here.
            t[3].push(timed(podman(&podman_store).args([
                "--runtime",
                "runc",
                "run",
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=4096:4096",
                "--rm",
                "--network",
                "none",
                reference,
                "true",
            ])));
            lingered[3] += settle(&podman_rest);
        }
    }
    println!(
        "\nAfter their commands returned, berth's processes went on for {:.1} ms per run (the \
         monitor deleting the container's files), podman's for {:.1} ms (conmon, `container \
         cleanup`); the next run started after them.",
        lingered[0].as_secs_f64() * 1e3 / rounds as f64,
        lingered[3].as_secs_f64() * 1e3 / rounds as f64,
    );
    let names = [
        "berth run --rm",
        "runc run",
        "crun run",
        "podman run --rm (runc)",
    ];
    let rows: Vec<(String, Duration)> = names
        .iter()
        .zip(t)
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| (n.to_string(), median(v)))
        .collect();
    table(
        &format!("`run --rm IMG true`, end to end, {rounds} rounds interleaved"),
        &rows,
        "runc run",
    );
    println!(
        "\nCreating an empty file beside the engine root: {before:.0} µs before the rounds, {:.0} \
         µs after (median of 50). On a filesystem that skips recently deleted inodes when it \
         allocates one (ext4 without a journal) this grows after many deletes, and with it every \
         file and directory a start creates.",
        inode_cost(root.path().as_path())
    );
}

/// Waits (at most 5 s) until no process's command line holds `words`; returns how long.
fn settle(words: &str) -> Duration {
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(5)
        && !common::procs::with_words(&[words]).is_empty()
    {
        std::thread::sleep(Duration::from_micros(500));
    }
    start.elapsed()
}

/// The median time, in µs, to create (and then remove) an empty file in `dir`.
fn inode_cost(dir: &Path) -> f64 {
    let probe = dir.join("inode-probe");
    std::fs::create_dir_all(&probe).expect("probe dir");
    let mut t: Vec<Duration> = (0..50)
        .map(|i| {
            let start = std::time::Instant::now();
            std::fs::File::create(probe.join(i.to_string())).expect("probe file");
            start.elapsed()
        })
        .collect();
    let _ = std::fs::remove_dir_all(&probe);
    t.sort();
    t[t.len() / 2].as_secs_f64() * 1e6
}
