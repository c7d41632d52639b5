//! Noticing a lost monitor. A container recorded as running whose monitor is gone (killed with
//! SIGKILL, machine crash) is stopped, its runtime state and mounts undone, and it is marked
//! exited with a status that says what happened. Runs on every engine access to the container.

use chrono::Utc;

use super::cleanup;
use super::record::{ContainerRecord, Status};
use super::store;
use crate::engine::error::Result;
use crate::engine::Engine;

/// The exit code recorded for a container whose monitor was lost.
pub const LOST_MONITOR_EXIT: i32 = 255;

fn lost(rec: &ContainerRecord) -> bool {
    matches!(rec.state.status, Status::Running | Status::Paused)
        && !cleanup::monitor_alive(rec.state.monitor_pid, rec.state.monitor_start)
}

/// Checks one container; the caller holds its lock. Returns the (possibly updated) record.
pub fn check_locked(engine: &Engine, rec: ContainerRecord) -> Result<ContainerRecord> {
    if !lost(&rec) {
        return Ok(rec);
    }
    let layout = engine.layout();
    let oom = cleanup::oom_killed(&rec.id);
    cleanup::delete_runtime(layout, &rec.id)?;
    let unmounted = cleanup::unmount_rootfs(layout, &rec.id);
    let mut rec = rec;
    rec.state.status = Status::Exited;
    rec.state.exit_code = LOST_MONITOR_EXIT;
    rec.state.finished_at = Some(Utc::now());
    rec.state.oom_killed = oom;
    rec.state.error = format!(
        "the container's monitor (pid {}) died unexpectedly; berth stopped the container{}",
        rec.state.monitor_pid,
        match &unmounted {
            Ok(()) => String::new(),
            Err(e) => format!(" but could not unmount its rootfs: {e}"),
        }
    );
    rec.state.pid = 0;
    rec.state.monitor_pid = 0;
    rec.state.monitor_start = 0;
    engine.state().write(|tx| store::save(tx, &rec))?;
    engine.emit(crate::engine::EngineEvent::ContainersChanged);
    Ok(rec)
}

/// Checks one container without holding its lock (takes it only when something is wrong).
pub fn check(engine: &Engine, rec: ContainerRecord) -> Result<ContainerRecord> {
    if !lost(&rec) {
        return Ok(rec);
    }
    let _lock = store::lock(engine.layout(), &rec.id)?;
    let Some(fresh) = engine.state().read(|tx| store::get(tx, &rec.id))? else {
        return Ok(rec);
    };
    check_locked(engine, fresh)
}
