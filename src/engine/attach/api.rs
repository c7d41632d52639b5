//! Sessions with a container's processes as `Engine` methods (async, for the TUI and other
//! async callers): attach to the main process (starting it first if asked), exec, or the
//! user's shell. A reference is a name, an id or a unique id prefix. The raw forms
//! (`attach_stream`, `exec_start`) hand the framed stream to a client loop of the caller's own
//! (the CLI's, on a blocking thread).

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

use super::session::{self, Session};
use crate::engine::error::Result;
use crate::engine::exec::{ExecOptions, ExecSession};
use crate::engine::{blocking, container, Engine};

impl Engine {
    /// Attaches to container `reference`'s main process; with `start`, starts the container
    /// with the session connected before its process runs (a `--rm` container whose start
    /// fails is removed). With a tty, `rows` and `cols` set the terminal's size.
    pub async fn attach_session(
        &self,
        reference: String,
        start: bool,
        rows: u16,
        cols: u16,
    ) -> Result<Session> {
        let id = blocking(self, move |e| container::resolve(e, &reference)).await?;
        if start {
            session::start_attached(self, &id, rows, cols).await
        } else {
            session::open_attach(self, &id, rows, cols).await
        }
    }

    /// Runs `opts.cmd` in running container `reference` and connects to it.
    pub async fn exec_session(
        &self,
        reference: String,
        opts: ExecOptions,
        rows: u16,
        cols: u16,
    ) -> Result<Session> {
        let id = blocking(self, move |e| container::resolve(e, &reference)).await?;
        session::open_exec(self, &id, opts, rows, cols).await
    }

    /// Starts the user's login shell with a tty in running container `reference`.
    pub async fn shell_session(&self, reference: String, rows: u16, cols: u16) -> Result<Session> {
        let id = blocking(self, move |e| container::resolve(e, &reference)).await?;
        session::open_shell(self, &id, rows, cols).await
    }

    /// Connects to the attach socket of running (or paused) container `reference`: the framed
    /// attach protocol of [`super::frame`].
    pub async fn attach_stream(&self, reference: String) -> Result<UnixStream> {
        blocking(self, move |e| {
            super::client::attach(e, &container::resolve(e, &reference)?)
        })
        .await
    }

    /// Starts `opts.cmd` in running container `reference` (see [`crate::engine::exec::start`]);
    /// `client`, one end of a socket pair, is served the process's streams by its monitor.
    pub async fn exec_start(
        &self,
        reference: String,
        opts: ExecOptions,
        client: Option<OwnedFd>,
    ) -> Result<ExecSession> {
        blocking(self, move |e| {
            crate::engine::exec::start(e, &container::resolve(e, &reference)?, &opts, client)
        })
        .await
    }

    /// The login shell of running container `reference`'s user (its passwd entry, else
    /// bash, else sh), for `exec CONTAINER sh`.
    pub async fn container_shell(&self, reference: String) -> Result<String> {
        blocking(self, move |e| {
            crate::engine::shell::for_container(e, &container::resolve(e, &reference)?)
        })
        .await
    }
}
