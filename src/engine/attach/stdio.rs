//! The standard streams of a container's (or an exec's) process, as the monitor sets them up:
//! with a tty, a console socket through which libcontainer hands over the pty master; without,
//! pipes for stdout and stderr, and a pipe for stdin when it is kept open (`-i`), else
//! `/dev/null`.

use std::fs::File;
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use libcontainer::container::builder::ContainerBuilder;
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

use super::socket;
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
    /// Path of the console socket (tty only).
    pub console_socket: Option<PathBuf>,
}

/// The monitor's ends, until the process exists.
pub struct StdioPlan {
    console: Option<Console>,
    stdout: Option<File>,
    stderr: Option<File>,
    stdin: Option<File>,
}

struct Console {
    listener: UnixListener,
    path: PathBuf,
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| EngineError::io("cannot create a pipe", e.into()))
}

/// Prepares the streams. `attach_dir` holds the console socket `console_name` with a tty.
pub fn prepare(
    attach_dir: &Path,
    console_name: &str,
    tty: bool,
    open_stdin: bool,
) -> Result<(StdioPlan, BuilderStdio)> {
    if tty {
        socket::create_dir(attach_dir)?;
        let listener = socket::bind(attach_dir, console_name)?;
        let path = attach_dir.join(console_name);
        return Ok((
            StdioPlan {
                console: Some(Console {
                    listener,
                    path: path.clone(),
                }),
                stdout: None,
                stderr: None,
                stdin: None,
            },
            BuilderStdio {
                stdin: None,
                stdout: None,
                stderr: None,
                console_socket: Some(path),
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
            console_socket: None,
        },
    ))
}

impl BuilderStdio {
    /// Hands the streams to libcontainer's builder.
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
        b.with_console_socket(self.console_socket)
    }
}

impl StdioPlan {
    /// After the process was created: the monitor's ends (with a tty, receives the pty master
    /// that the process sent over the console socket).
    pub fn connect(mut self) -> Result<ContainerIo> {
        if let Some(console) = self.console.take() {
            let master = receive_master(&console.listener, Duration::from_secs(10))?;
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

fn receive_master(listener: &UnixListener, timeout: Duration) -> Result<File> {
    let no_pty =
        |why: String| EngineError::Runtime(format!("cannot get the container's terminal: {why}"));
    listener
        .set_nonblocking(true)
        .map_err(|e| no_pty(e.to_string()))?;
    let deadline = std::time::Instant::now() + timeout;
    let conn = loop {
        match listener.accept() {
            Ok((c, _)) => break c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if std::time::Instant::now() >= deadline {
                    return Err(no_pty(
                        "the runtime never connected to the console socket".into(),
                    ));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(no_pty(e.to_string())),
        }
    };
    conn.set_nonblocking(false)
        .and_then(|_| conn.set_read_timeout(Some(timeout)))
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
