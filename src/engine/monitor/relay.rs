//! The monitor's output loop: reads the container's stdout and stderr pipes, writes the json-file
//! log, copies the bytes to an attached client, and notices the container's exit via a pidfd.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::engine::error::{EngineError, Result};
use crate::engine::logs::{LogWriter, Stream};

/// Where attached output goes (the spawning CLI's pipes, fds 4 and 5).
pub struct Attached {
    pub stdout: File,
    pub stderr: File,
    pub alive: bool,
}

/// Opens a pidfd for `pid`.
pub fn pidfd_open(pid: i32) -> Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(EngineError::io(
            "cannot open a pidfd for the container",
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Relays output until the process behind `pidfd` exits and its pipes are drained (at most
/// `drain` after the exit, since a stray process might keep them open).
pub fn run(
    out: File,
    err: File,
    pidfd: &OwnedFd,
    log: &mut LogWriter,
    mut attached: Option<&mut Attached>,
    drain: Duration,
) -> Result<()> {
    let mut pipes: [Option<File>; 2] = [Some(out), Some(err)];
    let mut exited_at: Option<Instant> = None;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if pipes.iter().all(Option::is_none) && exited_at.is_some() {
            break;
        }
        if let Some(t) = exited_at {
            if t.elapsed() >= drain {
                break;
            }
        }
        let mut fds: Vec<PollFd<'_>> = Vec::new();
        let mut which: Vec<usize> = Vec::new();
        for (i, p) in pipes.iter().enumerate() {
            if let Some(f) = p {
                fds.push(PollFd::new(f.as_fd(), PollFlags::POLLIN));
                which.push(i);
            }
        }
        let pid_index = if exited_at.is_none() {
            fds.push(PollFd::new(pidfd.as_fd(), PollFlags::POLLIN));
            Some(fds.len() - 1)
        } else {
            None
        };
        let timeout = if exited_at.is_some() {
            PollTimeout::from(50u16)
        } else {
            PollTimeout::NONE
        };
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                return Err(EngineError::caused(
                    crate::engine::ErrorKind::Runtime,
                    "monitor poll failed",
                    e,
                ))
            }
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        if let Some(pi) = pid_index {
            if ready[pi] {
                super::debug_log("pidfd readable: the container's process exited");
                exited_at = Some(Instant::now());
            }
        }
        for (slot, &i) in which.iter().enumerate() {
            if !ready[slot] {
                continue;
            }
            let stream = if i == 0 {
                Stream::Stdout
            } else {
                Stream::Stderr
            };
            let n = match pipes[i].as_mut().map(|f| f.read(&mut buf)) {
                Some(Ok(n)) => n,
                Some(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                _ => 0,
            };
            if n == 0 {
                pipes[i] = None;
                continue;
            }
            log.write(stream, &buf[..n]);
            if let Some(a) = attached.as_deref_mut() {
                if a.alive {
                    let w = if i == 0 { &mut a.stdout } else { &mut a.stderr };
                    if w.write_all(&buf[..n]).is_err() {
                        a.alive = false;
                    }
                }
            }
        }
    }
    log.flush();
    Ok(())
}

/// Whether `fd` is an open descriptor.
pub fn fd_is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only inspects the descriptor table.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// Takes ownership of an inherited descriptor if it is open.
pub fn inherited(fd: i32) -> Option<File> {
    if fd_is_open(fd) {
        // SAFETY: the descriptor is open and was handed to us by our spawner for our sole use.
        let f = unsafe { File::from_raw_fd(fd) };
        // Keep it out of the container.
        let _ = nix::fcntl::fcntl(
            f.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
        );
        Some(f)
    } else {
        None
    }
}
