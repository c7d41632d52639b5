//! Side-by-side benchmarks of moving images, measured in one run on this machine.
//!
//! `cargo bench --bench moving -- push` — push of the ~100 MB, 5-layer benchmark image to an
//! empty loopback registry: `berth push` against `podman push` and `skopeo copy` (registry to
//! registry).
//! `cargo bench --bench moving -- save` — save and load of a distribution-like image (~10,000
//! files in one layer): `berth save`/`load` against `podman save`/`load` and `docker save`/`load`
//! (a private dockerd holding the image; each load into a fresh private dockerd).
//!
//! Prints Markdown tables of medians (paste into docs/benchmarks.md). Needs root and the packages
//! of `scripts/deps.sh bench`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support.rs"]
mod support;
use support::*;

use std::process::Command;
use std::time::Duration;

use common::{Auth, Registry};

fn main() {
    let rounds = rounds_or(5);
    for w in selected(&["push", "save"]) {
        match w.as_str() {
            "push" => bench_push(rounds),
            "save" => bench_save(rounds),
            other => eprintln!("unknown benchmark {other}: use push or save"),
        }
    }
}

fn bench_push(rounds: usize) {
    let image = common::big::big(5, 20 << 20);
    let source = Registry::start(Auth::None);
    let src = source.reference("bench/big:latest");
    source.push(image, "bench/big:latest");
    let dir = tempfile::tempdir().expect("bench temp dir");
    let root = dir.path().join("berth");
    timed(berth(&root).args(["pull", "-q", &src]));
    let store = dir.path().join("podman");
    let _unmount = PodmanStore(store.clone());
    let podman_ok = have("podman");
    if podman_ok {
        timed(podman(&store).args(["pull", "-q", "--tls-verify=false", &src]));
    }
    eprintln!(
        "push benchmark: {} bytes in 5 layers, {rounds} rounds; load {}",
        image.layers_size(),
        loadavg()
    );
    let (mut berth_t, mut podman_t, mut skopeo_t) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // A fresh, empty registry for every push of every tool.
        let target = Registry::start(Auth::None);
        let dest = target.reference("bench/pushed:latest");
        timed(berth(&root).args(["tag", &src, &dest]));
        berth_t.push(timed(berth(&root).args(["push", "-q", &dest])));
        if podman_ok {
            let target = Registry::start(Auth::None);
            let dest = target.reference("bench/pushed:latest");
            podman_t.push(timed(podman(&store).args([
                "push",
                "-q",
                "--tls-verify=false",
                &src,
                &dest,
            ])));
        }
        if have("skopeo") {
            let target = Registry::start(Auth::None);
            let dest = target.reference("bench/pushed:latest");
            skopeo_t.push(timed(Command::new("skopeo").args([
                "copy",
                "-q",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                &format!("docker://{src}"),
                &format!("docker://{dest}"),
            ])));
        }
        eprintln!("round {round} done");
    }
    let mut rows = vec![("berth push".to_string(), median(berth_t))];
    if !podman_t.is_empty() {
        rows.push(("podman push".to_string(), median(podman_t)));
    }
    if !skopeo_t.is_empty() {
        rows.push((
            "skopeo copy (registry to registry)".to_string(),
            median(skopeo_t),
        ));
    }
    table(
        "Push of a 100 MB, 5-layer image to an empty loopback registry",
        &rows,
        "podman push",
    );
    println!("\nLoad average at the end: {}", loadavg());
}

/// One layer shaped like a distribution: 10,000 files of 1–8 KiB in 100 directories.
fn distro_image() -> common::Image {
    let mut t = common::tarball::TarBuilder::new();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for d in 0..100 {
        t.dir(&format!("usr/share/d{d:03}"), 0o755);
        for f in 0..100 {
            let size = 1024 + (f * 71 % 7168);
            let data = common::big::random_bytes(&mut state, size);
            t.file(&format!("usr/share/d{d:03}/f{f:03}"), 0o644, &data);
        }
    }
    let layers = [
        common::images::base_layer().clone(),
        common::images::LayerBlob::from_tar(&t.finish(), flate2::Compression::fast()),
    ];
    common::images::assemble(
        "distro",
        common::images::Flavor::Oci,
        common::images::host_arch(),
        &layers,
    )
}

