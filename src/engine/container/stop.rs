//! `kill`, `stop` (stop signal, wait, then SIGKILL), `restart`, and waiting for an exit.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::record::{ContainerRecord, Status};
use super::store::ContainerStore;
use super::{reconcile, signal, store};
use crate::engine::error::{EngineError, ErrorKind, Result};
use crate::engine::journal::{self, Event};
use crate::engine::Engine;

/// Docker's default stop timeout.
pub const DEFAULT_STOP_TIMEOUT: u32 = 10;

fn resume_if_paused(engine: &Engine, rec: &ContainerRecord) {
    if rec.state.status == Status::Paused {
        let _ = super::pause::thaw(engine, &rec.id);
    }
}

/// Sends `sig` to the container's process under its lock. Returns `false` when it was not
/// running (nothing sent).
fn signal_locked(engine: &Engine, id: &str, sig: Signal, must_run: bool) -> Result<bool> {
    let _lock = store::lock(engine.layout(), id)?;
    let rec = reconcile::check_locked(engine, store::load(engine.state(), id)?)?;
    if !rec.state.status.can_kill() || rec.state.pid <= 0 {
        if must_run {
            return Err(EngineError::InvalidState(format!(
                "cannot kill container {}: it is not running",
                rec.name
            )));
        }
        return Ok(false);
    }
    engine.sys().kill(rec.state.pid, sig).map_err(|e| {
        EngineError::caused(
            ErrorKind::Runtime,
            format!("cannot send {sig} to container {}", rec.name),
            e,
        )
    })?;
    // The signal is not a database change: its event has a transaction of its own.
    let event = Event::container(&rec, "kill").with("signal", sig as i32);
    if let Err(e) = journal::record_alone(engine, &event) {
        tracing::warn!("cannot record the kill event of {}: {e}", rec.name);
    }
    if matches!(sig, Signal::SIGKILL | Signal::SIGTERM) {
        resume_if_paused(engine, &rec);
    }
    Ok(true)
}

/// Marks container `id` stopped by a user (`stop`, `rm -f`), under its lock: its monitor does
/// not restart it by policy, and one waiting to restart it gives up (awaited, briefly).
pub fn mark_stopped(engine: &Engine, id: &str) -> Result<()> {
    let restarting = {
        let _lock = store::lock(engine.layout(), id)?;
        engine.state().write(|tx| {
            let Some(mut rec) = ContainerStore::of(tx).get(id)? else {
                return Ok(false);
            };
            if rec.host_config.restart_policy.is_none() {
                return Ok(false);
            }
            rec.state.manually_stopped = true;
            ContainerStore::of(tx).save(&rec)?;
            Ok(rec.state.restarting)
        })?
    };
    if restarting {
        let sys = engine.sys();
        let start = sys.now();
        while sys.now() - start < Duration::from_secs(2) {
            match engine.state().read(|tx| ContainerStore::of(tx).get(id))? {
                Some(r) if r.state.restarting => sys.sleep(Duration::from_millis(20)),
                _ => break,
            }
        }
    }
    Ok(())
}

/// `kill [-s SIG]` (default SIGKILL).
pub fn kill(engine: &Engine, id: &str, sig: Option<&str>) -> Result<()> {
    let sig = match sig {
        Some(s) => signal::parse(s)?,
        None => Signal::SIGKILL,
    };
    signal_locked(engine, id, sig, true).map(|_| ())
}

/// Whether the container is no longer running (exited, created, or gone).
fn not_running(engine: &Engine, id: &str) -> Result<bool> {
    let Some(rec) = engine.state().read(|tx| ContainerStore::of(tx).get(id))? else {
        return Ok(true);
    };
    if !rec.state.status.can_kill() {
        return Ok(true);
    }
    if !engine
        .sys()
        .alive(rec.state.monitor_pid, rec.state.monitor_start)
    {
        // Lost monitor: reconcile marks it exited.
        reconcile::check(engine, rec)?;
        return Ok(true);
    }
    Ok(false)
}

