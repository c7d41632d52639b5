//! The standard streams of a container's (or an exec's) process, as the monitor sets them up:
//! with a tty, a socket pair on which the process sends its terminal's master; without,
//! pipes for stdout and stderr, and a pipe for stdin when it is kept open (`-i`), else
//! `/dev/null`.

use std::fs::File;
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use libcontainer::container::builder::ContainerBuilder;
use nix::sys::socket::{
    recvmsg, socketpair, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType,
};

use crate::engine::error::{EngineError, Result};

/// What the container's process is connected to, from the monitor's side.
pub enum ContainerIo {
    /// Separate output pipes; `stdin` is the write end of the stdin pipe with `-i`.
    Pipes {
        stdout: File,
        stderr: File,
        stdin: Option<File>,
    },
    /// The pty master: output, input and window size.
    Pty { master: File },
}

/// The descriptors libcontainer's builder takes for the process.
pub struct BuilderStdio {
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
    /// With a tty: the process's end of the socket pair its terminal's master comes back on
    /// (see `monitor::console`); it must stay open until the process exists.
    pub console: Option<OwnedFd>,
}

/// The monitor's ends, until the process exists.
pub struct StdioPlan {
    console: Option<UnixStream>,
    stdout: Option<File>,
    stderr: Option<File>,
    stdin: Option<File>,
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| EngineError::io("cannot create a pipe", e.into()))
}

/// Prepares the streams: a terminal with `tty`, else pipes (stdin's only with `open_stdin`).
pub fn prepare(tty: bool, open_stdin: bool) -> Result<(StdioPlan, BuilderStdio)> {
    if tty {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| EngineError::io("cannot create a socket pair", e.into()))?;
        return Ok((
            StdioPlan {
                console: Some(UnixStream::from(ours)),
                stdout: None,
                stderr: None,
                stdin: None,
            },
            BuilderStdio {
                stdin: None,
                stdout: None,
                stderr: None,
                console: Some(theirs),
            },
        ));
    }
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (stdin_child, stdin_ours) = if open_stdin {
        let (r, w) = pipe()?;
        (r, Some(File::from(w)))
    } else {
        let null = File::open("/dev/null")
            .map_err(|e| EngineError::io_path("cannot open", Path::new("/dev/null"), e))?;
        (OwnedFd::from(null), None)
    };
    Ok((
        StdioPlan {
            console: None,
            stdout: Some(File::from(out_r)),
            stderr: Some(File::from(err_r)),
            stdin: stdin_ours,
        },
        BuilderStdio {
            stdin: Some(stdin_child),
            stdout: Some(out_w),
            stderr: Some(err_w),
            console: None,
        },
    ))
}

impl BuilderStdio {
    /// Hands the pipes to libcontainer's builder (the terminal is the executor's: take
    /// `console` first).
    pub fn apply(self, mut b: ContainerBuilder) -> ContainerBuilder {
        if let Some(fd) = self.stdin {
            b = b.with_stdin(fd);
        }
        if let Some(fd) = self.stdout {
            b = b.with_stdout(fd);
        }
        if let Some(fd) = self.stderr {
            b = b.with_stderr(fd);
        }
        b
    }
}

impl StdioPlan {
    /// After the process was created: the monitor's ends (with a tty, receives the pty master
    /// that the process sent over the console socket).
    pub fn connect(mut self) -> Result<ContainerIo> {
        if let Some(console) = self.console.take() {
            let master = receive_master(&console, Duration::from_secs(10))?;
            return Ok(ContainerIo::Pty { master });
        }
        match (self.stdout.take(), self.stderr.take()) {
            (Some(stdout), Some(stderr)) => Ok(ContainerIo::Pipes {
                stdout,
                stderr,
                stdin: self.stdin.take(),
            }),
            _ => Err(EngineError::Runtime(
                "the container's streams are gone".into(),
            )),
        }
    }
}

fn receive_master(conn: &UnixStream, timeout: Duration) -> Result<File> {
    let no_pty =
        |why: String| EngineError::Runtime(format!("cannot get the container's terminal: {why}"));
    conn.set_read_timeout(Some(timeout))
        .map_err(|e| no_pty(e.to_string()))?;
    let mut name = [0u8; 64];
    let mut iov = [IoSliceMut::new(&mut name)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(|e| no_pty(e.to_string()))?;
    let mut fds = Vec::new();
    for c in msg.cmsgs().map_err(|e| no_pty(e.to_string()))? {
        if let ControlMessageOwned::ScmRights(list) = c {
            fds.extend(list);
        }
    }
    let mut owned: Vec<File> = fds
        .into_iter()
        // SAFETY: SCM_RIGHTS gave us these new descriptors; nothing else owns them.
        .map(|fd| unsafe { File::from_raw_fd(fd) })
        .collect();
    if owned.len() != 1 {
        return Err(no_pty(format!(
            "expected one descriptor on the console socket, got {}",
            owned.len()
        )));
    }
    Ok(owned.remove(0))
}
