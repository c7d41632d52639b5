//! `cargo bench --bench compare -- build`: the same Dockerfile (FROM a busybox base from the
//! loopback registry, COPY of a context of 5,000 small files, three RUN steps and the config
//! instructions) with `berth build` and `podman build` (buildah): a cold build into an empty
//! store (the base image already pulled), a rebuild with nothing changed, and a rebuild after
//! one source file changed.

use std::path::Path;
use std::time::Duration;

use super::common::images::single_layer;
use super::common::{Auth, Registry};
use super::{berth, have, median, podman, table, timed, PodmanStore};

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

pub fn bench_build(rounds: usize) {
    let registry = Registry::start(Auth::None);
    registry.push(single_layer(), "bench/busybox:latest");
    let base = registry.reference("bench/busybox:latest");
    let mut rows_cold = Vec::new();
    let mut rows_same = Vec::new();
    let mut rows_one = Vec::new();
    eprintln!("build benchmark: 5,000 files, {rounds} rounds");

    let mut cold = Vec::new();
    let mut same = Vec::new();
    let mut one = Vec::new();
    for round in 0..rounds {
        let dir = tempfile::tempdir().expect("temp dir");
        let ctx = dir.path().join("ctx");
        context(&ctx, &base);
        let root = dir.path().join("berth");
        timed(berth(&root).args(["pull", "-q", "--tls-verify=false", &base]));
        let build = |tag: &str| timed(berth(&root).args(["build", "-q", "-t", tag]).arg(&ctx));
        cold.push(build("b:1"));
        same.push(build("b:1"));
        touch_one(&ctx, round);
        one.push(build("b:2"));
    }
    rows_cold.push(("berth build".to_string(), median(cold)));
    rows_same.push(("berth build".to_string(), median(same)));
    rows_one.push(("berth build".to_string(), median(one)));

    if have("podman") {
        let (mut cold, mut same, mut one) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let dir = tempfile::tempdir().expect("temp dir");
            let ctx = dir.path().join("ctx");
            context(&ctx, &base);
            let store = dir.path().join("podman");
            let _unmount = PodmanStore(store.clone());
            timed(podman(&store).args(["pull", "-q", "--tls-verify=false", &base]));
            let build = |tag: &str| -> Duration {
                timed(
                    podman(&store)
                        .args(["build", "-q", "--layers", "--runtime", "runc", "--network"])
                        .args(["none", "--tls-verify=false", "--ulimit", "nofile=1024:1024"])
                        .args(["-t", tag])
                        .arg(&ctx),
                )
            };
            cold.push(build("b:1"));
            same.push(build("b:1"));
            touch_one(&ctx, round);
            one.push(build("b:2"));
        }
        rows_cold.push(("podman build".to_string(), median(cold)));
        rows_same.push(("podman build".to_string(), median(same)));
        rows_one.push(("podman build".to_string(), median(one)));
    }
    table(
        "build, cold (base image stored)",
        &rows_cold,
        "podman build",
    );
    table("build, nothing changed", &rows_same, "podman build");
    table("build, one source file changed", &rows_one, "podman build");
}
