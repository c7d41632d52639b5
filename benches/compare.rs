//! Side-by-side benchmarks of berth against its peers, measured in one run on this machine.
//!
//! `cargo bench --bench compare -- pull` — pull of a ~100 MB, 5-layer image of random bytes from a
//! loopback registry into an empty store: `berth pull` against `podman pull`, `skopeo copy` to a
//! directory and `skopeo copy` + `umoci unpack` (compare/pull.rs).
//! `cargo bench --bench compare -- distro` — the same with Debian bookworm built by debootstrap
//! (~10,000 files, 3 layers with whiteouts; compare/distro.rs).
//! `cargo bench --bench compare -- run` — `berth run --rm IMG true` end to end against `runc run`
//! of the same rootfs as an OCI bundle, `podman run --rm` and `docker run --rm` (a private dockerd),
//! plus the monitor's RSS.
//!
//! `cargo bench --bench compare -- build` — `berth build` against `podman build`: cold, nothing
//! changed, one source file changed (see compare/build.rs).
//!
//! Each prints a Markdown table of medians (paste into docs/benchmarks.md). Needs root and the
//! packages of `scripts/deps.sh bench`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support.rs"]
mod support;
use support::*;
#[path = "compare/build.rs"]
mod compare_build;
#[path = "compare/distro.rs"]
mod distro;
#[path = "compare/pull.rs"]
mod pull;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Auth, Registry};

fn main() {
    for w in selected(&["pull", "run"]) {
        match w.as_str() {
            "pull" => pull::bench_pull_big(rounds_or(5)),
            "distro" => pull::bench_pull_distro(rounds_or(5)),
            "run" => bench_run(rounds_or(20)),
            "build" => compare_build::bench_build(rounds_or(3)),
            other => eprintln!("unknown benchmark {other}: use pull, distro, run or build"),
        }
    }
}

fn bench_run(rounds: usize) {
    let image = common::images::single_layer();
    let registry = Registry::start(Auth::None);
    let reference = registry.reference("bench/busybox:latest");
    registry.push(image, "bench/busybox:latest");
    let dir = tempfile::tempdir().expect("bench temp dir");
    let root = dir.path().join("berth");
    timed(berth(&root).args(["pull", "-q", "--tls-verify=false", &reference]));

    let mut berth_t = Vec::new();
    for _ in 0..rounds {
        berth_t.push(timed(berth(&root).args([
            "run",
            "--rm",
            "--network",
            "none",
            &reference,
            "true",
        ])));
    }
    let mut rows = vec![("berth run --rm".to_string(), median(berth_t))];

    if have("runc") {
        let bundle = dir.path().join("bundle");
        let rootfs = bundle.join("rootfs");
        std::fs::create_dir_all(&rootfs).expect("bundle dir");
        let layer = image.layer_data(0);
        let tar = flate2::read::GzDecoder::new(layer);
        tar::Archive::new(tar)
            .unpack(&rootfs)
            .expect("unpack rootfs for runc");
        timed(Command::new("runc").args(["spec"]).current_dir(&bundle));
        let spec_path = bundle.join("config.json");
        let mut spec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&spec_path).expect("read spec")).expect("spec");
        spec["process"]["terminal"] = false.into();
        spec["process"]["args"] = serde_json::json!(["true"]);
        std::fs::write(&spec_path, serde_json::to_vec(&spec).expect("spec json")).expect("spec");
        let mut runc_t = Vec::new();
        for i in 0..rounds {
            runc_t.push(timed(
                Command::new("runc")
                    .args(["run", "--bundle"])
                    .arg(&bundle)
                    .arg(format!("berth-bench-{}-{i}", std::process::id()))
                    .stdin(Stdio::null()),
            ));
        }
        rows.push(("runc run".to_string(), median(runc_t)));
    }
    if have("podman") {
        let store = dir.path().join("podman");
        let _unmount = PodmanStore(store.clone());
        timed(podman(&store).args(["pull", "-q", "--tls-verify=false", &reference]));
        let mut podman_t = Vec::new();
        for _ in 0..rounds {
            // runc: crun refuses this machine's hybrid cgroups; explicit limits because podman's
            // defaults (nofile, nproc) are above the hard limits a process may raise to here.
            podman_t.push(timed(podman(&store).args([
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
                &reference,
                "true",
            ])));
        }
        rows.push(("podman run --rm".to_string(), median(podman_t)));
    }
    if dockerd_path().is_some() {
        if let Some(d) = docker_run(&dir.path().join("docker"), &reference, rounds) {
            rows.push(("docker run --rm".to_string(), d));
        }
    }
    table("`run --rm IMG true`, end to end", &rows, "runc run");
    monitor_rss(&root, &reference);
}

