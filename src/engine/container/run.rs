//! `run`: create, then start; a container created with `--rm` whose start fails is removed with
//! its anonymous volumes, so a failed run leaves nothing behind. The CLI and the TUI both run
//! containers through here.

use std::os::fd::OwnedFd;

use super::create::{create, CreateOptions};
use super::record::ContainerRecord;
use super::remove::remove_with_volumes;
use super::start::start_with;
use crate::engine::error::{ErrorKind, Result};
use crate::engine::monitor::spawn::MonitorChild;
use crate::engine::Engine;

/// Creates a container from `opts` and starts it (see [`start_new`]).
pub fn run(
    engine: &Engine,
    opts: &CreateOptions,
    attach: bool,
) -> Result<(ContainerRecord, Option<MonitorChild>)> {
    let rec = create(engine, opts)?;
    let child = start_new(engine, &rec.id, attach, None)?;
    Ok((rec, child))
}

/// Starts a container just created for `run`; when the start fails and the container asks to
/// be removed (`--rm`), removes it with its anonymous volumes.
pub fn start_new(
    engine: &Engine,
    id: &str,
    attach: bool,
    client: Option<OwnedFd>,
) -> Result<Option<MonitorChild>> {
    let result = start_with(engine, id, attach, client);
    if result.is_err() {
        remove_if_auto(engine, id);
    }
    result
}

/// Removes a `--rm` container after its failed start (the start may have removed it already).
fn remove_if_auto(engine: &Engine, id: &str) {
    let auto = match super::query::get(engine, id) {
        Ok(rec) => rec.host_config.auto_remove,
        Err(_) => false,
    };
    if auto {
        if let Err(e) = remove_with_volumes(engine, id, true) {
            if !e.is(ErrorKind::NotFound) {
                tracing::warn!("cannot remove container {id} after its failed start: {e}");
            }
        }
    }
}
