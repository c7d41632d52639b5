//! The monitor a `run` starts before its container exists ([`super::spawn::prespawn`]): kept
//! here, per process, until the container's start hands it the id, or discarded.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::spawn::MonitorChild;

struct Pending {
    root: PathBuf,
    attach: bool,
    child: MonitorChild,
    /// The write end of the monitor's fd 7: the container's id, then the end of file.
    go: File,
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

fn slot() -> std::sync::MutexGuard<'static, Option<Pending>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

fn absolute(root: &Path) -> PathBuf {
    std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf())
}

pub(super) fn keep(root: &Path, attach: bool, child: MonitorChild, go: File) {
    let old = slot().replace(Pending {
        root: absolute(root),
        attach,
        child,
        go,
    });
    if let Some(old) = old {
        let_go(old);
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
    let mut p = guard.take()?;
    drop(guard);
    match p.go.write_all(format!("{id}\n").as_bytes()) {
        Ok(()) => Some(p.child),
        Err(_) => {
            let_go(p);
            None
        }
    }
}

pub(super) fn discard() {
    let p = slot().take();
    if let Some(p) = p {
        let_go(p);
    }
}

/// Closes the monitor's fd 7 without an id (it exits) and waits for its exit.
fn let_go(p: Pending) {
    let Pending { mut child, go, .. } = p;
    drop(go);
    if !child.wait_gone(Duration::from_secs(2)) {
        tracing::warn!("a prespawned container monitor did not exit when let go");
    }
}
