//! Opening attach connections, from the client's side.

use std::os::unix::net::UnixStream;

use super::socket::{attach_dir, connect, ATTACH_SOCKET};
use crate::engine::container::record::Status;
use crate::engine::container::{reconcile, store};
use crate::engine::error::{EngineError, Result};
use crate::engine::Engine;

/// Connects to the attach socket of running container `id` (a full id).
pub fn attach(engine: &Engine, id: &str) -> Result<UnixStream> {
    let rec = reconcile::check(engine, store::load(engine.state(), id)?)?;
    match rec.state.status {
        Status::Running | Status::Paused => {}
        s => {
            return Err(EngineError::InvalidState(format!(
                "cannot attach to container {}: it is {}; start it with berth start -a{} {}",
                rec.name,
                s.as_str(),
                if rec.config.open_stdin { "i" } else { "" },
                rec.name
            )))
        }
    }
    connect(&attach_dir(engine.layout(), id), ATTACH_SOCKET).map_err(|e| {
        EngineError::io(
            format!(
                "cannot connect to the attach socket of container {} (did it just exit?)",
                rec.name
            ),
            e,
        )
    })
}

/// A connected pair: the client's end and the end handed to a monitor.
pub fn pair() -> Result<(UnixStream, UnixStream)> {
    UnixStream::pair().map_err(|e| EngineError::io("cannot create a socket pair", e))
}
