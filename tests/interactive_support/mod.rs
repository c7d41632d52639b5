//! Helpers for the interactive tests: a busybox rootfs next to the engine root, a private tmux
//! server that drives a real terminal, and process and descriptor inspection. Each test crate
//! uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::procs;
use crate::common::rootfs::base_tar;
use crate::common::testroot::BERTH;
use crate::common::TestRoot;

/// A test root with the busybox base layer unpacked at `<base>/rootfs`.
pub struct Env {
    pub t: TestRoot,
    pub rootfs: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let t = TestRoot::new();
        let rootfs = t.base().join("rootfs");
        std::fs::create_dir(&rootfs).expect("create rootfs dir");
        tar::Archive::new(base_tar())
            .unpack(&rootfs)
            .expect("unpack the busybox rootfs");
        Env { t, rootfs }
    }

    /// `berth ARGS…` (stdin /dev/null).
    pub fn berth(&self, args: &[&str]) -> Output {
        self.t.berth(args)
    }

    /// Runs berth and requires success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.t.berth_ok(args)
    }

    /// `run -d --name NAME --rootfs R CMD…`; returns the id.
    pub fn run_detached(&self, name: &str, extra: &[&str], cmd: &[&str]) -> String {
        let root = self.rootfs.to_string_lossy().into_owned();
        let mut args = vec!["run", "-d", "--name", name];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--rootfs", &root]);
        args.extend_from_slice(cmd);
        self.ok(&args).trim().to_string()
    }

    /// `berth attach NAME` with its stdin, stdout and stderr piped to the test.
    pub fn spawn_attach(&self, name: &str) -> std::process::Child {
        self.t
            .cmd()
            .args(["attach", name])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn attach")
    }

    /// `inspect NAME`, the first object.
    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&self.ok(&["inspect", name])).expect("inspect json");
        v[0].clone()
    }

    /// The shell command line running berth against this root (for tmux panes).
    pub fn berth_line(&self, args: &str) -> String {
        format!(
            "BERTH_DEFAULT_NETWORK=none {BERTH} --root {} {args}",
            self.t.path().display()
        )
    }

    /// The container's directory.
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.t.path().join("containers").join(id)
    }
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Polls `f` until it returns `Some`, or panics with `what` after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A tmux server of our own (`tmux -L <unique>`), killed when dropped.
pub struct Tmux {
    socket: String,
}

static TMUX_COUNT: AtomicUsize = AtomicUsize::new(0);

impl Tmux {
    /// Starts a server with session `main` running `command` in an 80x24 window.
    pub fn start(command: &str) -> Tmux {
        let socket = format!(
            "berth-test-{}-{}",
            std::process::id(),
            TMUX_COUNT.fetch_add(1, Ordering::SeqCst)
        );
        let tmux = Tmux { socket };
        let out = tmux
            .cmd()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "main"])
            .args(["-x", "80", "-y", "24", command])
            .output()
            .expect("run tmux (install the tmux package)");
        assert!(out.status.success(), "tmux: {}", stderr(&out));
        tmux
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    /// Runs a tmux command and requires success.
    pub fn tmux(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// Opens another window running `command`; returns its target.
    pub fn window(&self, name: &str, command: &str) -> String {
        self.tmux(&["new-window", "-d", "-n", name, command]);
        format!("main:{name}")
    }

    /// Types text (literally) into `target`.
    pub fn type_text(&self, target: &str, text: &str) {
        self.tmux(&["send-keys", "-t", target, "-l", text]);
    }

    /// Sends key names (e.g. `Enter`, `C-p`) to `target`.
    pub fn keys(&self, target: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", target];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// The visible text of `target`.
    pub fn screen(&self, target: &str) -> String {
        self.tmux(&["capture-pane", "-p", "-t", target])
    }

    /// Waits until a line of `target`'s screen satisfies `pred`.
    pub fn wait_line(&self, target: &str, what: &str, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let screen = self.screen(target);
            if screen.lines().any(|l| pred(l.trim_end())) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} on the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
        crate::common::remove_tmux_socket(&self.socket);
    }
}

/// The parent pid of `pid`.
pub fn parent_of(pid: i64) -> i64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read stat");
    let after = &stat[stat.rfind(')').expect("stat format") + 2..];
    after
        .split(' ')
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("ppid")
}

/// Waits until process `pid` (a container's monitor) runs the small relay binary, which it
/// executes once the container has run for 500 ms (`engine::monitor::handover`).
pub fn wait_for_relay(pid: i64) {
    use std::os::unix::fs::MetadataExt;
    let id = |p: &str| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let relay = id(env!("CARGO_BIN_EXE_berth-relay")).expect("the relay binary is built");
    wait_for(
        "the monitor to run berth-relay",
        Duration::from_secs(10),
        || {
            // The exe link changes early in the exec, the command line a moment later: wait
            // for both.
            let args = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            (id(&format!("/proc/{pid}/exe")) == Some(relay) && !args.is_empty()).then_some(())
        },
    );
}

/// How many sockets process `pid` holds open (a monitor: its attach listener and clients).
pub fn monitor_sockets(pid: i64) -> usize {
    fds(pid).iter().filter(|f| f.contains("socket:")).count()
}

/// The open descriptors of `pid` with their targets, sorted.
pub fn fds(pid: i64) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let target = std::fs::read_link(e.path())
                        .map(|t| t.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    format!("{} -> {}", e.file_name().to_string_lossy(), target)
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Pids of processes whose command line contains every one of `words`.
pub fn processes_with(words: &[&str]) -> Vec<i64> {
    procs::with_words(words)
        .into_iter()
        .map(|(pid, _)| i64::from(pid))
        .collect()
}

/// The names in `dir`, sorted (empty if it does not exist).
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
