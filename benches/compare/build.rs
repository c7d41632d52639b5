//! `cargo bench --bench compare -- build`: the same Dockerfile (FROM a busybox base from the
//! loopback registry, COPY of a context of 5,000 small files, three RUN steps and the config
//! instructions) with `berth build`, `podman build` (buildah) and `docker build` (a private
//! dockerd per round, docker 20.10's classic builder, `--network none`): a cold build into an
//! empty store (the base image already pulled), a rebuild with nothing changed, and a rebuild
//! after one source file changed.

use std::path::Path;
use std::time::Duration;

use super::common::docker::{dockerd_path, Dockerd};
use super::common::images::single_layer;
use super::common::{Auth, Registry};
use super::{berth, have, loadavg, median, podman, table, timed, PodmanStore};

fn context(dir: &Path, base: &str) {
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    for i in 0..5000 {
        let sub = dir.join(format!("src/d{}", i / 100));
        std::fs::create_dir_all(&sub).expect("mkdir");
        std::fs::write(sub.join(format!("f{i}.txt")), format!("file {i}\n")).expect("write");
    }
    std::fs::write(
        dir.join("Dockerfile"),
        format!(
            "FROM {base}\nENV APP=/app\nWORKDIR /app\nCOPY src/ /app/src/\n\
             RUN ls -R /app/src | wc -l > /count\nRUN echo one > /one\nRUN echo two > /two\n\
             LABEL bench=yes\nEXPOSE 8080\nUSER 1000\nCMD [\"cat\", \"/count\"]\n"
        ),
    )
    .expect("Dockerfile");
}

fn touch_one(dir: &Path, round: usize) {
    std::fs::write(dir.join("src/d7/f700.txt"), format!("changed {round}\n")).expect("write");
}

/// Cold, unchanged and one-file-changed build times of one round.
type Round = [Duration; 3];

pub fn bench_build(rounds: usize) {
    let registry = Registry::start(Auth::None);
    registry.push(single_layer(), "bench/busybox:latest");
    let base = registry.reference("bench/busybox:latest");
    let with_podman = have("podman");
    let with_docker = dockerd_path().is_some();
    eprintln!(
        "build benchmark: 5,000 files, {rounds} rounds, load average {}",
        loadavg()
    );
    // Rounds interleave the tools, so load from elsewhere falls on all of them alike.
    let mut times: Vec<(&str, Vec<Round>)> = vec![("berth build", Vec::new())];
    if with_podman {
        times.push(("podman build", Vec::new()));
    }
    if with_docker {
        times.push(("docker build", Vec::new()));
    }
    // Every round's directories (and daemons) live until the end: nothing is deleted while
    // another tool is timed (creating files right after a large delete is slow on this disk).
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    for round in 0..rounds {
        for (tool, t) in times.iter_mut() {
            let (r, k) = match *tool {
                "berth build" => berth_round(&base, round),
                "podman build" => podman_round(&base, round),
                _ => docker_round(&base, round),
            };
            t.push(r);
            keep.push(k);
        }
        eprintln!("round {round} done, load average {}", loadavg());
    }
    let rows = |i: usize| -> Vec<(String, Duration)> {
        times
            .iter()
            .map(|(tool, t)| (tool.to_string(), median(t.iter().map(|r| r[i]).collect())))
            .collect()
    };
    table("build, cold (base image stored)", &rows(0), "podman build");
    table("build, nothing changed", &rows(1), "podman build");
    table("build, one source file changed", &rows(2), "podman build");
    println!("\nload average at the end: {}", loadavg());
    drop(keep);
}

fn berth_round(base: &str, round: usize) -> (Round, Box<dyn std::any::Any>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = dir.path().join("ctx");
    context(&ctx, base);
    let root = dir.path().join("berth");
    timed(berth(&root).args(["pull", "-q", "--tls-verify=false", base]));
    let build = |tag: &str| timed(berth(&root).args(["build", "-q", "-t", tag]).arg(&ctx));
    let cold = build("b:1");
    let same = build("b:1");
    touch_one(&ctx, round);
    let one = build("b:2");
    ([cold, same, one], Box::new(dir))
}

fn podman_round(base: &str, round: usize) -> (Round, Box<dyn std::any::Any>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ctx = dir.path().join("ctx");
    context(&ctx, base);
    let store = dir.path().join("podman");
    let unmount = PodmanStore(store.clone());
    timed(podman(&store).args(["pull", "-q", "--tls-verify=false", base]));
    let build = |tag: &str| -> Duration {
        timed(
            podman(&store)
                .args(["build", "-q", "--layers", "--runtime", "runc", "--network"])
                .args(["none", "--tls-verify=false", "--ulimit", "nofile=1024:1024"])
                .args(["-t", tag])
                .arg(&ctx),
        )
    };
    let cold = build("b:1");
    let same = build("b:1");
    touch_one(&ctx, round);
    let one = build("b:2");
    ([cold, same, one], Box::new((unmount, dir)))
}

/// A fresh private dockerd (its own data root: an empty store but for the pulled base), docker
/// 20.10's classic builder, `--network none` (the daemon has no bridge).
fn docker_round(base: &str, round: usize) -> (Round, Box<dyn std::any::Any>) {
    let docker = Dockerd::start().expect("dockerd is installed");
    let ctx = docker.file("ctx");
    context(&ctx, base);
    timed(docker.cmd().args(["pull", "-q", base]));
    let build = |tag: &str| -> Duration {
        timed(
            docker
                .cmd()
                .env("DOCKER_BUILDKIT", "0")
                .args(["build", "-q", "--network", "none", "-t", tag])
                .arg(&ctx),
        )
    };
    let cold = build("b:1");
    let same = build("b:1");
    touch_one(&ctx, round);
    let one = build("b:2");
    ([cold, same, one], Box::new(docker))
}
