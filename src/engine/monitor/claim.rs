//! The monitor's own entries in the container's record: it claims the record (its pid and
//! start time) before it starts anything, then records the start or the failure itself, so the
//! record is right even when the process that spawned it is gone.
//!
//! The spawner holds the container's lock for the whole start; these writes rely on it and do
//! not take the lock themselves. `rm` refuses a record claimed by a live monitor, and a claim
//! refuses a record being removed, each in one exclusive transaction.

use chrono::Utc;

use crate::engine::container::record::{ContainerRecord, Status};
use crate::engine::container::store;
use crate::engine::container::store::ContainerStore;
use crate::engine::error::{EngineError, Result};
use crate::engine::journal;
use crate::engine::state::StateStore;

/// Records monitor (`pid`, `start`) in container `id`'s record; returns the record.
pub fn claim(state: &StateStore, id: &str, pid: i32, start: u64) -> Result<ContainerRecord> {
    state.write(|tx| {
        let mut rec = ContainerStore::of(tx)
            .get(id)?
            .ok_or_else(|| store::not_found(id))?;
        if !rec.state.status.can_start() {
            return Err(EngineError::InvalidState(format!(
                "cannot start container {}: it is {}",
                rec.name,
                rec.state.status.as_str()
            )));
        }
        rec.state.monitor_pid = pid;
        rec.state.monitor_start = start;
        ContainerStore::of(tx).save(&rec)?;
        Ok(rec)
    })
}

/// Records the start of process `pid` under monitor (`monitor_pid`, `monitor_start`).
pub fn record_started(
    state: &StateStore,
    id: &str,
    pid: i32,
    monitor_pid: i32,
    monitor_start: u64,
) -> Result<()> {
    state.write(|tx| {
        let mut rec = ContainerStore::of(tx)
            .get(id)?
            .ok_or_else(|| store::not_found(id))?;
        let s = &mut rec.state;
        s.status = Status::Running;
        s.pid = pid;
        s.monitor_pid = monitor_pid;
        s.monitor_start = monitor_start;
        s.started_at = Some(Utc::now());
        s.finished_at = None;
        s.exit_code = 0;
        s.oom_killed = false;
        s.error.clear();
        s.restarting = false;
        s.manually_stopped = false;
        ContainerStore::of(tx).save(&rec)?;
        crate::engine::health::store::HealthStore::of(tx).on_start(&rec)?;
        journal::record(tx, &journal::Event::container(&rec, "start"))
    })
}

/// Records a failed start (the status stays what it was) and drops the claim.
pub fn record_failure(state: &StateStore, id: &str, message: &str, code: i32) -> Result<()> {
    state.write(|tx| {
        let Some(mut rec) = ContainerStore::of(tx).get(id)? else {
            return Ok(());
        };
        rec.state.exit_code = code;
        rec.state.error = message.to_string();
        rec.state.restarting = false;
        rec.state.pid = 0;
        rec.state.monitor_pid = 0;
        rec.state.monitor_start = 0;
        ContainerStore::of(tx).save(&rec)
    })
}
