//! A private tmux server (`tmux -L <unique>`) with one session of a fixed size running one
//! command, driven by `send-keys` and read by `capture-pane`. Dropping it kills the server and,
//! should it outlive the server, the pane's process, both by the pids recorded at start.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

pub struct Tmux {
    socket: String,
    server: Option<i32>,
    pane: Option<i32>,
    /// The server's socket file (tmux leaves it behind after `kill-server`).
    path: Option<String>,
}

fn tmux_output(socket: &str, args: &[&str]) -> std::io::Result<Output> {
    Command::new("tmux")
        .args(["-L", socket, "-f", "/dev/null"])
        .args(args)
        .output()
}

impl Tmux {
    /// Starts a server and a `width`×`height` session (no status line, the pane kept after its
    /// command exits) running `command` through `sh -c`.
    pub fn start(width: u16, height: u16, command: &str) -> Tmux {
        let socket = format!("berth-tuibench-{}", std::process::id());
        let mut t = Tmux {
            socket,
            server: None,
            pane: None,
            path: None,
        };
        let (w, h) = (width.to_string(), height.to_string());
        t.run(&[
            "new-session",
            "-d",
            "-s",
            "bench",
            "-x",
            &w,
            "-y",
            &h,
            command,
            ";",
            "set-option",
            "-g",
            "status",
            "off",
            ";",
            "set-option",
            "-g",
            "remain-on-exit",
            "on",
        ]);
        t.server = t.display("#{pid}").parse().ok();
        t.pane = t.display("#{pane_pid}").parse().ok();
        t.path = Some(t.display("#{socket_path}")).filter(|p| !p.is_empty());
        t
    }

    /// Runs a tmux command on this server; panics with its stderr if it fails.
    pub fn run(&self, args: &[&str]) -> String {
        let out = tmux_output(&self.socket, args)
            .unwrap_or_else(|e| panic!("cannot run tmux ({e}): install tmux"));
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A format of the session's pane (`#{pane_pid}`, …).
    pub fn display(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "bench", format])
            .trim()
            .to_string()
    }

    /// The pid of the pane's process.
    pub fn pane_pid(&self) -> i32 {
        self.pane.expect("the tmux pane has a pid")
    }

    /// Sends keys (tmux key names: `Enter`, `Escape`, `/`, …).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "bench"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "bench", "-l", text]);
    }

    /// The visible screen as text.
    pub fn capture(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "bench"])
    }

    /// Waits until the screen shows `needle`; panics with the screen after `limit`.
    pub fn wait_for(&self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.capture();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen did not show {needle:?} within {limit:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux_output(&self.socket, &["kill-server"]);
        for pid in [self.pane, self.server].into_iter().flatten() {
            // Only if still there (kill-server normally ends both).
            let pid = Pid::from_raw(pid);
            if kill(pid, None).is_ok() {
                std::thread::sleep(Duration::from_millis(200));
                if kill(pid, None).is_ok() {
                    let _ = kill(pid, Signal::SIGKILL);
                }
            }
        }
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}
