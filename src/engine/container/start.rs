//! `start`: spawn the container's monitor and wait until it reports the start. The monitor
//! records the start (or the failure) in the container's record itself; a container run with
//! `--rm` whose start fails is removed with its anonymous volumes, as docker does.

use std::os::fd::OwnedFd;

use super::record::{ContainerRecord, Status};
use super::store::ContainerStore;
use super::{reconcile, remove, store};
use crate::engine::error::{EngineError, Result};
use crate::engine::monitor::protocol::MonitorMessage;
use crate::engine::monitor::spawn::MonitorChild;
use crate::engine::{Engine, EngineEvent};

/// Starts container `id` (a full id). With `attach`, the returned monitor handle carries the
/// container's output and its exit code.
pub fn start(engine: &Engine, id: &str, attach: bool) -> Result<Option<MonitorChild>> {
    start_with(engine, id, attach, None)
}

/// Like [`start`]; `client` is an attach client connected before the process starts (the
/// monitor serves it like a client of the attach socket). Returns the monitor handle when
/// attached or given a client.
pub fn start_with(
    engine: &Engine,
    id: &str,
    attach: bool,
    client: Option<OwnedFd>,
) -> Result<Option<MonitorChild>> {
    let mut auto_remove = false;
    let result = start_locked(engine, id, attach, client, &mut auto_remove);
    if result.is_err() && auto_remove {
        // The lock is released: `rm` takes it. A failed start leaves nothing behind.
        if let Err(e) = remove::remove_with_volumes(engine, id, true) {
            tracing::warn!("cannot remove container {id} after its failed start: {e}");
        }
    }
    result
}

/// The start under the container's lock; sets `auto_remove` when the start was attempted and
/// the container asks to be removed.
fn start_locked(
    engine: &Engine,
    id: &str,
    attach: bool,
    client: Option<OwnedFd>,
    auto_remove: &mut bool,
) -> Result<Option<MonitorChild>> {
    let keep = attach || client.is_some();
    // The monitor's and libcontainer's cgroup joins find the kernel's lock warm.
    let _warm = crate::engine::monitor::cgroup_warm::hold();
    let layout = engine.layout();
    let _lock = store::lock(layout, id)?;
    let rec = store::load(engine.state(), id)?;
    let rec: ContainerRecord = reconcile::check_locked(engine, rec)?;
    match rec.state.status {
        Status::Running if !keep => return Ok(None),
        // Its monitor is about to start it again (restart policy): as docker, nothing to do.
        Status::Exited if rec.state.restarting && !keep => return Ok(None),
        Status::Paused => {
            return Err(EngineError::InvalidState(format!(
                "cannot start a paused container {}: try unpause instead",
                rec.name
            )))
        }
        s if !s.can_start() => {
            return Err(EngineError::InvalidState(format!(
                "cannot start container {}: it is {}",
                rec.name,
                s.as_str()
            )))
        }
        _ => {}
    }
    *auto_remove = rec.host_config.auto_remove;
    crate::engine::trace::phase("start: spawning the monitor");
    let outcome = engine
        .sys()
        .spawn_monitor(layout.root(), &[], id, attach, client)
        .and_then(|mut child| match child.wait_started()? {
            MonitorMessage::Started { .. } => Ok(child),
            MonitorMessage::Failed { message, code } => Err(EngineError::command(code, message)),
            MonitorMessage::Exited { code } => Err(EngineError::Runtime(format!(
                "the container monitor reported an exit ({code}) before the start"
            ))),
        });
    crate::engine::trace::phase("start: monitor reported");
    if let Err(e) = &outcome {
        // A monitor that vanished without a word may have claimed the record and started
        // things: notice it and undo what it left. Then record why the start failed (the
        // monitor does too, unless it failed before it could).
        if let Some(fresh) = engine.state().read(|tx| ContainerStore::of(tx).get(id))? {
            let mut fresh = reconcile::check_locked(engine, fresh)?;
            if fresh.state.status.can_start() {
                fresh.state.exit_code = e.exit_code();
                fresh.state.error = e.to_string();
                engine
                    .state()
                    .write(|tx| ContainerStore::of(tx).save(&fresh))?;
            }
        }
    }
    engine.emit(EngineEvent::ContainersChanged);
    outcome.map(|child| if keep { Some(child) } else { None })
}
