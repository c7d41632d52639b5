//! The monitor's I/O loop (single-threaded, `poll`): reads the process's output (pipes or pty
//! master), writes it to the json-file log and to every attached client, accepts clients on the
//! attach socket, feeds their input to the process's stdin, applies window sizes, and notices
//! the process's exit through a pidfd. After the exit, [`Server::finish`] sends the exit code
//! to every client.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::frame::{encode_raw, output_kind, Frame, FrameBuffer};
use super::stdio::ContainerIo;
use crate::engine::error::{EngineError, Result};
use crate::engine::logs::{LogWriter, Stream};
use crate::engine::monitor::relay::Attached;

/// A client may fall this far behind before it is dropped.
const CLIENT_BACKLOG: usize = 4 << 20;
/// Stdin bytes kept for a process that does not read; clients are not read past this.
const STDIN_BACKLOG: usize = 1 << 20;

pub(super) struct Client {
    pub(super) stream: UnixStream,
    pub(super) input: FrameBuffer,
    pub(super) out: Vec<u8>,
    pub(super) gone: bool,
}

impl Client {
    pub(super) fn new(stream: UnixStream) -> Option<Client> {
        stream.set_nonblocking(true).ok()?;
        Some(Client {
            stream,
            input: FrameBuffer::default(),
            out: Vec::new(),
            gone: false,
        })
    }

    fn send(&mut self, bytes: &[u8]) {
        if self.gone {
            return;
        }
        if self.out.is_empty() {
            match self.stream.write(bytes) {
                Ok(n) if n == bytes.len() => return,
                Ok(n) => self.out.extend_from_slice(&bytes[n..]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.out.extend_from_slice(bytes),
                Err(_) => self.gone = true,
            }
        } else {
            self.out.extend_from_slice(bytes);
        }
        if self.out.len() > CLIENT_BACKLOG {
            self.gone = true;
        }
    }

    fn flush_some(&mut self) {
        while !self.out.is_empty() && !self.gone {
            match self.stream.write(&self.out) {
                Ok(0) => self.gone = true,
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => self.gone = true,
            }
        }
    }
}

/// The loop's state. Build it with [`Server::new`], add clients, then [`Server::run`] and
/// [`Server::finish`].
pub struct Server {
    pub(super) outputs: [Option<File>; 2],
    /// The pty master (also in `outputs[0]` and `stdin`), for window sizes.
    pub(super) pty: Option<File>,
    pub(super) stdin: Option<File>,
    pub(super) stdin_pending: Vec<u8>,
    pub(super) close_stdin_when_flushed: bool,
    pub(super) stdin_once: bool,
    pub(super) listener: Option<UnixListener>,
    pub(super) clients: Vec<Client>,
    pub(super) plain: Option<Attached>,
    pub(super) log: Option<LogWriter>,
    /// When [`Server::run`] returns [`Ran::Paused`] (see [`Server::pause_at`]).
    pub(super) pause: Option<Instant>,
}

/// Why [`Server::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    /// The process exited and its output is drained.
    Exited,
    /// The time given to [`Server::pause_at`] came with the process still running; calling
    /// `run` again goes on where it stopped.
    Paused,
}

fn dup(f: &File) -> Result<File> {
    f.try_clone()
        .map_err(|e| EngineError::io("cannot duplicate the terminal descriptor", e))
}

impl Server {
    /// A server over the process's streams. `stdin_once`: close the process's stdin when a
    /// client's stdin ends (Docker's `StdinOnce`, and every exec).
    pub fn new(io: ContainerIo, log: Option<LogWriter>, stdin_once: bool) -> Result<Server> {
        let (outputs, pty, stdin) = match io {
            ContainerIo::Pipes {
                stdout,
                stderr,
                stdin,
            } => ([Some(stdout), Some(stderr)], None, stdin),
            ContainerIo::Pty { master } => {
                let input = dup(&master)?;
                let reader = dup(&master)?;
                ([Some(reader), None], Some(master), Some(input))
            }
        };
        if let Some(s) = &stdin {
            set_nonblocking(s)?;
        }
        Ok(Server {
            outputs,
            pty,
            stdin,
            stdin_pending: Vec::new(),
            close_stdin_when_flushed: false,
            stdin_once,
            listener: None,
            clients: Vec::new(),
            plain: None,
            log,
            pause: None,
        })
    }

    /// Accepts clients on `listener` while running.
    pub fn listen(&mut self, listener: UnixListener) -> Result<()> {
        listener
            .set_nonblocking(true)
            .map_err(|e| EngineError::io("cannot configure the attach socket", e))?;
        self.listener = Some(listener);
        Ok(())
    }

