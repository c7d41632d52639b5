//! Sessions with a container's processes as `Engine` methods (async, for the TUI and other
//! async callers): attach to the main process (starting it first if asked), exec, or the
//! user's shell. A reference is a name, an id or a unique id prefix.

use super::session::{self, Session};
use crate::engine::error::Result;
use crate::engine::exec::ExecOptions;
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
}
