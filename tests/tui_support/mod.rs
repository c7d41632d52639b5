//! The TUI's end-to-end harness: the real binary in a detached tmux session of fixed size on
//! its own socket, driven with `send-keys` and read with `capture-pane`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::common::testroot::BERTH;
use crate::common::TestRoot;

static SESSIONS: AtomicU32 = AtomicU32::new(0);

/// A tmux server of our own; killed (with what runs in it) on drop.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    /// Starts `script` (a shell script path) in a `w`×`h` session.
    pub fn start(script: &Path, w: u16, h: u16) -> Tmux {
        let n = SESSIONS.fetch_add(1, Ordering::SeqCst);
        let tmux = Tmux {
            socket: format!("berth-e2e-{}-{n}", std::process::id()),
        };
        let out = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
            "sh",
            &script.display().to_string(),
        ]);
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Esc must reach berth at once, not wait for a possible escape sequence.
        tmux.run(&["set", "-s", "escape-time", "0"]);
        tmux
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux (install it: apt-get install tmux)")
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p"]).stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", k]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    pub fn display(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until `pred` holds for the screen; panics showing the screen otherwise.
    pub fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_for(&self, needle: &str) -> String {
        self.wait(needle, |s| s.contains(needle))
    }

    /// `q`, confirmed when berth asks because terminal sessions are open; berth exits 0.
    pub fn quit(&self) {
        self.keys(&["q"]);
        let s = self.wait("exit or question", |s| {
            s.contains("berth-exit=") || s.contains("open terminal session")
        });
        if s.contains("open terminal session") {
            self.keys(&["y"]);
        }
        self.wait_for("berth-exit=0");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        crate::common::remove_tmux_socket(&self.socket);
    }
}

/// Writes a script that records the terminal settings, runs berth on the test root, and
/// records them again, then idles so the pane stays readable.
pub fn script(root: &TestRoot) -> PathBuf {
    let base = root.base();
    let path = base.join("tui.sh");
    let text = format!(
        "stty -g > {b}/stty.before\necho ready-for-berth\n\
         HOME={b}/home XDG_CONFIG_HOME={b}/config XDG_DATA_HOME={b}/data DOCKER_CONFIG={b}/docker \
         BERTH_DEFAULT_NETWORK=none {berth} --root {b}/root\necho berth-exit=$?\nstty -g > {b}/stty.after\nexec sleep 600\n",
        b = base.display(),
        berth = BERTH
    );
    std::fs::write(&path, text).expect("write tui.sh");
    path
}

/// Unpacks the busybox test rootfs into `dir`.
pub fn rootfs(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir rootfs");
    tar::Archive::new(crate::common::rootfs::base_tar())
        .unpack(dir)
        .expect("unpack the busybox rootfs");
}

/// Starts a busybox container `name` running `cmd` from the test rootfs.
pub fn run_box(root: &TestRoot, name: &str, extra: &[&str], cmd: &str) {
    let dir = root.base().join(format!("rootfs-{name}"));
    rootfs(&dir);
    let mut args = vec!["run", "-d"];
    args.extend_from_slice(extra);
    args.extend([
        "--rootfs",
        "--name",
        name,
        dir.to_str().unwrap(),
        "sh",
        "-c",
        cmd,
    ]);
    root.berth_ok(args);
}