/// Starts a private dockerd (no iptables, no bridge, its own data and exec roots and socket),
/// pulls the image and times `docker run --rm`; stops dockerd by pid afterwards.
fn docker_run(dir: &Path, reference: &str, rounds: usize) -> Option<Duration> {
    std::fs::create_dir_all(dir).ok()?;
    let sock = dir.join("docker.sock");
    let host = format!("unix://{}", sock.display());
    let mut daemon = Command::new(dockerd_path()?)
        .args(["--iptables=false", "--bridge=none", "--data-root"])
        .arg(dir.join("data"))
        .arg("--exec-root")
        .arg(dir.join("exec"))
        .arg("--pidfile")
        .arg(dir.join("docker.pid"))
        .args(["-H", &host])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("dockerd.log")).ok()?)
        .spawn()
        .ok()?;
    let docker = |args: &[&str]| {
        let mut c = Command::new("/usr/bin/docker");
        c.args(["-H", &host]).args(args);
        c
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut up = false;
    while Instant::now() < deadline {
        let ok = docker(&["version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let result = if up {
        let pull = docker(&["pull", "-q", reference]).output().ok();
        match pull {
            Some(p) if p.status.success() => {
                let mut t = Vec::new();
                for _ in 0..rounds {
                    t.push(timed(&mut docker(&[
                        "run",
                        "--rm",
                        "--network",
                        "none",
                        reference,
                        "true",
                    ])));
                }
                Some(median(t))
            }
            other => {
                eprintln!("docker pull failed: {other:?}");
                None
            }
        }
    } else {
        eprintln!(
            "dockerd did not come up; see {}",
            dir.join("dockerd.log").display()
        );
        None
    };
    // SIGTERM by pid, then wait; dockerd stops the containerd it started itself.
    let _ = Command::new("kill").arg(daemon.id().to_string()).status();
    let _ = daemon.wait();
    for sub in ["data", "exec"] {
        let _ = Command::new("umount")
            .arg("-R")
            .arg(dir.join(sub))
            .stderr(Stdio::null())
            .status();
    }
    result
}

/// Resident set of a monitor holding a running `sleep`, read from /proc 2 s after the start.
fn monitor_rss(root: &Path, reference: &str) {
    let out = berth(root)
        .args(["run", "-d", "--network", "none", reference, "sleep", "60"])
        .output()
        .expect("run -d");
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // The monitor trims its start-up memory once the container has run for 500 ms.
    std::thread::sleep(Duration::from_secs(2));
    let pid_out = berth(root)
        .args(["inspect", "--format", "{{.State.Pid}}", &id])
        .output()
        .expect("inspect");
    let mut pid = String::from_utf8_lossy(&pid_out.stdout).trim().to_string();
    if pid.parse::<u32>().is_err() {
        let v: serde_json::Value = serde_json::from_slice(
            &berth(root)
                .args(["inspect", &id])
                .output()
                .expect("inspect")
                .stdout,
        )
        .unwrap_or_default();
        pid = v[0]["State"]["Pid"].to_string();
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let ppid = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().nth(1))
        .unwrap_or("0")
        .to_string();
    let status = std::fs::read_to_string(format!("/proc/{ppid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .unwrap_or("VmRSS: ?");
    println!("\nMonitor (pid {ppid}) of a running container: {rss}");
    let _ = berth(root).args(["rm", "-f", &id]).output();
}

/// Where Debian's docker.io puts dockerd (sbin), or another install (bin).
fn dockerd_path() -> Option<&'static str> {
    ["/usr/sbin/dockerd", "/usr/bin/dockerd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}
