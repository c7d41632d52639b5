//! `rm [-f]` and `container prune`.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::record::Status;
use super::store::ContainerStore;
use super::{cleanup, reconcile, stop, store};
use crate::engine::error::{EngineError, ErrorKind, Result};
use crate::engine::{Engine, EngineEvent};

/// Removes container `id`. A running container needs `force` (it is killed first).
pub fn remove(engine: &Engine, id: &str, force: bool) -> Result<()> {
    // A container started while being removed (by a monitor whose spawner died before it
    // claimed the record) is killed and removed on the next round with `force`.
    let rounds = if force { 3 } else { 1 };
    for _ in 0..rounds {
        if let Some(name) = remove_once(engine, id, force)? {
            if !force {
                return Err(EngineError::InvalidState(format!(
                    "container {name} was started while being removed: stop it, or remove it \
                     with rm -f"
                )));
            }
            continue;
        }
        return Ok(());
    }
    Err(EngineError::InvalidState(format!(
        "container {id} keeps being started while being removed: try again"
    )))
}

/// One attempt at [`remove`]; returns the container's name when it was started meanwhile.
fn remove_once(engine: &Engine, id: &str, force: bool) -> Result<Option<String>> {
    let layout = engine.layout();
    {
        let _lock = store::lock(layout, id)?;
        let Some(rec) = engine.state().read(|tx| ContainerStore::of(tx).get(id))? else {
            return Err(store::not_found(id));
        };
        let rec = reconcile::check_locked(engine, rec)?;
        if rec.state.restarting && !force {
            return Err(EngineError::InvalidState(format!(
                "cannot remove container {}: it is restarting: stop it before removing or force \
                 remove (rm -f)",
                rec.name
            )));
        }
        if force && !rec.host_config.restart_policy.is_none() {
            // No restart by policy once it is killed below; the lock is held, so mark it here.
            engine.state().write(|tx| {
                if let Some(mut fresh) = ContainerStore::of(tx).get(id)? {
                    fresh.state.manually_stopped = true;
                    ContainerStore::of(tx).save(&fresh)?;
                }
                Ok(())
            })?;
        }
        if rec.state.status.can_kill() {
            if !force {
                return Err(EngineError::InvalidState(format!(
                    "cannot remove container {}: it is {}: stop the container before removing \
                     or force \
                 remove (rm -f)",
                    rec.name,
                    rec.state.status.as_str()
                )));
            }
            let _ = engine.sys().kill(rec.state.pid, Signal::SIGKILL);
            if rec.state.status == Status::Paused {
                let _ = super::pause::thaw(engine, id);
            }
        }
    }
    if !stop::wait_killed(engine, id, Duration::from_secs(30))? {
        return Err(EngineError::Runtime(format!(
            "container {id} did not exit after SIGKILL within 30 s"
        )));
    }
    let _lock = store::lock(layout, id)?;
    let Some(mut rec) = engine.state().read(|tx| ContainerStore::of(tx).get(id))? else {
        // Removed meanwhile (run --rm): done.
        return Ok(None);
    };
    if rec.state.status.can_kill() {
        return Ok(Some(rec.name));
    }
    // In one transaction with the check, so that a monitor whose spawner died before it
    // claimed the record either claimed it first (and we stop) or finds it being removed.
    let claimed = engine.state().write(|tx| {
        let Some(fresh) = ContainerStore::of(tx).get(id)? else {
            return Ok(false);
        };
        if engine
            .sys()
            .alive(fresh.state.monitor_pid, fresh.state.monitor_start)
        {
            return Ok(true);
        }
        rec.state = fresh.state;
        rec.state.status = Status::Removing;
        ContainerStore::of(tx).save(&rec)?;
        Ok(false)
    })?;
    if claimed {
        return Ok(Some(rec.name));
    }
    cleanup::delete_runtime(layout, id)?;
    crate::engine::network::attach::down(engine.state(), layout, id);
    cleanup::unmount_rootfs(layout, id)?;
    cleanup::remove_files(layout, id)?;
    engine.state().write(|tx| {
        ContainerStore::of(tx).delete(id)?;
        crate::engine::journal::record(
            tx,
            &crate::engine::journal::Event::container(&rec, "destroy"),
        )
    })?;
    engine.emit(EngineEvent::ContainersChanged);
    Ok(None)
}

/// `rm -v`: removes container `id` like [`remove`], then its anonymous volumes that no other
/// container uses; returns the names of the volumes removed.
pub fn remove_with_volumes(engine: &Engine, id: &str, force: bool) -> Result<Vec<String>> {
    let mounts = engine
        .state()
        .read(|tx| ContainerStore::of(tx).get(id))?
        .map(|r| r.mounts)
        .unwrap_or_default();
    remove(engine, id, force)?;
    crate::engine::volume::ops::remove_anonymous(
        engine,
        &crate::engine::mounts::volume_names(&mounts),
    )
}

/// A container `prune` removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Its id.
    pub id: String,
    /// Bytes its writable layer held (docker's SpaceReclaimed).
    pub size: u64,
}

/// Removes every container that is not running, and the leftovers of containers without a
/// record (see [`super::orphans`]); returns what it removed.
pub fn prune(engine: &Engine) -> Result<Vec<Pruned>> {
    let all = super::query::list(engine)?;
    let mut removed = Vec::new();
    for rec in all {
        if matches!(rec.state.status, Status::Created | Status::Exited) {
            let upper = engine.layout().container_dir(&rec.id).join("upper");
            let size = crate::engine::staging::disk_usage(&upper);
            match remove(engine, &rec.id, false) {
                Ok(()) => removed.push(Pruned { id: rec.id, size }),
                Err(e) if e.is(ErrorKind::NotFound) || e.is(ErrorKind::InvalidState) => {}
                Err(e) => return Err(e),
            }
        }
    }
    removed.extend(super::orphans::collect(engine)?);
    Ok(removed)
}
