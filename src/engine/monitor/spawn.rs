//! Starting a monitor from a CLI or TUI process: fork + exec of the berth binary (never a bare
//! fork of the calling, possibly multi-threaded, process), in a new session, double-forked so it
//! is nobody's zombie, with the status pipe on its fd 3 and, when attached, output pipes on 4 and 5.
//! The binary is executed from its sealed read-only copy ([`super::seal`]) made here, so the
//! monitor starts with one exec, not two.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
/// client handed over as fd 6 (`--client`).
pub fn spawn_with(
    root: &Path,
    extra: &[&str],
    id: &str,
    attach: bool,
    client: Option<OwnedFd>,
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
