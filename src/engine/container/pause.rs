//! `pause` / `unpause` through the freezer cgroup (libcontainer's pause and resume).

use super::record::Status;
use super::store::ContainerStore;
use super::{cleanup, reconcile, store};
use crate::engine::error::{EngineError, ErrorKind, Result};
use crate::engine::journal;
use crate::engine::{Engine, EngineEvent};

fn runtime(engine: &Engine, id: &str) -> Result<libcontainer::container::Container> {
    let dir = cleanup::runtime_root(engine.layout(), id).join(id);
    libcontainer::container::Container::load(dir).map_err(|e| {
        EngineError::caused(
            ErrorKind::Runtime,
            format!("cannot load the runtime state of {id}"),
            e,
        )
    })
}

/// Thaws the container's cgroup (no state change; used before killing a paused container).
pub fn thaw(engine: &Engine, id: &str) -> Result<()> {
    runtime(engine, id)?
        .resume()
        .map_err(|e| EngineError::caused(ErrorKind::Runtime, format!("cannot unpause {id}"), e))
}

fn change(engine: &Engine, id: &str, pause: bool) -> Result<()> {
    let _lock = store::lock(engine.layout(), id)?;
    let mut rec = reconcile::check_locked(engine, store::load(engine.state(), id)?)?;
    let ok = if pause {
        rec.state.status.can_pause()
    } else {
        rec.state.status.can_unpause()
    };
    if !ok {
        return Err(EngineError::InvalidState(format!(
            "cannot {} container {}: it is {}",
            if pause { "pause" } else { "unpause" },
            rec.name,
            rec.state.status.as_str()
        )));
    }
    let mut c = runtime(engine, id)?;
    if pause { c.pause() } else { c.resume() }.map_err(|e| {
        EngineError::Runtime(format!(
            "cannot change the freezer state of {}: {e}",
            rec.name
        ))
    })?;
    rec.state.status = if pause {
        Status::Paused
    } else {
        Status::Running
    };
    engine.state().write(|tx| {
        ContainerStore::of(tx).save(&rec)?;
        let action = if pause { "pause" } else { "unpause" };
        journal::record(tx, &journal::Event::container(&rec, action))
    })?;
    engine.emit(EngineEvent::ContainersChanged);
    Ok(())
}

/// `pause`.
pub fn pause(engine: &Engine, id: &str) -> Result<()> {
    change(engine, id, true)
}

/// `unpause`.
pub fn unpause(engine: &Engine, id: &str) -> Result<()> {
    change(engine, id, false)
}