/// Waits until the container stops running; `false` on timeout.
pub fn wait_stopped(engine: &Engine, id: &str, timeout: Option<Duration>) -> Result<bool> {
    let sys = engine.sys();
    let start = sys.now();
    let mut pause = Duration::from_millis(2);
    loop {
        if not_running(engine, id)? {
            return Ok(true);
        }
        if timeout.is_some_and(|t| sys.now() - start >= t) {
            return Ok(false);
        }
        sys.sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

/// How long a killed container's process may stay unreaped before its monitor counts as stuck.
const REAP_GRACE: Duration = Duration::from_secs(5);

/// After SIGKILL: waits up to `limit` for the exit to be recorded. A monitor that leaves its
/// killed container unreaped for [`REAP_GRACE`] (stopped, or blocked on a stuck client) is
/// killed itself, and the container is then recorded as exited by the lost-monitor path.
pub fn wait_killed(engine: &Engine, id: &str, limit: Duration) -> Result<bool> {
    let sys = engine.sys();
    let start = sys.now();
    if wait_stopped(engine, id, Some(REAP_GRACE.min(limit)))? {
        return Ok(true);
    }
    if let Some(rec) = engine.state().read(|tx| ContainerStore::of(tx).get(id))? {
        if sys.dead_or_zombie(rec.state.pid)
            && sys.alive(rec.state.monitor_pid, rec.state.monitor_start)
        {
            tracing::warn!(
                "the monitor (pid {}) of container {} does not reap it: killing the monitor",
                rec.state.monitor_pid,
                rec.name
            );
            let _ = sys.kill(rec.state.monitor_pid, Signal::SIGKILL);
        }
    }
    wait_stopped(engine, id, Some(limit.saturating_sub(sys.now() - start)))
}

/// `stop [-t N]`: the stop signal, up to `timeout` seconds, then SIGKILL.
pub fn stop(engine: &Engine, id: &str, timeout: Option<u32>) -> Result<()> {
    let rec = store::load(engine.state(), id)?;
    // No restart by policy after a stop, also when it comes during the restart backoff.
    mark_stopped(engine, id)?;
    let sig = match &rec.config.stop_signal {
        Some(s) => signal::parse(s)?,
        None => Signal::SIGTERM,
    };
    if !signal_locked(engine, id, sig, false)? {
        return Ok(());
    }
    let stopped = stop_after_signal(engine, id, &rec, timeout);
    if stopped.is_ok() {
        if let Some(rec) = engine.state().read(|tx| ContainerStore::of(tx).get(id))? {
            let _ = journal::record_alone(engine, &Event::container(&rec, "stop"));
        }
    }
    stopped
}

/// The rest of `stop` once the stop signal is sent: the wait, then SIGKILL.
fn stop_after_signal(
    engine: &Engine,
    id: &str,
    rec: &ContainerRecord,
    timeout: Option<u32>,
) -> Result<()> {
    // `-t` wins over the container's `--stop-timeout` (-1: without a limit).
    let own = rec
        .config
        .stop_timeout
        .map(|t| u32::try_from(t).unwrap_or(u32::MAX));
    let secs = timeout.or(own).unwrap_or(DEFAULT_STOP_TIMEOUT);
    if wait_stopped(engine, id, Some(Duration::from_secs(secs.into())))? {
        return Ok(());
    }
    signal_locked(engine, id, Signal::SIGKILL, false)?;
    if wait_killed(engine, id, Duration::from_secs(30))? {
        Ok(())
    } else {
        Err(EngineError::Runtime(format!(
            "container {} did not exit after SIGKILL within 30 s",
            rec.name
        )))
    }
}

/// `restart`: stop, then start.
pub fn restart(engine: &Engine, id: &str, timeout: Option<u32>) -> Result<()> {
    stop(engine, id, timeout)?;
    super::start::start(engine, id, false)?;
    engine.state().write(|tx| {
        if let Some(mut rec) = ContainerStore::of(tx).get(id)? {
            rec.restart_count += 1;
            ContainerStore::of(tx).save(&rec)?;
            journal::record(tx, &Event::container(&rec, "restart"))?;
        }
        Ok(())
    })
}

/// `wait`: blocks until the container is not running; returns its exit code.
pub fn wait(engine: &Engine, id: &str) -> Result<i32> {
    wait_stopped(engine, id, None)?;
    let rec = store::load(engine.state(), id)?;
    Ok(rec.state.exit_code)
}