fn bench_save(rounds: usize) {
    let image = distro_image();
    let registry = Registry::start(Auth::None);
    let src = registry.reference("bench/distro:latest");
    registry.push(&image, "bench/distro:latest");
    let dir = tempfile::tempdir().expect("bench temp dir");
    let root = dir.path().join("berth");
    timed(berth(&root).args(["pull", "-q", &src]));
    let store = dir.path().join("podman");
    let _unmount = PodmanStore(store.clone());
    let podman_ok = have("podman");
    if podman_ok {
        timed(podman(&store).args(["pull", "-q", "--tls-verify=false", &src]));
    }
    // docker: one daemon holds the image to save; each load goes into a daemon of its own.
    let docker_src = common::docker::dockerd_path().and_then(|_| common::docker::Dockerd::start());
    if let Some(d) = &docker_src {
        timed(d.cmd().args(["pull", "-q", &src]));
    }
    let (mut docker_save, mut docker_load, mut keep) = (Vec::new(), Vec::new(), Vec::new());
    eprintln!(
        "save/load benchmark: 10,000 files, {rounds} rounds; load {}",
        loadavg()
    );
    let mut t: [Vec<Duration>; 4] = Default::default();
    // Every round's directories are kept until the end: creating many files right after a
    // large delete is several times slower on this machine (TESTBED.md), and the stores of
    // the round before are such a delete.
    let mut kept = Vec::new();
    for round in 0..rounds {
        let work = tempfile::tempdir().expect("round dir");
        let file = work.path().join("berth.tar");
        t[0].push(timed(berth(&root).args([
            "save",
            "-o",
            &file.to_string_lossy(),
            &src,
        ])));
        t[1].push(timed(berth(&work.path().join("fresh")).args([
            "load",
            "-q",
            "-i",
            &file.to_string_lossy(),
        ])));
        if podman_ok {
            let file = work.path().join("podman.tar");
            t[2].push(timed(podman(&store).args([
                "save",
                "-q",
                "-o",
                &file.to_string_lossy(),
                &src,
            ])));
            let fresh = work.path().join("podman-fresh");
            let _unmount = PodmanStore(fresh.clone());
            t[3].push(timed(podman(&fresh).args([
                "load",
                "-q",
                "-i",
                &file.to_string_lossy(),
            ])));
        }
        if let Some(d) = &docker_src {
            let file = work.path().join("docker.tar");
            let path = file.to_string_lossy().into_owned();
            docker_save.push(timed(d.cmd().args(["save", "-o", &path, &src])));
            let fresh = common::docker::Dockerd::start().expect("a second dockerd");
            docker_load.push(timed(fresh.cmd().args(["load", "-q", "-i", &path])));
            // Kept until the end: its store is not deleted while another tool is timed.
            keep.push(fresh);
        }
        kept.push(work);
        eprintln!("round {round} done, load average {}", loadavg());
    }
    let [bs, bl, ps, pl] = t;
    let mut save_rows = vec![("berth save".to_string(), median(bs))];
    let mut load_rows = vec![("berth load".to_string(), median(bl))];
    if podman_ok {
        save_rows.push(("podman save".to_string(), median(ps)));
        load_rows.push(("podman load".to_string(), median(pl)));
    }
    if !docker_save.is_empty() {
        save_rows.push(("docker save".to_string(), median(docker_save)));
        load_rows.push(("docker load".to_string(), median(docker_load)));
    }
    table(
        "Save of a distribution-like image (10,000 files) to a docker-archive",
        &save_rows,
        "podman save",
    );
    table(
        "Load of that archive into an empty store",
        &load_rows,
        "podman load",
    );
    println!("\nLoad average at the end: {}", loadavg());
}
