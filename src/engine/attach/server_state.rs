//! A [`Server`] across an `exec`: the monitor hands its relay loop to the small relay binary
//! once the container has run for a while, and the relay hands it back when the container has
//! exited (`monitor::handover`). Everything the loop holds travels: the process's streams, the
//! attach socket, every client with the bytes queued for it and the partial frame it sent, the
//! spawner's output pipes, stdin not yet written, and the log writer.

use std::os::unix::net::{UnixListener, UnixStream};

use super::frame::FrameBuffer;
use super::server::{Client, Server};
use crate::engine::error::Result;
use crate::engine::logs::LogWriter;
use crate::engine::monitor::relay::Attached;
use crate::engine::monitor::wire::{Reader, Writer};

impl Server {
    /// Writes the loop's state for [`Server::load`] (a pause set with `pause_at` is not kept).
    pub fn save(&self, w: &mut Writer) {
        w.fd(self.outputs[0].as_ref());
        w.fd(self.outputs[1].as_ref());
        w.fd(self.pty.as_ref());
        w.fd(self.stdin.as_ref());
        w.bytes(&self.stdin_pending);
        w.bool(self.close_stdin_when_flushed);
        w.bool(self.stdin_once);
        w.fd(self.listener.as_ref());
        let clients: Vec<&Client> = self.clients.iter().filter(|c| !c.gone).collect();
        w.u64(clients.len() as u64);
        for c in clients {
            w.fd(Some(&c.stream));
            w.bytes(c.input.pending());
            w.bytes(&c.out);
        }
        w.bool(self.plain.is_some());
        if let Some(p) = &self.plain {
            w.fd(Some(&p.stdout));
            w.fd(Some(&p.stderr));
            w.bool(p.alive);
        }
        w.bool(self.log.is_some());
        if let Some(log) = &self.log {
            log.save(w);
        }
    }

    /// The loop [`Server::save`] wrote.
    pub fn load(r: &mut Reader) -> Result<Server> {
        let outputs = [r.file()?, r.file()?];
        let pty = r.file()?;
        let stdin = r.file()?;
        let stdin_pending = r.bytes()?;
        let close_stdin_when_flushed = r.bool()?;
        let stdin_once = r.bool()?;
        let listener = r.fd()?.map(UnixListener::from);
        let mut clients = Vec::new();
        for _ in 0..r.u64()? {
            let stream = r.fd()?.map(UnixStream::from);
            let pending = r.bytes()?;
            let out = r.bytes()?;
            if let Some(mut c) = stream.and_then(Client::new) {
                let mut input = FrameBuffer::default();
                input.push(&pending);
                c.input = input;
                c.out = out;
                clients.push(c);
            }
        }
        let plain = r
            .option(|r| {
                let (stdout, stderr, alive) = (r.file()?, r.file()?, r.bool()?);
                Ok(stdout.zip(stderr).map(|(stdout, stderr)| Attached {
                    stdout,
                    stderr,
                    alive,
                }))
            })?
            .flatten();
        let log = r.option(LogWriter::load)?;
        Ok(Server {
            outputs,
            pty,
            stdin,
            stdin_pending,
            close_stdin_when_flushed,
            stdin_once,
            listener,
            clients,
            plain,
            log,
            pause: None,
            polls: Default::default(),
            buf: Vec::new(),
        })
    }
}
