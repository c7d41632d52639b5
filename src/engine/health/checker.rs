//! The health checker: `berth monitor --health ID`, one process per running container with a
//! health check, started by the container's monitor right after the start is recorded (from the
//! monitor's sealed binary) and killed by it when the container exits; it also dies with the
//! monitor (parent-death signal).
//!
//! It is single-threaded, like the monitors, because each probe clones a process into the
//! container through libcontainer. A separate process keeps the monitor's relay loop free of
//! probes that may take up to their timeout. It waits docker's schedule, skips probes while the
//! container is paused, runs one, and records the result, `exec_die` and (when the status
//! changed) `health_status: STATUS` in one transaction. It sleeps reaping its children: a
//! probe whose start failed leaves libcontainer's processes behind unwaited.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use super::probe::{self, Outcome};
use super::state::{apply, next_wait, started};
use super::store::HealthStore;
use super::Healthcheck;
use crate::engine::compat::health::HealthStatus;
use crate::engine::container::record::{ContainerRecord, Status};
use crate::engine::container::store::ContainerStore;
use crate::engine::journal::{self, Event};
use crate::engine::monitor::reap;
use crate::engine::state::StateStore;
use crate::engine::Layout;

/// Runs the checker of container `id`; returns the process exit code.
pub fn main(root: &Path, id: &str) -> i32 {
    crate::engine::monitor::name_process(c"berth-health");
    // Probes clone processes into the container: only from the read-only copy of the binary
    // (the monitor starts the checker from its own).
    if !crate::engine::monitor::seal::is_sealed() {
        eprintln!("berth monitor --health is started by a container's monitor only");
        return 125;
    }
    let layout = Layout::new(root);
    let Ok(state) = StateStore::open(&layout.state_db()) else {
        return 125;
    };
    let Some(first) = load(&state, id) else {
        return 0;
    };
    // This run of the container: a restart gets a checker of its own.
    let pid = first.state.pid;
    loop {
        let Some((rec, hc)) = current(&state, id, pid) else {
            return 0;
        };
        let started_at = rec.state.started_at.unwrap_or_else(Utc::now);
        let since = (Utc::now() - started_at).to_std().unwrap_or(Duration::ZERO);
        let status = rec
            .health
            .as_ref()
            .map_or(HealthStatus::Starting, |h| h.status);
        // Whatever a probe left (a process libcontainer cloned, then gave up on) is reaped
        // here: unreaped inside the container's pid namespace, it would keep the container's
        // init from exiting, and its monitor from ever ending this checker.
        reap::sleep_reaping(next_wait(&hc, status, since));
        let Some((rec, hc)) = current(&state, id, pid) else {
            return 0;
        };
        // Docker stops probing a paused container and starts again at unpause.
        if rec.state.status == Status::Paused {
            continue;
        }
        let outcome = probe::run(&layout, &state, &rec, &hc);
        record(&state, id, pid, &hc, outcome);
        give_back_memory();
    }
}

fn load(state: &StateStore, id: &str) -> Option<ContainerRecord> {
    state
        .read(|tx| ContainerStore::of(tx).get(id))
        .ok()
        .flatten()
}

/// The record and its active check while the run with container process `pid` goes on.
fn current(state: &StateStore, id: &str, pid: i32) -> Option<(ContainerRecord, Healthcheck)> {
    let rec = load(state, id)?;
    if !same_run(&rec, pid) {
        return None;
    }
    let hc = rec
        .config
        .healthcheck
        .clone()
        .filter(|h| h.probe().is_some())?;
    Some((rec, hc))
}

fn same_run(rec: &ContainerRecord, pid: i32) -> bool {
    matches!(rec.state.status, Status::Running | Status::Paused) && rec.state.pid == pid
}

/// Records a probe's result (dropped when the container ended meanwhile).
fn record(state: &StateStore, id: &str, pid: i32, hc: &Healthcheck, outcome: Outcome) {
    let _ = state.write(|tx| {
        let Some(rec) = ContainerStore::of(tx).get(id)? else {
            return Ok(());
        };
        if !same_run(&rec, pid) {
            return Ok(());
        }
        let started_at = rec.state.started_at.unwrap_or(outcome.result.start);
        let mut health = rec.health.clone().unwrap_or_else(|| started(None));
        let changed = apply(&mut health, outcome.result, hc, started_at);
        HealthStore::of(tx).put(id, &health)?;
        if let Some(code) = outcome.exec_exit {
            let die = Event::container(&rec, "exec_die")
                .with("execID", &outcome.exec_id)
                .with("exitCode", code);
            journal::record_probe(tx, &die)?;
        }
        if changed {
            let action = format!("health_status: {}", health.status.as_str());
            journal::record(tx, &Event::container(&rec, action))?;
        }
        Ok(())
    });
}

/// Between probes the checker only sleeps: gives back the heap and clean pages a probe used.
fn give_back_memory() {
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    crate::engine::monitor::trim::drop_clean_file_pages();
}
