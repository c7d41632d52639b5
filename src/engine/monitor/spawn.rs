//! Starting a monitor from a CLI or TUI process: fork + exec of the berth binary (never a bare
//! fork of the calling, possibly multi-threaded, process), in a new session, double-forked so it
//! is nobody's zombie, with the status pipe on its fd 3 and, when attached, output pipes on 4 and 5.
//! The binary is executed from its sealed read-only copy ([`super::seal`]) made here, so the
//! monitor starts with one exec, not two.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::pending;
use super::protocol::{MonitorMessage, StatusReader};
use super::seal::{self, SEALED_ENV};
use crate::engine::error::{EngineError, Result};

/// The berth binary that runs monitors: `$BERTH_EXE`, else this process's own executable.
pub fn monitor_exe() -> PathBuf {
    std::env::var_os("BERTH_EXE")
        .map(PathBuf::from)
        .or_else(|| std::env::current_exe().ok())
        .unwrap_or_else(|| PathBuf::from("/proc/self/exe"))
}

/// A spawned monitor, from the spawner's side.
pub struct MonitorChild {
    status: StatusReader<File>,
    /// The container's stdout and stderr, when attached.
    pub output: Option<(File, File)>,
}

impl MonitorChild {
    /// Waits for the monitor's first message (started or failed).
    pub fn wait_started(&mut self) -> Result<MonitorMessage> {
        self.status.next_message().ok_or_else(|| {
            EngineError::Runtime(
                "the container monitor exited before it reported the start: run with --debug \
                 and check the system log"
                    .into(),
            )
        })
    }

    /// Waits until the monitor has closed its status pipe (it exited) or `limit` passed;
    /// whether it did.
    pub fn wait_gone(&mut self, limit: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let fd = self.status.get_ref().as_fd();
            let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLIN)];
            let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms)) {
                Ok(0) => return false,
                Ok(_) => {
                    if self.status.next_message().is_none() {
                        return true;
                    }
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(_) => return false,
            }
        }
    }

    /// Waits for the exit message (attached monitors only); `None` if the monitor vanished.
    pub fn wait_exited(&mut self) -> Option<i32> {
        while let Some(m) = self.status.next_message() {
            if let MonitorMessage::Exited { code } = m {
                return Some(code);
            }
        }
        None
    }
}

fn high_dup(fd: &OwnedFd) -> Result<OwnedFd> {
    let raw = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))
        .map_err(|e| EngineError::io("cannot duplicate a descriptor", e.into()))?;
    // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that we now own.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) })
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| EngineError::io("cannot create a pipe", e.into()))?;
    Ok((high_dup(&r)?, high_dup(&w)?))
}

/// Spawns `berth --root ROOT monitor [--attach] ID`.
pub fn spawn(root: &Path, id: &str, attach: bool) -> Result<MonitorChild> {
    spawn_with(root, &[], id, attach, None)
}

/// Like [`spawn`], with `extra` monitor arguments (e.g. `--exec ID`) and, when given, an attach
/// client handed over as fd 6 (`--client`). A plain container monitor is the one this process
/// [`prespawn`]ed, when there is one for the same root and attach mode.
pub fn spawn_with(
    root: &Path,
    extra: &[&str],
    id: &str,
    attach: bool,
    client: Option<OwnedFd>,
) -> Result<MonitorChild> {
    if extra.is_empty() && client.is_none() {
        if let Some(child) = pending::hand(root, attach, id) {
            return Ok(child);
        }
    }
    launch(root, extra, id, attach, client, None)
}

/// Starts a container monitor that waits for its container (`monitor --pending`, the id comes on
/// its fd 7), so that it loads while the caller opens the engine and creates the container. The
/// next [`spawn_with`] of a container monitor of `root` with the same `attach` hands it the id.
pub fn prespawn(root: &Path, attach: bool) -> Result<()> {
    let dir = root.to_path_buf();
    let launch = std::thread::Builder::new()
        .name("prespawn".into())
        .spawn(move || {
            let (go_r, go_w) = pipe()?;
            let child = launch(&dir, &["--pending"], PENDING_ID, attach, None, Some(go_r))?;
            Ok((child, File::from(go_w)))
        })
        .map_err(|e| EngineError::io("cannot start a thread", e))?;
    pending::keep(root, attach, launch);
    Ok(())
}

