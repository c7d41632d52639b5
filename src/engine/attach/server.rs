//! The monitor's I/O loop (single-threaded, `poll`): reads the process's output (pipes or pty
//! master), writes it to the json-file log and to every attached client, accepts clients on the
//! attach socket, feeds their input to the process's stdin, applies window sizes, and notices
//! the process's exit through a pidfd. After the exit, [`Server::finish`] sends the exit code
//! to every client.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

use super::frame::{encode_raw, output_kind, Frame, FrameBuffer};
use super::poll_set::{PollSet, Slot};
use super::stdio::ContainerIo;
use crate::engine::error::{EngineError, Result};
use crate::engine::logs::{LogWriter, Stream};
use crate::engine::monitor::relay::Attached;

/// A client may fall this far behind before it is dropped.
const CLIENT_BACKLOG: usize = 4 << 20;
/// One read of the process's output or a client's input.
const READ_BUFFER: usize = 64 * 1024;
/// Stdin bytes kept for a process that does not read; clients are not read past this.
const STDIN_BACKLOG: usize = 1 << 20;

pub(super) struct Client {
    pub(super) stream: UnixStream,
    pub(super) input: FrameBuffer,
    pub(super) out: Vec<u8>,
    pub(super) gone: bool,
    /// What the last `poll` said of it.
    readable: bool,
    writable: bool,
}

impl Client {
    pub(super) fn new(stream: UnixStream) -> Option<Client> {
        stream.set_nonblocking(true).ok()?;
        Some(Client {
            stream,
            input: FrameBuffer::default(),
            out: Vec::new(),
            gone: false,
            readable: false,
            writable: false,
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
    pub(super) polls: PollSet,
    /// The read buffer, kept between runs (see [`Server::prepare`]).
    pub(super) buf: Vec<u8>,
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
            polls: PollSet::default(),
            buf: Vec::new(),
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
    #[inline(never)]
    #[link_section = ".berth_relay"]
    pub fn run(&mut self, pidfd: &OwnedFd, drain: Duration) -> Result<Ran> {
        let mut exited_at: Option<Instant> = None;
        self.prepare();
        let mut buf = std::mem::take(&mut self.buf);
        loop {
            if let Some(t) = exited_at {
                if self.outputs.iter().all(Option::is_none) || t.elapsed() >= drain {
                    break;
                }
            }
            if !self.clients.is_empty() {
                self.clients.retain(|c| !c.gone);
            }
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
            for k in 0..self.clients.len() {
                if self.clients[k].writable {
                    self.clients[k].flush_some();
                }
                if self.clients[k].readable {
                    self.read_client(k, &mut buf);
                }
            }
            if self.pause.is_some_and(|at| Instant::now() >= at) {
                self.pause = None;
                self.clients.retain(|c| !c.gone);
                self.buf = buf;
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

    /// Allocates what the loop needs (the read buffer, room for the poll set, the log
    /// writer's buffers) before it runs: the relay binary drops its clean code pages just
    /// before, and an allocation in the loop would fault the allocator's back in.
    #[link_section = ".berth_relay"]
    pub fn prepare(&mut self) {
        if self.buf.len() < READ_BUFFER {
            self.buf = vec![0u8; READ_BUFFER];
        }
        self.polls.reserve(8 + self.clients.len());
        if let Some(log) = self.log.as_mut() {
            log.prepare();
        }
    }

    /// The log writer, when output is logged.
    pub fn log_mut(&mut self) -> Option<&mut LogWriter> {
        self.log.as_mut()
    }

    #[link_section = ".berth_relay"]
    fn wait(&mut self, pidfd: &OwnedFd, exited: bool) -> Result<Ready> {
        const IN: libc::c_short = libc::POLLIN;
        let polls = &mut self.polls;
        polls.clear();
        for (i, o) in self.outputs.iter().enumerate() {
            if let Some(f) = o {
                polls.add(f.as_raw_fd(), IN, Slot::Output(i));
            }
        }
        if !exited {
            polls.add(pidfd.as_raw_fd(), IN, Slot::Pid);
        }
        if let Some(l) = &self.listener {
            polls.add(l.as_raw_fd(), IN, Slot::Listener);
        }
        if let (Some(s), false) = (&self.stdin, self.stdin_pending.is_empty()) {
            polls.add(s.as_raw_fd(), libc::POLLOUT, Slot::Stdin);
        }
        let read_clients = self.stdin_pending.len() < STDIN_BACKLOG;
        for (k, c) in self.clients.iter_mut().enumerate() {
            let mut events = 0;
            if read_clients {
                events |= IN;
            }
            if !c.out.is_empty() {
                events |= libc::POLLOUT;
            }
            polls.add(c.stream.as_raw_fd(), events, Slot::Client(k));
            c.readable = false;
            c.writable = false;
        }
        let timeout = if exited {
            50
        } else if let Some(at) = &self.pause {
            let left = at.saturating_duration_since(Instant::now()).as_millis();
            i32::try_from(left).unwrap_or(i32::MAX)
        } else {
            -1
        };
        let mut ready = Ready::default();
        if let Err(e) = polls.wait(timeout) {
            return Err(EngineError::caused(
                crate::engine::ErrorKind::Runtime,
                "monitor poll failed",
                std::io::Error::from_raw_os_error(e),
            ));
        }
        for i in 0..polls.len() {
            let (slot, r) = polls.get(i);
            if r == 0 {
                continue;
            }
            let hangup = r & (libc::POLLHUP | libc::POLLERR) != 0;
            match slot {
                Slot::Output(i) => ready.outputs[i] = true,
                Slot::Pid => ready.pid = true,
                Slot::Listener => ready.listener = true,
                Slot::Stdin => ready.stdin = true,
                Slot::Client(k) => {
                    let c = &mut self.clients[k];
                    c.readable = r & IN != 0 || hangup;
                    c.writable = r & libc::POLLOUT != 0;
                }
            }
        }
        Ok(ready)
    }

    #[link_section = ".berth_relay"]
    fn read_output(&mut self, i: usize, buf: &mut [u8]) -> Result<()> {
        let Some(fd) = self.outputs[i].as_ref().map(AsRawFd::as_raw_fd) else {
            return Ok(());
        };
        let n = match crate::engine::monitor::rawsys::read(fd, buf) {
            Ok(n) => n,
            Err(libc::EINTR | libc::EAGAIN) => return Ok(()),
            // EIO from a pty master: every slave descriptor is closed.
            Err(_) => 0,
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
            if crate::engine::monitor::rawsys::write_all(w.as_raw_fd(), data).is_err() {
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

/// What one `poll` found ready (the clients' part is in each [`Client`]).
#[derive(Default)]
struct Ready {
    outputs: [bool; 2],
    pid: bool,
    listener: bool,
    stdin: bool,
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
