//! `cargo bench --bench compare -- pull` (the random-bytes image) and `-- distro` (Debian
//! bookworm in three layers, see distro.rs): an image pushed to a loopback registry, pulled into
//! an empty store by `berth pull`, `podman pull`, `skopeo copy` to a `dir:` (download only) and
//! `skopeo copy` to an OCI layout + `umoci unpack`, the tools taking turns in every round.
//!
//! Every round pulls into directories never used before and nothing is deleted until the end
//! (creating many files right after a large delete is several times slower on this machine), and
//! `sync` runs before each timed command so no tool pays for the previous one's writeback.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::common::{Auth, Image, Registry};
use super::{berth, have, loadavg, median, podman, table, timed, PodmanStore};

pub fn bench_pull_big(rounds: usize) {
    let image = super::common::big::big(5, 20 << 20);
    bench_pull(
        image,
        "bench/big:latest",
        "Pull of a 100 MB, 5-layer image of random bytes from a loopback registry (empty store)",
        rounds,
    );
}

pub fn bench_pull_distro(rounds: usize) {
    let image = super::distro::distro_image();
    bench_pull(
        &image,
        "bench/distro:latest",
        "Pull of Debian bookworm (debootstrap minbase, 3 layers with whiteouts) from a loopback \
         registry (empty store)",
        rounds,
    );
}

fn sync() {
    let _ = Command::new("sync").status();
}

/// User plus system time of every child waited for so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// [`timed`], also pushing the CPU time the command took (its threads and children) to `cpu`:
/// on a loaded machine wall times follow the scheduler, CPU times much less.
fn timed_cpu(cmd: &mut Command, cpu: &mut Vec<Duration>) -> Duration {
    let before = children_cpu();
    let wall = timed(cmd);
    cpu.push(children_cpu().saturating_sub(before));
    wall
}

fn bench_pull(image: &Image, repo_tag: &str, title: &str, rounds: usize) {
    let registry = Registry::start(Auth::None);
    let reference = registry.reference(repo_tag);
    registry.push(image, repo_tag);
    eprintln!(
        "pull benchmark {repo_tag}: {} compressed bytes in {} layers, {rounds} rounds; load {}",
        image.layers_size(),
        image.layers.len(),
        loadavg()
    );
    let mut berth_t = Vec::new();
    let mut podman_t = Vec::new();
    let mut skopeo_dir_t = Vec::new();
    let mut umoci_t = Vec::new();
    let (mut berth_cpu, mut podman_cpu) = (Vec::new(), Vec::new());
    // Kept until the end: see the module comment.
    let mut dirs = Vec::new();
    let mut stores = Vec::new();
    for round in 0..rounds {
        let dir = tempfile::tempdir().expect("bench temp dir");
        let root = dir.path().join("berth");
        sync();
        berth_t.push(timed_cpu(
            berth(&root).args(["pull", "-q", "--tls-verify=false", &reference]),
            &mut berth_cpu,
        ));
        if round == 0 {
            report_tree(&root.join("layers"));
        }
        if have("podman") {
            let store = dir.path().join("podman");
            stores.push(PodmanStore(store.clone()));
            sync();
            podman_t.push(timed_cpu(
                podman(&store).args(["pull", "-q", "--tls-verify=false", &reference]),
                &mut podman_cpu,
            ));
        }
        if have("skopeo") {
            sync();
            skopeo_dir_t.push(timed(Command::new("skopeo").args([
                "copy",
                "-q",
                "--src-tls-verify=false",
                &format!("docker://{reference}"),
                &format!("dir:{}", dir.path().join("skopeo-dir").display()),
            ])));
        }
        if have("skopeo") && have("umoci") {
            let layout = dir.path().join("oci");
            let bundle = dir.path().join("bundle");
            sync();
            let start = Instant::now();
            timed(Command::new("skopeo").args([
                "copy",
                "-q",
                "--src-tls-verify=false",
                &format!("docker://{reference}"),
                &format!("oci:{}:img", layout.display()),
            ]));
            timed(
                Command::new("umoci")
                    .args(["unpack", "--image"])
                    .arg(format!("{}:img", layout.display()))
                    .arg(&bundle),
            );
            umoci_t.push(start.elapsed());
        }
        dirs.push(dir);
        eprintln!("round {round} done");
    }
    let mut rows: Vec<(String, Duration)> = vec![("berth pull".to_string(), median(berth_t))];
    if !podman_t.is_empty() {
        rows.push(("podman pull".to_string(), median(podman_t)));
    }
    if !skopeo_dir_t.is_empty() {
        rows.push((
            "skopeo copy to dir: (no unpack)".to_string(),
            median(skopeo_dir_t),
        ));
    }
    if !umoci_t.is_empty() {
        rows.push(("skopeo copy + umoci unpack".to_string(), median(umoci_t)));
    }
    table(title, &rows, "podman pull");
    let mut cpu_rows = vec![("berth pull".to_string(), median(berth_cpu))];
    if !podman_cpu.is_empty() {
        cpu_rows.push(("podman pull".to_string(), median(podman_cpu)));
    }
    table(
        "CPU time (user + system) of the same pulls",
        &cpu_rows,
        "podman pull",
    );
    println!("\nLoad average at the end: {}", loadavg());
    drop(stores);
    drop(dirs);
}

/// What berth unpacked: entries by kind, as a check that the image has the distribution's shape.
fn report_tree(layers: &Path) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            "echo entries $(find . | wc -l) files $(find . -type f | wc -l) \
             symlinks $(find . -type l | wc -l) setuid $(find . -perm -4000 | wc -l) \
             whiteouts $(find . -type c | wc -l) \
             hardlinked $(find . -type f -links +1 | wc -l) \
             caps $(getcap -r . 2>/dev/null | wc -l)",
        )
        .current_dir(layers)
        .output()
        .expect("find");
    eprintln!(
        "berth's layers: {}",
        String::from_utf8_lossy(&out.stdout).trim()
    );
}
