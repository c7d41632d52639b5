//! The monitor's side of restart policies: after it recorded an exit, it decides whether the
//! policy restarts the container, waits the backoff while watching the record (a `stop` or
//! `rm -f` meanwhile ends the loop), then takes the container's lock as a spawner would and
//! starts it again. The backoff runs on the [`Syscall`] clock, so its unit tests do not wait.

use std::time::Duration;

use crate::engine::container::record::Status;
use crate::engine::container::store;
use crate::engine::container::store::ContainerStore;
use crate::engine::layout::Layout;
use crate::engine::lock::FileLock;
use crate::engine::state::StateStore;
use crate::engine::syscall::Syscall;

/// How often the record is read during the backoff.
const POLL: Duration = Duration::from_millis(50);

/// After an exit with `code`: whether the policy restarts the container. When it does, the
/// record says so (`restarting`, docker's "Restarting") in the same transaction.
pub fn decide(state: &StateStore, id: &str, code: i32) -> bool {
    state
        .write(|tx| {
            let Some(mut rec) = ContainerStore::of(tx).get(id)? else {
                return Ok(false);
            };
            let restart = rec.state.status == Status::Exited
                && rec.host_config.restart_policy.restarts(
                    code,
                    rec.restart_count,
                    rec.state.manually_stopped,
                );
            if restart {
                rec.state.restarting = true;
                ContainerStore::of(tx).save(&rec)?;
            }
            Ok(restart)
        })
        .unwrap_or(false)
}

/// Waits `delay` unless a user stops or removes the container meanwhile, then takes its lock
/// and counts the restart. Returns the lock (held until the start is recorded), or `None` when
/// the restart is off (the record then no longer says restarting).
pub fn wait(
    sys: &dyn Syscall,
    state: &StateStore,
    layout: &Layout,
    id: &str,
    delay: Duration,
) -> Option<FileLock> {
    let deadline = sys.now() + delay;
    loop {
        let still = state
            .read(|tx| ContainerStore::of(tx).get(id))
            .ok()
            .flatten()
            .is_some_and(|r| wanted(&r));
        if !still {
            give_up(state, id);
            return None;
        }
        let now = sys.now();
        if now >= deadline {
            break;
        }
        sys.sleep(POLL.min(deadline - now));
    }
    let lock = match store::lock(layout, id) {
        Ok(l) => l,
        Err(_) => {
            give_up(state, id);
            return None;
        }
    };
    let counted = state.write(|tx| {
        let Some(mut rec) = ContainerStore::of(tx).get(id)? else {
            return Ok(false);
        };
        if !wanted(&rec) {
            return Ok(false);
        }
        rec.restart_count += 1;
        ContainerStore::of(tx).save(&rec)?;
        Ok(true)
    });
    if counted.unwrap_or(false) {
        Some(lock)
    } else {
        drop(lock);
        give_up(state, id);
        None
    }
}

/// Whether the record still asks for the restart.
fn wanted(rec: &crate::engine::container::ContainerRecord) -> bool {
    rec.state.status == Status::Exited && rec.state.restarting && !rec.state.manually_stopped
}

/// The record no longer says restarting (if it is still there).
fn give_up(state: &StateStore, id: &str) {
    let _ = state.write(|tx| {
        if let Some(mut rec) = ContainerStore::of(tx).get(id)? {
            if rec.state.restarting {
                rec.state.restarting = false;
                ContainerStore::of(tx).save(&rec)?;
            }
        }
        Ok(())
    });
}
