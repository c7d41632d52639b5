//! A container's network namespace as a file: made by the monitor before the container starts
//! (so that the driver can set it up and libcontainer can join it), bind-mounted at
//! `/run/berth/<hash>/netns/<id>`, removed when the container's network is torn down.

use std::fs::File;
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::engine::container::cleanup;
use crate::engine::error::{EngineError, Result};
use crate::engine::Layout;

/// `/run/berth/<hash>/netns`.
pub fn dir(layout: &Layout, id: &str) -> PathBuf {
    cleanup::runtime_root(layout, id).join("netns")
}

/// Where container `id`'s namespace is mounted.
pub fn path(layout: &Layout, id: &str) -> PathBuf {
    dir(layout, id).join(id)
}

/// Whether a namespace is mounted at `p` (a file with nsfs mounted on it).
pub fn is_mounted(p: &Path) -> bool {
    nix::sys::statfs::statfs(p).is_ok_and(|s| s.filesystem_type().0 == 0x6e73_6673)
}

/// Makes a new network namespace with `lo` up and mounts it at [`path`]. The caller must be
/// single-threaded (the monitor): it enters the new namespace and returns.
pub fn create(layout: &Layout, id: &str) -> Result<PathBuf> {
    remove(layout, id);
    cleanup::create_runtime_root(layout, id)?;
    let d = dir(layout, id);
    crate::engine::layout::create_private_dir(&d)
        .map_err(|e| EngineError::io_path("cannot create", &d, e))?;
    let p = path(layout, id);
    File::create(&p).map_err(|e| EngineError::io_path("cannot create", &p, e))?;
    let own = File::open("/proc/self/ns/net")
        .map_err(|e| EngineError::io("cannot open the monitor's network namespace", e))?;
    unshare(CloneFlags::CLONE_NEWNET).map_err(|e| {
        let _ = std::fs::remove_file(&p);
        EngineError::Runtime(format!("cannot create a network namespace: {e}"))
    })?;
    let made = mount(
        Some("/proc/thread-self/ns/net"),
        &p,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| EngineError::Runtime(format!("cannot mount the network namespace: {e}")))
    .and_then(|_| crate::engine::monitor::netns::lo_up());
    let back = setns(&own, CloneFlags::CLONE_NEWNET)
        .map_err(|e| EngineError::Runtime(format!("cannot return to the monitor's netns: {e}")));
    if let Err(e) = made.and(back) {
        remove(layout, id);
        return Err(e);
    }
    Ok(p)
}

/// Unmounts and removes container `id`'s namespace file, and the directories when empty.
pub fn remove(layout: &Layout, id: &str) {
    let p = path(layout, id);
    let _ = umount2(&p, MntFlags::MNT_DETACH);
    let _ = std::fs::remove_file(&p);
    let d = dir(layout, id);
    if std::fs::remove_dir(&d).is_ok() {
        if let Some(base) = d.parent() {
            let _ = std::fs::remove_dir(base);
        }
    }
}
