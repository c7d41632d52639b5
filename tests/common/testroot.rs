//! A temporary engine root for one test, and the `berth` binary run against it.
//!
//! The temp dir holds `root/` (the engine root, passed as `--root`) and `home/`, `config/`,
//! `data/`, `docker/` so that `berth login` and friends never touch the real user's files
//! (HOME, XDG_CONFIG_HOME, XDG_DATA_HOME and DOCKER_CONFIG point there). Drop removes every
//! container (`berth rm -f $(berth ps -aq)`, best effort: those commands may not exist yet),
//! lazily unmounts whatever is still mounted under the temp dir (deepest first), then deletes it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");

pub struct TestRoot {
    dir: Option<tempfile::TempDir>,
}

impl Default for TestRoot {
    fn default() -> Self {
        Self::new()
    }
}

impl TestRoot {
    pub fn new() -> TestRoot {
        let dir = tempfile::Builder::new()
            .prefix("berth-test-")
            .tempdir()
            .expect("create test temp dir");
        // Traversable like /var/lib, so processes of other uids can reach paths below it.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711))
            .expect("chmod test temp dir");
        for sub in ["root", "home", "config", "data", "docker"] {
            std::fs::create_dir(dir.path().join(sub)).expect("create test dir");
        }
        TestRoot { dir: Some(dir) }
    }

    /// The temp dir holding the root and the fake home.
    pub fn base(&self) -> &Path {
        self.dir.as_ref().expect("live test root").path()
    }

    /// The engine root (`--root`).
    pub fn path(&self) -> PathBuf {
        self.base().join("root")
    }

    /// `$HOME` of the berth processes.
    pub fn home(&self) -> PathBuf {
        self.base().join("home")
    }

    /// `$XDG_CONFIG_HOME` of the berth processes.
    pub fn config_home(&self) -> PathBuf {
        self.base().join("config")
    }

    /// `$DOCKER_CONFIG` of the berth processes (empty unless a test writes a config.json).
    pub fn docker_config(&self) -> PathBuf {
        self.base().join("docker")
    }

    /// `berth --root R` with the test's environment, stdin from /dev/null; add args and run.
    pub fn cmd(&self) -> Command {
        berth_cmd(self.base())
    }

    /// Runs `berth --root R ARGS…` and returns its output (never panics on failure).
    pub fn berth<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd()
            .args(args)
            .output()
            .expect("run the berth binary")
    }

    /// Runs berth and panics (showing stderr) unless it succeeds; returns stdout.
    pub fn berth_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args
            .into_iter()
            .map(|a| a.as_ref().to_os_string())
            .collect();
        let out = self.berth(&args);
        assert!(
            out.status.success(),
            "berth {:?} failed ({}):\nstdout: {}\nstderr: {}",
            args,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs berth and panics unless it fails; returns stderr.
    pub fn berth_err<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args
            .into_iter()
            .map(|a| a.as_ref().to_os_string())
            .collect();
        let out = self.berth(&args);
        assert!(
            !out.status.success(),
            "berth {:?} succeeded but should have failed:\nstdout: {}",
            args,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

impl Drop for TestRoot {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        // Best effort: `ps`/`rm` may not exist yet, or fail; cleanup goes on regardless.
        let limit = Duration::from_secs(30);
        let mut ps = berth_cmd(dir.path());
        ps.args(["ps", "-aq"]);
        if let Some(out) = run_bounded(ps, limit) {
            let ids = String::from_utf8_lossy(&out.stdout).into_owned();
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if out.status.success() && !ids.is_empty() {
                let mut rm = berth_cmd(dir.path());
                rm.args(["rm", "-f"]).args(ids);
                let _ = run_bounded(rm, limit);
            }
        }
        unmount_under(dir.path());
        // The root's (empty) runtime directory under /run/berth, kept for the root's lifetime.
        let layout = berth::engine::Layout::new(dir.path().join("root"));
        let _ = std::fs::remove_dir(berth::engine::container::cleanup::runtime_root(&layout, ""));
        if let Err(e) = dir.close() {
            eprintln!("test root cleanup: {e}");
        }
    }
}

/// `berth --root BASE/root` with HOME, XDG dirs and DOCKER_CONFIG under `base`.
fn berth_cmd(base: &Path) -> Command {
    let mut cmd = Command::new(BERTH);
    cmd.arg("--root")
        .arg(base.join("root"))
        .env_remove("BERTH_ROOT")
        // No test outside a network namespace of its own may touch the host's network.
        .env("BERTH_DEFAULT_NETWORK", "none")
        .env("HOME", base.join("home"))
        .env("XDG_CONFIG_HOME", base.join("config"))
        .env("XDG_DATA_HOME", base.join("data"))
        .env("DOCKER_CONFIG", base.join("docker"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd` (stdout captured, stderr dropped) and kills it by pid if it outlives `limit`.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Option<Output> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
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

/// Mount points at or under `dir`, from /proc/self/mountinfo, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<PathBuf> = info
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mountinfo(p)))
        .filter(|p| p.starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    points.dedup();
    points
}

/// Lazily unmounts everything under `dir`, deepest first, until nothing is left (stacked mounts
/// need several rounds).
pub fn unmount_under(dir: &Path) {
    for _round in 0..8 {
        let points = mounts_under(dir);
        if points.is_empty() {
            return;
        }
        for p in points {
            if let Err(e) = nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH) {
                eprintln!("test root cleanup: umount {}: {e}", p.display());
            }
        }
    }
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo` octal.
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 4 <= b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
