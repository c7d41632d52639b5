//! A build's life around its steps: SIGINT or SIGTERM during a RUN leaves no container, mount
//! or staging directory; a SIGKILLed build's leftovers are collected by the next build or
//! `builder prune`; independent stages build at the same time; `system df` counts the build
//! cache, `image prune` keeps it and `builder prune` frees it.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::images::single_layer;
use common::{Auth, Registry, TestRoot};

fn setup() -> (Registry, TestRoot, String) {
    let reg = Registry::start(Auth::None);
    reg.push(single_layer(), "test/busybox:latest");
    let image = reg.reference("test/busybox:latest");
    (reg, TestRoot::new(), image)
}

/// What is in the root's `tmp/`, less the directories of removed containers, which `run --rm`
/// deletes in the background.
fn staging_dirs(t: &TestRoot) -> Vec<String> {
    fs::read_dir(t.path().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("removed-"))
        .collect()
}

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

/// Kills the build on drop if a failed assertion left it running.
struct Build(Child);

impl Drop for Build {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a build of `dir` and waits until its RUN printed `marker`.
fn start_build(t: &TestRoot, dir: &str, marker: &str) -> Build {
    let mut child = t
        .cmd()
        .args(["build", dir])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let build = Build(child);
    loop {
        let line = lines
            .next()
            .expect("the build ended before its RUN started")
            .unwrap();
        if line.contains(marker) {
            break;
        }
    }
    // Keep reading so the build never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    build
}

fn wait_exit(b: &mut Build) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(st) = b.0.try_wait().unwrap() {
            return st;
        }
        assert!(Instant::now() < deadline, "the build did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_clean(t: &TestRoot) {
    assert_eq!(
        t.berth_ok(["ps", "-a", "-q"]),
        "",
        "no build container left"
    );
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(t.path().to_str().unwrap()),
        "no mount left"
    );
    assert_eq!(staging_dirs(t), Vec::<String>::new(), "no staging dir left");
    let build_locks = fs::read_dir(t.path().join("locks"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("build-"))
        .count();
    assert_eq!(build_locks, 0, "no build lock left");
}

#[test]
fn sigint_and_sigterm_stop_a_run_and_leave_nothing() {
    let (_reg, t, image) = setup();
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        "Dockerfile",
        &format!("FROM {image}\nCOPY f /f\nRUN echo started-$((40+2)) && sleep 120\n"),
    );
    write(ctx.path(), "f", "x\n");
    let dir = ctx.path().to_str().unwrap();
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let mut b = start_build(&t, dir, "started-42");
        // SAFETY: signalling our own child by its pid.
        assert_eq!(unsafe { libc::kill(b.0.id() as i32, sig) }, 0);
        let st = wait_exit(&mut b);
        assert!(!st.success(), "a cancelled build fails");
        assert_clean(&t);
    }
}

#[test]
fn a_killed_builds_leftovers_are_collected() {
    let (_reg, t, image) = setup();
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        "Dockerfile",
        &format!("FROM {image}\nRUN echo started-$((40+2)) && sleep 120\n"),
    );
    let dir = ctx.path().to_str().unwrap();
    // builder prune collects them.
    let mut b = start_build(&t, dir, "started-42");
    b.0.kill().unwrap();
    wait_exit(&mut b);
    assert_ne!(
        t.berth_ok(["ps", "-a", "-q"]),
        "",
        "SIGKILL runs no cleanup"
    );
    let pruned = t.berth_ok(["builder", "prune", "-f"]);
    assert!(
        pruned.contains("Removed containers of interrupted builds: 1"),
        "{pruned}"
    );
    assert_clean(&t);
    // So does the next build, which then runs as usual.
    let mut b = start_build(&t, dir, "started-42");
    b.0.kill().unwrap();
    wait_exit(&mut b);
    write(
        ctx.path(),
        "Dockerfile",
        &format!("FROM {image}\nRUN echo done > /done\n"),
    );
    t.berth_ok(["build", "-q", "-t", "after:1", dir]);
    assert_eq!(t.berth_ok(["ps", "-a", "-q"]), "");
    assert_eq!(
        t.berth_ok(["run", "--rm", "after:1", "cat", "/done"]),
        "done\n"
    );
}

#[test]
fn independent_stages_build_at_the_same_time() {
    let (_reg, t, image) = setup();
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        "Dockerfile",
        &format!(
            "FROM {image} AS a\nRUN sleep 4 && echo from-a > /a\n\
             FROM {image} AS b\nRUN sleep 4 && echo from-b > /b\n\
             FROM {image}\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n\
             CMD [\"cat\", \"/a\", \"/b\"]\n"
        ),
    );
    let mut child = t
        .cmd()
        .args(["build", "-t", "par:1", ctx.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both stages' RUN containers are seen running together.
    let mut together = false;
    while child.try_wait().unwrap().is_none() {
        let running = t.berth_ok(["ps", "-q", "--filter", "label=berth.build"]);
        if running.lines().count() == 2 {
            together = true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(together, "the two stages ran one after the other: {text}");
    // The output reads as a sequential build's, steps in order.
    let steps: Vec<&str> = text.lines().filter(|l| l.starts_with("Step ")).collect();
    let numbers: Vec<String> = (1..=8).map(|i| format!("Step {i}/8 :")).collect();
    assert_eq!(steps.len(), 8, "{text}");
    for (s, n) in steps.iter().zip(&numbers) {
        assert!(s.starts_with(n.as_str()), "{text}");
    }
    assert_eq!(t.berth_ok(["run", "--rm", "par:1"]), "from-a\nfrom-b\n");
}

fn build_cache_row(t: &TestRoot) -> serde_json::Value {
    let out = t.berth_ok(["system", "df", "--format", "{{json .}}"]);
    out.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["Type"] == "Build Cache")
        .expect("a Build Cache row")
}

#[test]
fn system_df_counts_the_build_cache_and_builder_prune_frees_it() {
    let (_reg, t, image) = setup();
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        "Dockerfile",
        &format!("FROM {image}\nRUN head -c 300000 /dev/urandom > /blob\nRUN echo two > /two\n"),
    );
    let dir = ctx.path().to_str().unwrap();
    assert_eq!(build_cache_row(&t)["TotalCount"], "0");
    t.berth_ok(["build", "-q", "-t", "cached:1", dir]);
    let row = build_cache_row(&t);
    assert_eq!(row["TotalCount"], "2", "{row}");
    assert_ne!(row["Size"], "0B", "the entries: {row}");
    let entries_only = row["Size"].clone();
    // The layers are the image's; once it is gone, the cache alone keeps them.
    t.berth_ok(["rmi", "cached:1"]);
    t.berth_ok(["image", "prune", "-a", "-f"]);
    let row = build_cache_row(&t);
    assert_ne!(row["Size"], entries_only, "{row}");
    let size = row["Size"].as_str().unwrap();
    assert_eq!(row["Reclaimable"], format!("{size} (100%)"), "{row}");
    // image prune kept the cache's blobs: every step is still cached.
    let again = t.berth_ok(["build", "-t", "cached:2", dir]);
    assert_eq!(again.matches("Using cache").count(), 2, "{again}");
    t.berth_ok(["rmi", "cached:2"]);
    let pruned = t.berth_ok(["builder", "prune", "-f"]);
    assert!(
        pruned.contains("Deleted build cache objects: 2"),
        "{pruned}"
    );
    assert!(!pruned.contains("Total reclaimed space: 0B"), "{pruned}");
    let row = build_cache_row(&t);
    assert_eq!(row["TotalCount"], "0", "{row}");
    assert_eq!(row["Size"], "0B", "{row}");
}
