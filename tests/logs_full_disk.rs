//! A container whose log cannot be written (its filesystem is full) keeps running and draining
//! its output; the log says how much was dropped once it can be written again; `stop`, `kill`
//! and `rm -f` finish in bounded time, also when the monitor itself is stuck; a container lock
//! held too long fails naming its holder.
//! As root, with the real binary: `containers/` is a small tmpfs mounted by the test (unmounted
//! by the test root's drop, also on failure).

mod containers_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use containers_support::{berth_bin, stderr, stdout, TestRoot};

/// Runs `berth --root R args…` with `env`, killing it (by pid) if it outlives `limit`.
fn bounded(t: &TestRoot, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Option<Output> {
    let mut child = Command::new(berth_bin())
        .arg("--root")
        .arg(t.root())
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run berth");
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().ok(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Kills the containers' processes by pid when the test ends, so that a wedged monitor (the
/// bug this file tests) cannot hang the root's cleanup.
struct Unwedge<'a> {
    t: &'a TestRoot,
    ids: Vec<String>,
}

impl Drop for Unwedge<'_> {
    fn drop(&mut self) {
        // Never panic here: a panic while a failed test unwinds aborts the process, and the
        // test root's own cleanup (containers, the tmpfs under containers/) would never run.
        let Ok(engine) = berth::engine::Engine::open(self.t.root()) else {
            return;
        };
        for id in &self.ids {
            if let Ok(rec) = berth::engine::container::get(&engine, id) {
                if rec.state.monitor_pid > 0 {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(rec.state.monitor_pid),
                        nix::sys::signal::Signal::SIGCONT,
                    );
                }
                if rec.state.pid > 0 {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(rec.state.pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
    }
}

fn free_bytes(dir: &Path) -> u64 {
    let s = nix::sys::statvfs::statvfs(dir).expect("statvfs");
    s.blocks_available() as u64 * s.fragment_size() as u64
}

/// Mounts a tmpfs of `size` at `ROOT/containers`, with a 1 MiB file that can be deleted later
/// to give the log room again.
fn small_containers_fs(t: &TestRoot, size: &str) -> (PathBuf, PathBuf) {
    // The engine root and its database first: a state.db missing beside a containers/ that
    // holds files is refused as damaged.
    t.ok(&["ps", "-a"]);
    let dir = t.root().join("containers");
    std::fs::create_dir_all(&dir).unwrap();
    nix::mount::mount(
        Some("tmpfs"),
        &dir,
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        Some(format!("size={size},mode=0700").as_str()),
    )
    .expect("mount tmpfs");
    let reserve = dir.join("reserve");
    std::fs::write(&reserve, vec![7u8; 1 << 20]).unwrap();
    (dir, reserve)
}

fn status(t: &TestRoot, name: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&t.ok(&["inspect", name])).expect("json");
    v[0]["State"]["Status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn log_text(dir: &Path, id: &str) -> String {
    String::from_utf8_lossy(&std::fs::read(dir.join(id).join("log.json")).unwrap_or_default())
        .into_owned()
}

/// `(lines, bytes)` of the last drop marker in `text`.
fn dropped(text: &str) -> Option<(u64, u64)> {
    let at = text.rfind("berth: dropped ")?;
    let mut words = text[at + "berth: dropped ".len()..].split_whitespace();
    let lines = words.next()?.parse().ok()?;
    words.next(); // "log"
    words.next(); // "lines"
    let bytes = words.next()?.trim_start_matches('(').parse().ok()?;
    Some((lines, bytes))
}

#[test]
fn a_full_disk_drops_counted_output_and_stop_kill_rm_still_work() {
    let t = TestRoot::new();
    let (dir, reserve) = small_containers_fs(&t, "8m");
    let mut guard = Unwedge { t: &t, ids: vec![] };
    for op in ["stop", "kill", "rm"] {
        std::fs::write(&reserve, vec![7u8; 1 << 20]).unwrap();
        let name = format!("chatty-{op}");
        let out = t.run(
            &["-d", "--name", &name],
            &["yes", "a line of output that the log cannot keep up with"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let id = stdout(&out).trim().to_string();
        guard.ids.push(id.clone());

        // The log fills the filesystem; the container keeps writing regardless.
        wait_for("the log to fill the disk", Duration::from_secs(30), || {
            free_bytes(&dir) < 64 << 10
        });
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(status(&t, &name), "running", "{op}");

        // Room again: the monitor, still draining, says in the log what it dropped.
        std::fs::remove_file(&reserve).unwrap();
        wait_for(
            "the drop marker in the log",
            Duration::from_secs(15),
            || dropped(&log_text(&dir, &id)).is_some(),
        );
        let (lines, bytes) = dropped(&log_text(&dir, &id)).unwrap();
        assert!(lines > 0 && bytes >= lines, "{lines} lines, {bytes} bytes");
        // Every entry in the file is whole (a failed write is cut back, not left half-written).
        for l in log_text(&dir, &id).lines() {
            assert!(
                serde_json::from_str::<serde_json::Value>(l).is_ok(),
                "broken entry {l:?}"
            );
        }

        // The disk is full again by now: every operation still finishes in bounded time.
        wait_for(
            "the log to fill the disk again",
            Duration::from_secs(30),
            || free_bytes(&dir) < 64 << 10,
        );
        let args: Vec<&str> = match op {
            "stop" => vec!["stop", "-t", "1", &name],
            "kill" => vec!["kill", &name],
            _ => vec!["rm", "-f", &name],
        };
        let started = Instant::now();
        let out = bounded(&t, &args, &[], Duration::from_secs(40))
            .unwrap_or_else(|| panic!("berth {op} hung with the disk full"));
        assert!(out.status.success(), "{op}: {}", stderr(&out));
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{op} took {:?}",
            started.elapsed()
        );
        if op == "rm" {
            let ps = t.ok(&["ps", "-a", "-q", "--no-trunc"]);
            assert!(!ps.contains(&id), "{ps}");
        } else {
            wait_for("the exit to be recorded", Duration::from_secs(10), || {
                status(&t, &name) == "exited"
            });
            t.ok(&["rm", "-f", &name]);
        }
        assert!(
            t.mounts().iter().all(|m| !m.contains(&id)),
            "{:?}",
            t.mounts()
        );
    }
}

#[test]
fn a_lock_held_too_long_fails_naming_its_holder() {
    let t = TestRoot::new();
    let out = t.run(&["-d", "--name", "idle"], &["sleep", "100"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    let held =
        berth::engine::lock::FileLock::acquire(&t.root().join("locks").join(format!("{id}.lock")))
            .expect("take the container's lock");
    for args in [
        vec!["kill", "idle"],
        vec!["stop", "idle"],
        vec!["rm", "-f", "idle"],
    ] {
        let started = Instant::now();
        let out = bounded(
            &t,
            &args,
            &[("BERTH_LOCK_TIMEOUT", "1")],
            Duration::from_secs(30),
        )
        .unwrap_or_else(|| panic!("berth {args:?} waited for the lock without end"));
        assert!(started.elapsed() < Duration::from_secs(15));
        assert!(!out.status.success());
        let e = stderr(&out);
        assert!(
            e.contains(&format!("container {} is busy", &id[..12])),
            "{e}"
        );
        assert!(
            e.contains(&format!("process {}", std::process::id())),
            "the holder is named: {e}"
        );
    }
    drop(held);
    t.ok(&["kill", "idle"]);
}

#[test]
fn stop_and_rm_f_end_a_container_whose_monitor_is_stuck() {
    let t = TestRoot::new();
    let mut guard = Unwedge { t: &t, ids: vec![] };
    for op in ["stop", "rm"] {
        let name = format!("stuck-{op}");
        let out = t.run(&["-d", "--name", &name], &["sleep", "100"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let id = stdout(&out).trim().to_string();
        guard.ids.push(id.clone());
        let rec = berth::engine::container::get(&t.engine(), &id).unwrap();
        assert!(rec.state.monitor_pid > 0);
        // The monitor stops serving (as when it blocks on a client that reads nothing).
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(rec.state.monitor_pid),
            nix::sys::signal::Signal::SIGSTOP,
        )
        .unwrap();
        let args: Vec<&str> = match op {
            "stop" => vec!["stop", "-t", "1", &name],
            _ => vec!["rm", "-f", &name],
        };
        let started = Instant::now();
        let out = bounded(&t, &args, &[], Duration::from_secs(60))
            .unwrap_or_else(|| panic!("berth {op} hung"));
        assert!(out.status.success(), "{op}: {}", stderr(&out));
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        assert!(
            !std::path::Path::new(&format!("/proc/{}", rec.state.monitor_pid)).exists()
                || std::fs::read_to_string(format!("/proc/{}/stat", rec.state.monitor_pid))
                    .map(|s| s.contains(") Z"))
                    .unwrap_or(true),
            "the stuck monitor was ended"
        );
        if op == "stop" {
            assert_eq!(status(&t, &name), "exited");
            t.ok(&["rm", &name]);
        }
        assert!(!t.ok(&["ps", "-a", "-q", "--no-trunc"]).contains(&id));
        assert!(
            t.mounts().iter().all(|m| !m.contains(&id)),
            "{:?}",
            t.mounts()
        );
    }
}
