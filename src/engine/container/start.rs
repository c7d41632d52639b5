//! `start`: spawn the container's monitor and wait until it reports the start.

use std::os::fd::OwnedFd;

use chrono::Utc;

use super::record::{ContainerRecord, Status};
use super::{reconcile, store};
use crate::engine::error::{EngineError, Result};
use crate::engine::monitor::protocol::MonitorMessage;
use crate::engine::monitor::spawn::{self, MonitorChild};
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
    let keep = attach || client.is_some();
    let layout = engine.layout();
    let _lock = store::lock(layout, id)?;
    let rec = store::load(engine.state(), id)?;
    let mut rec: ContainerRecord = reconcile::check_locked(engine, rec)?;
    match rec.state.status {
        Status::Running if !keep => return Ok(None),
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
    let mut child = spawn::spawn_with(layout.root(), &[], id, attach, client)?;
    let msg = child.wait_started();
    let outcome = match msg {
        Ok(MonitorMessage::Started {
            pid,
            monitor_pid,
            monitor_start,
        }) => {
            rec.state.status = Status::Running;
            rec.state.pid = pid;
            rec.state.monitor_pid = monitor_pid;
            rec.state.monitor_start = monitor_start;
            rec.state.started_at = Some(Utc::now());
            rec.state.finished_at = None;
            rec.state.exit_code = 0;
            rec.state.oom_killed = false;
            rec.state.error.clear();
            Ok(())
        }
        Ok(MonitorMessage::Failed { message, code }) => {
            rec.state.exit_code = code;
            rec.state.error = message.clone();
            Err(if code == 126 || code == 127 {
                EngineError::Command { message, code }
            } else {
                EngineError::Runtime(message)
            })
        }
        Ok(MonitorMessage::Exited { code }) => Err(EngineError::Runtime(format!(
            "the container monitor reported an exit ({code}) before the start"
        ))),
        Err(e) => Err(e),
    };
    // The monitor records the exit under this container's lock, which we hold: nothing else
    // can have changed the state since we loaded it.
    engine.state().write(|tx| {
        let Some(mut fresh) = store::get(tx, id)? else {
            return Ok(());
        };
        if outcome.is_ok() {
            fresh.state = rec.state.clone();
        } else {
            fresh.state.exit_code = rec.state.exit_code;
            fresh.state.error = rec.state.error.clone();
        }
        store::save(tx, &fresh)
    })?;
    engine.emit(EngineEvent::ContainersChanged);
    outcome.map(|_| if keep { Some(child) } else { None })
}
