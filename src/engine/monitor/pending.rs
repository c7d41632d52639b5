//! The monitor a `run` starts before its container exists ([`super::spawn::prespawn`]): kept
//! here, per process, until the container's start hands it the id, or discarded. It is
//! launched on a thread of its own, so the caller does not wait for its fork and exec.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use super::spawn::MonitorChild;
use crate::engine::error::Result;

/// The launch's outcome: the monitor and the write end of its fd 7 (the container's id, then
/// the end of file).
pub(super) type Launch = JoinHandle<Result<(MonitorChild, File)>>;

struct Pending {
    root: PathBuf,
    attach: bool,
    launch: Launch,
}

/// The launched monitor, once its launch is over; `None` if it failed.
fn launched(p: Pending) -> Option<(MonitorChild, File)> {
    match p.launch.join() {
        Ok(Ok(m)) => Some(m),
        Ok(Err(e)) => {
            tracing::debug!("the prespawned monitor did not start: {e}");
            None
        }
        Err(_) => None,
    }
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

fn slot() -> std::sync::MutexGuard<'static, Option<Pending>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

fn absolute(root: &Path) -> PathBuf {
    std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf())
}

pub(super) fn keep(root: &Path, attach: bool, launch: Launch) {
    let old = slot().replace(Pending {
        root: absolute(root),
        attach,
        launch,
    });
    if let Some((child, go)) = old.and_then(launched) {
        let_go(child, go);
    }
}

/// The prespawned monitor for `root` and `attach`, told to run container `id`; `None` when
/// there is none (or it is gone: the caller spawns one).
pub(super) fn hand(root: &Path, attach: bool, id: &str) -> Option<MonitorChild> {
    let mut guard = slot();
    let fits = guard
        .as_ref()
        .is_some_and(|p| p.attach == attach && p.root == absolute(root));
    if !fits {
        return None;
    }
    let p = guard.take()?;
    drop(guard);
    let (child, mut go) = launched(p)?;
    match go.write_all(format!("{id}\n").as_bytes()) {
        Ok(()) => Some(child),
        Err(_) => {
            let_go(child, go);
            None
        }
    }
}

pub(super) fn discard() {
    let p = slot().take();
    if let Some((child, go)) = p.and_then(launched) {
        let_go(child, go);
    }
}

/// Closes the monitor's fd 7 without an id (it exits) and waits for its exit.
fn let_go(mut child: MonitorChild, go: File) {
    drop(go);
    if !child.wait_gone(Duration::from_secs(2)) {
        tracing::warn!("a prespawned container monitor did not exit when let go");
    }
}
