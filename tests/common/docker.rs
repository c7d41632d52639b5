//! A private dockerd for tests that use docker as a judge of interchange (`docker load` of what
//! berth saves, `berth load` of what docker saves, import/export both ways).
//!
//! Everything of the daemon lives in a temp dir of its own: data root, exec root (where it starts
//! its own containerd), pid file, an empty daemon config (the machine's /etc/docker is never
//! read) and the unix socket the client talks to. It never touches the machine's network:
//! `--iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false`, so no
//! docker0, no DOCKER chains, no sysctl change; containers run with `--network none`. Dropping it
//! removes its containers, stops the daemon by pid (SIGTERM, then SIGKILL after 20 s) and
//! unmounts what it left under its directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::testroot::unmount_under;

/// Where Debian's docker.io puts dockerd, or another install.
pub fn dockerd_path() -> Option<&'static str> {
    ["/usr/sbin/dockerd", "/usr/bin/dockerd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// The docker client that came with that dockerd (Debian's), else the one on the PATH.
fn client_path() -> &'static str {
    if Path::new("/usr/bin/docker").exists() {
        "/usr/bin/docker"
    } else {
        "docker"
    }
}

/// A running private dockerd.
pub struct Dockerd {
    child: Child,
    dir: tempfile::TempDir,
    host: String,
}

impl Dockerd {
    /// Starts a dockerd and waits until it answers; `None` (with a message saying the test is
    /// skipped) when dockerd is not installed. Panics when it is installed but does not come up.
    pub fn start() -> Option<Dockerd> {
        let Some(bin) = dockerd_path() else {
            eprintln!(
                "SKIPPED: dockerd is not installed (`scripts/deps.sh test` installs docker.io)"
            );
            return None;
        };
        // A short path: containerd's socket lives under the exec root and a unix socket path
        // has at most 107 bytes.
        let dir = tempfile::Builder::new()
            .prefix("bd")
            .tempdir_in("/tmp")
            .expect("dockerd temp dir");
        let d = dir.path();
        let config = d.join("daemon.json");
        std::fs::write(&config, "{}").expect("dockerd config");
        std::fs::create_dir(d.join("client")).expect("client config dir");
        let host = format!("unix://{}", d.join("docker.sock").display());
        let log = std::fs::File::create(d.join("dockerd.log")).expect("dockerd log");
        let child = Command::new(bin)
            .args(["--config-file"])
            .arg(&config)
            .args(["--data-root"])
            .arg(d.join("data"))
            .args(["--exec-root"])
            .arg(d.join("x"))
            .args(["--pidfile"])
            .arg(d.join("docker.pid"))
            .args(["-H", &host])
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--ip-forward=false",
                "--ip-masq=false",
                "--bridge=none",
                "--storage-driver=overlay2",
            ])
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn dockerd");
        let daemon = Dockerd { child, dir, host };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if daemon.docker(["version"]).status.success() {
                return Some(daemon);
            }
            assert!(
                Instant::now() < deadline,
                "dockerd did not come up in 60 s: {}",
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The daemon's directory (its data, exec root and socket are below it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    /// The client for this daemon (its own config dir; no proxy).
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(client_path());
        c.args(["-H", &self.host])
            .env("DOCKER_CONFIG", self.dir.path().join("client"))
            .env_remove("DOCKER_HOST")
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .stdin(Stdio::null());
        c
    }

    /// Runs the client with `args`.
    pub fn docker<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd()
            .args(args)
            .output()
            .expect("run the docker client")
    }

    /// Runs the client and returns its stdout; panics with stderr (and the daemon's log) when
    /// it fails.
    pub fn docker_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let args: Vec<std::ffi::OsString> =
            args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = self.docker(&args);
        assert!(
            out.status.success(),
            "docker {args:?} failed ({}): {}{}\ndockerd log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.log(), 40)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A path under the daemon's directory for the test's own files.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        // Its containers first, so no containerd shim outlives the daemon.
        let ids = self
            .docker(["ps", "-aq"])
            .stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect::<Vec<_>>();
        if !ids.is_empty() {
            let _ = self.cmd().args(["rm", "-f"]).args(&ids).output();
        }
        // SIGTERM by pid: dockerd stops the containerd it started itself.
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
            }
        }
        // A containerd that outlived a daemon killed with SIGKILL, by the pid it wrote.
        let pidfile = self.dir.path().join("x/containerd/containerd.pid");
        if let Some(pid) = std::fs::read_to_string(pidfile)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let ours =
                String::from_utf8_lossy(&cmdline).contains(&*self.dir.path().to_string_lossy());
            if ours {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        unmount_under(self.dir.path());
    }
}
