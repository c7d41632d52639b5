//! Noticing a lost monitor. A container recorded as running whose monitor is gone (killed with
//! SIGKILL, machine crash) is stopped, its runtime state and mounts undone, and it is marked
//! exited with a status that says what happened. A record claimed by a monitor that is still
//! starting the container is waited for; one claimed by a monitor that died while starting is
//! cleaned up and left as it was. Runs on every engine access to the container.

use std::time::Duration;

use chrono::Utc;

use super::cleanup;
use super::record::{ContainerRecord, Status};
use super::store;
use super::store::ContainerStore;
use crate::engine::error::{EngineError, Result};
use crate::engine::journal;
use crate::engine::Engine;

/// The exit code recorded for a container whose monitor was lost.
pub const LOST_MONITOR_EXIT: i32 = 255;

/// How long a monitor may take between claiming a record and recording the start.
const START_SETTLE: Duration = Duration::from_secs(15);

fn monitor_alive(engine: &Engine, rec: &ContainerRecord) -> bool {
    engine
        .sys()
        .alive(rec.state.monitor_pid, rec.state.monitor_start)
}

/// Whether the record may not say what is true: a running container without its monitor, or a
/// record that a monitor claimed for a start that has not been recorded.
pub(crate) fn suspect(engine: &Engine, rec: &ContainerRecord) -> bool {
    match rec.state.status {
        Status::Running | Status::Paused => !monitor_alive(engine, rec),
        Status::Created | Status::Exited => rec.state.monitor_pid != 0,
        Status::Removing => false,
    }
}

/// Checks one container; the caller holds its lock. Returns the (possibly updated) record.
pub fn check_locked(engine: &Engine, rec: ContainerRecord) -> Result<ContainerRecord> {
    if !suspect(engine, &rec) {
        return Ok(rec);
    }
    let id = rec.id.clone();
    let rec = if rec.state.status.can_start() {
        match settle(engine, rec)? {
            Some(r) if suspect(engine, &r) => r,
            Some(r) => return Ok(r),
            None => return Err(store::not_found(&id)),
        }
    } else {
        rec
    };
    let layout = engine.layout();
    let oom = cleanup::oom_killed(&rec.id);
    cleanup::delete_runtime(layout, &rec.id)?;
    // The lost monitor's network: rules, interfaces, namespace, leases and ports.
    crate::engine::network::attach::down(engine.state(), layout, &rec.id);
    let unmounted = cleanup::unmount_rootfs(layout, &rec.id);
    let mut rec = rec;
    let unmount_note = match &unmounted {
        Ok(()) => String::new(),
        Err(e) => format!(" but could not unmount its rootfs: {e}"),
    };
    if rec.state.status.can_start() {
        // Died while starting: the start failed; the status stays.
        rec.state.error = format!(
            "the container's monitor (pid {}) died while starting the container; berth cleaned \
             up after it{unmount_note}",
            rec.state.monitor_pid
        );
        rec.state.exit_code = LOST_MONITOR_EXIT;
    } else {
        rec.state.status = Status::Exited;
        rec.state.exit_code = LOST_MONITOR_EXIT;
        rec.state.finished_at = Some(Utc::now());
        rec.state.oom_killed = oom;
        rec.state.error = format!(
            "the container's monitor (pid {}) died unexpectedly; berth stopped the \
             container{unmount_note}",
            rec.state.monitor_pid
        );
    }
    let died = rec.state.status == Status::Exited;
    rec.state.pid = 0;
    rec.state.monitor_pid = 0;
    rec.state.monitor_start = 0;
    engine.state().write(|tx| {
        ContainerStore::of(tx).save(&rec)?;
        if died {
            let die = journal::Event::container(&rec, "die").with("exitCode", LOST_MONITOR_EXIT);
            journal::record(tx, &die)?;
        }
        Ok(())
    })?;
    engine.emit(crate::engine::EngineEvent::ContainersChanged);
    Ok(rec)
}

/// Waits while a live monitor that claimed the record is starting the container (it records
/// the start or the failure without the container's lock); returns the record it left, `None`
/// when the record is gone.
fn settle(engine: &Engine, mut rec: ContainerRecord) -> Result<Option<ContainerRecord>> {
    let sys = engine.sys();
    let deadline = sys.now() + START_SETTLE;
    while suspect(engine, &rec) && monitor_alive(engine, &rec) && sys.now() < deadline {
        sys.sleep(Duration::from_millis(10));
        match engine
            .state()
            .read(|tx| ContainerStore::of(tx).get(&rec.id))?
        {
            Some(r) => rec = r,
            None => return Ok(None),
        }
    }
    if suspect(engine, &rec) && monitor_alive(engine, &rec) {
        return Err(EngineError::InvalidState(format!(
            "container {} is still being started by its monitor (pid {}) after {} s: try              again, or `berth rm -f` it",
            rec.name,
            rec.state.monitor_pid,
            START_SETTLE.as_secs()
        )));
    }
    Ok(Some(rec))
}

/// Checks one container without holding its lock (takes it only when something is wrong).
pub fn check(engine: &Engine, rec: ContainerRecord) -> Result<ContainerRecord> {
    if !suspect(engine, &rec) {
        return Ok(rec);
    }
    let _lock = store::lock(engine.layout(), &rec.id)?;
    let Some(fresh) = engine
        .state()
        .read(|tx| ContainerStore::of(tx).get(&rec.id))?
    else {
        return Ok(rec);
    };
    check_locked(engine, fresh)
}