    /// Adds a client that is already connected (the spawner's end of a socket pair).
    pub fn add_client(&mut self, stream: UnixStream) {
        if let Some(c) = Client::new(stream) {
            self.clients.push(c);
        }
    }

    /// Also copies output to plain pipes (the spawner's fds 4 and 5).
    pub fn add_plain(&mut self, attached: Attached) {
        self.plain = Some(attached);
    }

    /// Makes [`Server::run`] return [`Ran::Paused`] at `at` if the process is still running then
    /// (the monitor gives back its start-up memory then; a short-lived container exits before
    /// and never pays for it).
    pub fn pause_at(&mut self, at: Instant) {
        self.pause = Some(at);
    }

    /// Relays until the process behind `pidfd` exits and its output is drained (at most
    /// `drain` after the exit, since a stray process might keep the streams open), or until the
    /// pause set with [`Server::pause_at`].
    pub fn run(&mut self, pidfd: &OwnedFd, drain: Duration) -> Result<Ran> {
        let mut exited_at: Option<Instant> = None;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if let Some(t) = exited_at {
                if self.outputs.iter().all(Option::is_none) || t.elapsed() >= drain {
                    break;
                }
            }
            self.clients.retain(|c| !c.gone);
            let ready = self.wait(pidfd, exited_at.is_some())?;
            if ready.pid {
                exited_at = Some(Instant::now());
                self.pause = None;
            }
            for i in 0..2 {
                if ready.outputs[i] {
                    self.read_output(i, &mut buf)?;
                }
            }
            if ready.listener {
                self.accept();
            }
            if ready.stdin {
                self.flush_stdin();
            }
            for (k, (readable, writable)) in ready.clients.into_iter().enumerate() {
                if writable {
                    self.clients[k].flush_some();
                }
                if readable {
                    self.read_client(k, &mut buf);
                }
            }
            if self.pause.is_some_and(|at| Instant::now() >= at) {
                self.pause = None;
                self.clients.retain(|c| !c.gone);
                return Ok(Ran::Paused);
            }
        }
        if let Some(log) = self.log.as_mut() {
            log.flush();
        }
        Ok(Ran::Exited)
    }

    /// Sends the exit code to every client (waiting up to two seconds for slow ones), then
    /// closes them and the attach socket.
    pub fn finish(&mut self, code: i32) {
        self.listener = None;
        let exit = Frame::Exit(code).encode();
        for c in &mut self.clients {
            c.send(&exit);
            let _ = c.stream.set_nonblocking(false);
            let _ = c.stream.set_write_timeout(Some(Duration::from_secs(2)));
            if !c.gone {
                let _ = c.stream.write_all(&c.out);
            }
            let _ = c.stream.shutdown(std::net::Shutdown::Write);
        }
        self.clients.clear();
    }

    fn wait(&self, pidfd: &OwnedFd, exited: bool) -> Result<Ready> {
        let mut fds: Vec<PollFd<'_>> = Vec::new();
        let mut slots: Vec<Slot> = Vec::new();
        for (i, o) in self.outputs.iter().enumerate() {
            if let Some(f) = o {
                fds.push(PollFd::new(f.as_fd(), PollFlags::POLLIN));
                slots.push(Slot::Output(i));
            }
        }
        if !exited {
            fds.push(PollFd::new(pidfd.as_fd(), PollFlags::POLLIN));
            slots.push(Slot::Pid);
        }
        if let Some(l) = &self.listener {
            fds.push(PollFd::new(l.as_fd(), PollFlags::POLLIN));
            slots.push(Slot::Listener);
        }
        if let (Some(s), false) = (&self.stdin, self.stdin_pending.is_empty()) {
            fds.push(PollFd::new(s.as_fd(), PollFlags::POLLOUT));
            slots.push(Slot::Stdin);
        }
        let read_clients = self.stdin_pending.len() < STDIN_BACKLOG;
        for (k, c) in self.clients.iter().enumerate() {
            let mut flags = PollFlags::empty();
            if read_clients {
                flags |= PollFlags::POLLIN;
            }
            if !c.out.is_empty() {
                flags |= PollFlags::POLLOUT;
            }
            fds.push(PollFd::new(c.stream.as_fd(), flags));
            slots.push(Slot::Client(k));
        }
        let timeout = if exited {
            PollTimeout::from(50u16)
        } else if let Some(at) = &self.pause {
            let left = at.saturating_duration_since(Instant::now()).as_millis();
            PollTimeout::from(u16::try_from(left).unwrap_or(u16::MAX))
        } else {
            PollTimeout::NONE
        };
        let mut ready = Ready {
            clients: vec![(false, false); self.clients.len()],
            ..Ready::default()
        };
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return Ok(ready),
            Err(e) => {
                return Err(EngineError::caused(
                    crate::engine::ErrorKind::Runtime,
                    "monitor poll failed",
                    e,
                ))
            }
        }
        for (fd, slot) in fds.iter().zip(slots) {
            let Some(r) = fd.revents().filter(|r| !r.is_empty()) else {
                continue;
            };
            let hangup = r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR);
            match slot {
                Slot::Output(i) => ready.outputs[i] = true,
                Slot::Pid => ready.pid = true,
                Slot::Listener => ready.listener = true,
                Slot::Stdin => ready.stdin = true,
                Slot::Client(k) => {
                    ready.clients[k] = (
                        r.contains(PollFlags::POLLIN) || hangup,
                        r.contains(PollFlags::POLLOUT),
                    )
                }
            }
        }
        Ok(ready)
    }

    fn read_output(&mut self, i: usize, buf: &mut [u8]) -> Result<()> {
        let n = match self.outputs[i].as_mut().map(|f| f.read(buf)) {
            Some(Ok(n)) => n,
            Some(Err(e)) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::WouldBlock) => {
                return Ok(())
            }
            // EIO from a pty master: every slave descriptor is closed.
            _ => 0,
        };
        if n == 0 {
            self.outputs[i] = None;
            return Ok(());
        }
        let data = &buf[..n];
        let stdout = i == 0;
        if let Some(log) = self.log.as_mut() {
            log.write(
                if stdout {
                    Stream::Stdout
                } else {
                    Stream::Stderr
                },
                data,
            );
        }
        if let Some(p) = self.plain.as_mut().filter(|p| p.alive) {
            let w = if stdout { &mut p.stdout } else { &mut p.stderr };
            if w.write_all(data).is_err() {
                p.alive = false;
            }
        }
        if !self.clients.is_empty() {
            let frame = encode_raw(output_kind(stdout), data);
            for c in &mut self.clients {
                c.send(&frame);
            }
        }
        Ok(())
    }

    fn accept(&mut self) {
        let Some(l) = &self.listener else { return };
        while let Ok((stream, _)) = l.accept() {
            if let Some(c) = Client::new(stream) {
                self.clients.push(c);
            }
        }
    }

    fn read_client(&mut self, k: usize, buf: &mut [u8]) {
        let c = &mut self.clients[k];
        loop {
            match c.stream.read(buf) {
                Ok(0) => {
                    c.gone = true;
                    break;
                }
                Ok(n) => c.input.push(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    c.gone = true;
                    break;
                }
            }
        }
        loop {
            let frame = match self.clients[k].input.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    let c = &mut self.clients[k];
                    c.send(&Frame::Error(e.to_string()).encode());
                    c.gone = true;
                    break;
                }
            };
            match frame {
                Frame::Stdin(data) if self.stdin.is_some() && !self.close_stdin_when_flushed => {
                    self.stdin_pending.extend_from_slice(&data);
                    self.flush_stdin();
                }
                Frame::StdinClose if self.stdin_once && self.pty.is_none() => {
                    self.close_stdin_when_flushed = true;
                    self.flush_stdin();
                }
                Frame::Resize { rows, cols } => self.resize(rows, cols),
                Frame::Detach => self.clients[k].gone = true,
                // Input nobody reads; output, error and exit frames only go the other way.
                _ => {}
            }
        }
    }

    fn flush_stdin(&mut self) {
        if let Some(s) = self.stdin.as_mut() {
            while !self.stdin_pending.is_empty() {
                match s.write(&self.stdin_pending) {
                    Ok(n) => {
                        self.stdin_pending.drain(..n);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => {
                        // The process closed its stdin: nothing more will be read.
                        self.stdin_pending.clear();
                        self.stdin = None;
                        return;
                    }
                }
            }
        }
        if self.close_stdin_when_flushed && self.stdin_pending.is_empty() {
            self.stdin = None;
        }
    }

    fn resize(&self, rows: u16, cols: u16) {
        let Some(pty) = &self.pty else { return };
        if rows == 0 || cols == 0 {
            return;
        }
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize struct that lives for the duration of the call.
        unsafe {
            libc::ioctl(pty.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}

enum Slot {
    Output(usize),
    Pid,
    Listener,
    Stdin,
    Client(usize),
}

#[derive(Default)]
struct Ready {
    outputs: [bool; 2],
    pid: bool,
    listener: bool,
    stdin: bool,
    clients: Vec<(bool, bool)>,
}

fn set_nonblocking(f: &File) -> Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = fcntl(f.as_raw_fd(), FcntlArg::F_GETFL)
        .map_err(|e| EngineError::io("cannot read descriptor flags", e.into()))?;
    fcntl(
        f.as_raw_fd(),
        FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
    )
    .map_err(|e| EngineError::io("cannot make a descriptor non-blocking", e.into()))?;
    Ok(())
}
