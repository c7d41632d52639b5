//! Async sessions for the TUI's shell pane: attach to a container's process or exec a new one
//! (e.g. the user's shell), then read its output and write its input over the attach protocol.
//!
//! ```no_run
//! # async fn demo(engine: berth::engine::Engine, id: String) -> berth::engine::Result<()> {
//! use berth::engine::attach::session::{self, SessionEvent};
//! let (mut output, mut input) = session::open_shell(&engine, &id, 24, 80).await?.split();
//! input.send(b"ls\r").await?;
//! while let Some(event) = output.next().await? {
//!     match event {
//!         SessionEvent::Output { data, .. } => { /* feed a vt100 parser */ }
//!         SessionEvent::Exit(code) => break,
//!         SessionEvent::Error(message) => { /* show it */ }
//!     }
//! }
//! # Ok(()) }
//! ```

use std::os::fd::OwnedFd;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

use super::client;
use super::frame::{Frame, FrameBuffer};
use crate::engine::container;
use crate::engine::error::{EngineError, Result};
use crate::engine::exec::{self, ExecOptions};
use crate::engine::{off_thread, shell, Engine};

/// What a session's process produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// Output (all of it on stdout with a tty).
    Output { stderr: bool, data: Vec<u8> },
    /// The monitor reported a failure.
    Error(String),
    /// The process exited with this code; nothing follows.
    Exit(i32),
}

/// A connection to a process's streams.
pub struct Session {
    stream: UnixStream,
}

/// The reading half: output and the exit code.
pub struct SessionOutput {
    read: OwnedReadHalf,
    buf: FrameBuffer,
    done: bool,
}

/// The writing half: input, window size, detach.
pub struct SessionInput {
    write: OwnedWriteHalf,
}

fn lost(e: std::io::Error) -> EngineError {
    EngineError::io("the attach connection failed", e)
}

impl Session {
    fn from_std(s: std::os::unix::net::UnixStream) -> Result<Session> {
        s.set_nonblocking(true)
            .map_err(|e| EngineError::io("cannot configure the attach connection", e))?;
        let stream = UnixStream::from_std(s)
            .map_err(|e| EngineError::io("cannot register the attach connection", e))?;
        Ok(Session { stream })
    }

    /// Splits into independently usable halves.
    pub fn split(self) -> (SessionOutput, SessionInput) {
        let (read, write) = self.stream.into_split();
        (
            SessionOutput {
                read,
                buf: FrameBuffer::default(),
                done: false,
            },
            SessionInput { write },
        )
    }
}

impl SessionOutput {
    /// The next event; `None` when the connection ended without an exit code (e.g. the
    /// monitor was killed).
    pub async fn next(&mut self) -> Result<Option<SessionEvent>> {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if self.done {
                return Ok(None);
            }
            match self.buf.next_frame().map_err(lost)? {
                Some(Frame::Stdout(data)) => {
                    return Ok(Some(SessionEvent::Output {
                        stderr: false,
                        data,
                    }))
                }
                Some(Frame::Stderr(data)) => {
                    return Ok(Some(SessionEvent::Output { stderr: true, data }))
                }
                Some(Frame::Error(m)) => return Ok(Some(SessionEvent::Error(m))),
                Some(Frame::Exit(code)) => {
                    self.done = true;
                    return Ok(Some(SessionEvent::Exit(code)));
                }
                Some(_) => continue,
                None => {}
            }
            let n = self.read.read(&mut chunk).await.map_err(lost)?;
            if n == 0 {
                self.done = true;
                return Ok(None);
            }
            self.buf.push(&chunk[..n]);
        }
    }
}

impl SessionInput {
    async fn frame(&mut self, f: Frame) -> Result<()> {
        self.write.write_all(&f.encode()).await.map_err(lost)
    }

    /// Sends input bytes (keys, with a tty).
    pub async fn send(&mut self, data: &[u8]) -> Result<()> {
        for chunk in data.chunks(super::frame::MAX_PAYLOAD) {
            self.frame(Frame::Stdin(chunk.to_vec())).await?;
        }
        Ok(())
    }

    /// Sets the pty's window size.
    pub async fn resize(&mut self, rows: u16, cols: u16) -> Result<()> {
        self.frame(Frame::Resize { rows, cols }).await
    }

    /// Ends the process's stdin (without a tty, when the session owns it).
    pub async fn close_stdin(&mut self) -> Result<()> {
        self.frame(Frame::StdinClose).await
    }

    /// Leaves the process running and closes the connection.
    pub async fn detach(mut self) -> Result<()> {
        self.frame(Frame::Detach).await?;
        self.write.shutdown().await.map_err(lost)
    }
}

/// Attaches to the main process of running container `id` (a full id).
pub async fn open_attach(engine: &Engine, id: &str, rows: u16, cols: u16) -> Result<Session> {
    let engine = engine.clone();
    let id = id.to_string();
    let s = off_thread(move || client::attach(&engine, &id)).await?;
    let mut session = Session::from_std(s)?;
    if rows > 0 && cols > 0 {
        let f = Frame::Resize { rows, cols }.encode();
        session.stream.write_all(&f).await.map_err(lost)?;
    }
    Ok(session)
}

/// Starts created (or stopped) container `id` with a client connected before its process
/// starts, so that the session sees its output from the first byte, as `run` without `-d`
/// does. With a tty, `rows` and `cols` set the pty's first size. If the start fails, a
/// container created with `--rm` is removed.
pub async fn start_attached(engine: &Engine, id: &str, rows: u16, cols: u16) -> Result<Session> {
    let (ours, theirs) = client::pair()?;
    let engine = engine.clone();
    let id = id.to_string();
    let ours = off_thread(move || {
        let rec = container::get(&engine, &id)?;
        if rec.config.tty && rows > 0 && cols > 0 {
            use std::io::Write;
            (&ours)
                .write_all(&Frame::Resize { rows, cols }.encode())
                .map_err(lost)?;
        }
        container::start_new(&engine, &id, false, Some(OwnedFd::from(theirs)))?;
        Ok(ours)
    })
    .await?;
    Session::from_std(ours)
}

/// Starts `opts.cmd` in running container `id` and connects to it. With `opts.tty`, `rows` and
/// `cols` set the pty's first size.
pub async fn open_exec(
    engine: &Engine,
    id: &str,
    opts: ExecOptions,
    rows: u16,
    cols: u16,
) -> Result<Session> {
    let (ours, theirs) = client::pair()?;
    if opts.tty && rows > 0 && cols > 0 {
        // Queued before the process starts, so its first screen has the right size.
        use std::io::Write;
        (&ours)
            .write_all(&Frame::Resize { rows, cols }.encode())
            .map_err(lost)?;
    }
    let engine = engine.clone();
    let id = id.to_string();
    off_thread(move || exec::start(&engine, &id, &opts, Some(OwnedFd::from(theirs))).map(|_| ()))
        .await?;
    Session::from_std(ours)
}

/// Starts the user's login shell (see [`shell`]) with a tty in running container `id`.
pub async fn open_shell(engine: &Engine, id: &str, rows: u16, cols: u16) -> Result<Session> {
    let e = engine.clone();
    let cid = id.to_string();
    let sh = off_thread(move || shell::for_container(&e, &cid)).await?;
    let opts = ExecOptions {
        cmd: vec![sh],
        tty: true,
        interactive: true,
        ..Default::default()
    };
    open_exec(engine, id, opts, rows, cols).await
}