/// The id argument of a prespawned monitor: a placeholder, overwritten in place by the id it
/// gets, so that its command line names its container as every monitor's does.
pub const PENDING_ID: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Lets a prespawned monitor that got no container go, and waits (a bounded time) until it
/// has: nothing of it outlives the caller.
pub fn discard_prespawned() {
    pending::discard();
}

/// Forks and executes `berth --root ROOT monitor [--attach] [--client] EXTRA… ID`, with the
/// status pipe on fd 3, the output pipes on 4 and 5, `client` on 6 and `go` on 7.
fn launch(
    root: &Path,
    extra: &[&str],
    id: &str,
    attach: bool,
    client: Option<OwnedFd>,
    go: Option<OwnedFd>,
) -> Result<MonitorChild> {
    let client = client.map(|c| high_dup(&c)).transpose()?;
    let (status_r, status_w) = pipe()?;
    let output = if attach {
        Some((pipe()?, pipe()?))
    } else {
        None
    };
    let mut targets: Vec<(RawFd, RawFd)> = vec![(status_w.as_raw_fd(), 3)];
    if let Some(((_, out_w), (_, err_w))) = &output {
        targets.push((out_w.as_raw_fd(), 4));
        targets.push((err_w.as_raw_fd(), 5));
    }
    if let Some(c) = &client {
        targets.push((c.as_raw_fd(), 6));
    }
    if let Some(g) = &go {
        targets.push((g.as_raw_fd(), 7));
    }
    // The monitor runs in `/`: hand it an absolute root.
    let root = std::path::absolute(root)
        .map_err(|e| EngineError::io_path("cannot resolve the engine root", root, e))?;
    let exe = monitor_exe();
    // The sealed copy of the binary; without it (no mount rights), the monitor seals itself.
    let source = if std::env::var_os("BERTH_EXE").is_some() {
        exe.clone()
    } else {
        PathBuf::from("/proc/self/exe")
    };
    let sealed = seal::sealed_fd(&source).and_then(|fd| high_dup(&fd));
    let mut cmd = match &sealed {
        // The child resolves this path before exec closes the (close-on-exec) descriptor.
        Ok(fd) => Command::new(format!("/proc/self/fd/{}", fd.as_raw_fd())),
        Err(e) => {
            tracing::debug!("the monitor seals itself: {e}");
            Command::new(&exe)
        }
    };
    cmd.arg0(&exe);
    // The monitor's long-lived part runs from the small relay binary beside berth's.
    match super::handover::relay_beside(&exe) {
        Some(relay) => cmd.env(super::handover::RELAY_ENV, relay),
        None => cmd.env_remove(super::handover::RELAY_ENV),
    };
    if sealed.is_ok() {
        cmd.env(SEALED_ENV, "1");
    } else {
        cmd.env_remove(SEALED_ENV);
    }
    cmd.arg("--root").arg(&root).arg("monitor");
    if attach {
        cmd.arg("--attach");
    }
    if client.is_some() {
        cmd.arg("--client");
    }
    cmd.args(extra);
    cmd.arg(id)
        // Never keep the caller's working directory busy for the container's lifetime.
        .current_dir("/")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: the closure runs in the forked child before exec and calls only async-signal-safe
    // functions (dup2, setsid, fork, _exit); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            for &(from, to) in &targets {
                if libc::dup2(from, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            match libc::fork() {
                -1 => Err(std::io::Error::last_os_error()),
                0 => Ok(()),
                _ => libc::_exit(0),
            }
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| EngineError::io(format!("cannot start the monitor {}", exe.display()), e))?;
    drop(sealed);
    // The intermediate process exits at once; reap it.
    let _ = child.wait();
    drop(status_w);
    drop(client);
    drop(go);
    let output = output.map(|((out_r, out_w), (err_r, err_w))| {
        drop(out_w);
        drop(err_w);
        (File::from(out_r), File::from(err_r))
    });
    Ok(MonitorChild {
        status: StatusReader::new(File::from(status_r)),
        output,
    })
}
