//! The client loop that `attach`, `run -it`, `start -ai` and `exec` share: local stdin to the
//! process (raw mode with a tty, detach keys), output to stdout and stderr, window sizes, and
//! the exit code.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::terminal::{self, DetachDetector, RawGuard, WinchWatcher, DEFAULT_DETACH_KEYS};
use crate::engine::attach::frame::{Frame, FrameBuffer};
use crate::engine::EngineError;

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Detached,
}

/// What the client loop does with the local terminal.
pub struct ClientOptions {
    /// Forward local stdin.
    pub stdin: bool,
    /// The process has a tty: raw mode, window sizes, detach keys.
    pub tty: bool,
    /// `--detach-keys` (Docker's default when `None`).
    pub detach_keys: Option<String>,
    /// Which output streams are shown, stdout then stderr (`run -a`; with a tty everything
    /// comes as stdout).
    pub output: [bool; 2],
}

fn to_frame_err(e: std::io::Error) -> EngineError {
    EngineError::io("the attach connection failed", e)
}

/// Runs the client loop over a connected session until the process exits or the user detaches.
pub fn relay(mut stream: UnixStream, opts: &ClientOptions) -> anyhow::Result<Outcome> {
    let stdin = std::io::stdin();
    let stdin_tty = terminal::is_tty(stdin.as_fd());
    let keys =
        terminal::parse_detach_keys(opts.detach_keys.as_deref().unwrap_or(DEFAULT_DETACH_KEYS))?;
    let mut detector = (opts.tty && stdin_tty).then(|| DetachDetector::new(keys));
    let winch = if opts.tty {
        Some(WinchWatcher::install()?)
    } else {
        None
    };
    let send_size = |s: &mut UnixStream| -> std::io::Result<()> {
        let out = std::io::stdout();
        let size = terminal::window_size(out.as_fd()).or_else(|| {
            let i = std::io::stdin();
            terminal::window_size(i.as_fd())
        });
        match size {
            Some((rows, cols)) => Frame::Resize { rows, cols }.write_to(s),
            None => Ok(()),
        }
    };
    if opts.tty {
        send_size(&mut stream).map_err(to_frame_err)?;
    }
    let _raw = if opts.tty && stdin_tty && opts.stdin {
        Some(RawGuard::enter(stdin.as_fd())?)
    } else {
        None
    };
    let mut stdin_open = opts.stdin;
    let mut frames = FrameBuffer::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let (stdin_ready, sock_ready, winch_ready) = {
            let mut fds = vec![PollFd::new(stream.as_fd(), PollFlags::POLLIN)];
            if let Some(w) = &winch {
                fds.push(PollFd::new(w.fd(), PollFlags::POLLIN));
            }
            if stdin_open {
                fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(EngineError::Runtime(format!("poll: {e}")).into()),
            }
            let r: Vec<bool> = fds
                .iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            let w = winch.is_some() && r[1];
            let s = stdin_open && r[r.len() - 1];
            (s, r[0], w)
        };
        if winch_ready {
            if let Some(w) = &winch {
                w.drain();
            }
            send_size(&mut stream).map_err(to_frame_err)?;
        }
        if sock_ready {
            let n = match stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(to_frame_err(e).into()),
            };
            if n == 0 {
                return Err(EngineError::Runtime(
                    "the container's monitor closed the connection without an exit code".into(),
                )
                .into());
            }
            frames.push(&buf[..n]);
            while let Some(f) = frames.next_frame().map_err(to_frame_err)? {
                match f {
                    Frame::Stdout(d) if opts.output[0] => {
                        let mut o = std::io::stdout().lock();
                        let _ = o.write_all(&d).and_then(|_| o.flush());
                    }
                    Frame::Stderr(d) if opts.output[1] => {
                        let _ = std::io::stderr().write_all(&d);
                    }
                    Frame::Error(m) => eprintln!("Error: {m}"),
                    Frame::Exit(code) => return Ok(Outcome::Exited(code)),
                    _ => {}
                }
            }
        }
        if stdin_ready {
            let n = match stdin.lock().read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => 0,
            };
            if n == 0 {
                stdin_open = false;
                Frame::StdinClose
                    .write_to(&mut stream)
                    .map_err(to_frame_err)?;
                continue;
            }
            let (data, detach) = match detector.as_mut() {
                Some(d) => d.feed(&buf[..n]),
                None => (buf[..n].to_vec(), false),
            };
            if !data.is_empty() {
                Frame::Stdin(data)
                    .write_to(&mut stream)
                    .map_err(to_frame_err)?;
            }
            if detach {
                let _ = Frame::Detach.write_to(&mut stream);
                return Ok(Outcome::Detached);
            }
        }
    }
}

/// The exit code for how a session ended (0 after a detach).
pub fn finish(outcome: Outcome) -> i32 {
    match outcome {
        Outcome::Exited(code) => code,
        Outcome::Detached => 0,
    }
}

/// Refuses `-it` when stdin is not a terminal, as docker does.
pub fn require_tty_stdin() -> Result<(), EngineError> {
    if terminal::is_tty(std::io::stdin().as_fd()) {
        Ok(())
    } else {
        Err(EngineError::InvalidInput(
            "the input device is not a TTY: run without -t, or from a terminal".into(),
        ))
    }
}
