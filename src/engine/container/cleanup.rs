//! Undoing what a running container left behind: the runtime's state and cgroup, any process
//! still alive in it, and the rootfs mount. Used by the monitor when the container exits, by
//! recovery after a lost monitor, and by `rm`.

use std::path::{Path, PathBuf};

use crate::engine::error::{EngineError, Result};
use crate::engine::snapshot::Snapshot;
use crate::engine::Layout;

/// libcontainer's state root for a container (its state lives in `<this>/<id>`). Runtime state
/// is transient, like runc's: it lives on tmpfs under `/run/berth/<hash of the engine root>/`
/// (one directory per root, so test roots never meet), and in the container's directory only
/// on hosts without `/run`.
pub fn runtime_root(layout: &Layout, id: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let run = Path::new("/run");
    if run.is_dir() {
        let hash = hex::encode(Sha256::digest(layout.root().as_os_str().as_encoded_bytes()));
        run.join("berth").join(&hash[..16])
    } else {
        layout.container_dir(id).join("rt")
    }
}

/// Creates [`runtime_root`] closed to other users (`/run/berth` and the per-root directory mode
/// 0700, tightened if an older berth made them wider) and returns it.
pub fn create_runtime_root(layout: &Layout, id: &str) -> Result<PathBuf> {
    let rt = runtime_root(layout, id);
    let private = |d: &Path| {
        crate::engine::layout::create_private_dir(d)
            .map_err(|e| EngineError::io_path("cannot create", d, e))
    };
    if let Some(parent) = rt
        .parent()
        .filter(|p| p.file_name() == Some("berth".as_ref()))
    {
        private(parent)?;
    }
    private(&rt)?;
    Ok(rt)
}

/// Kills whatever still runs in the container, removes its cgroup and libcontainer's state.
pub fn delete_runtime(layout: &Layout, id: &str) -> Result<()> {
    let base = runtime_root(layout, id);
    let dir = base.join(id);
    if !dir.exists() {
        // `rm` may have deleted the state while the container's last processes still held a
        // cgroup: sweep again.
        remove_cgroups(id);
        return Ok(());
    }
    // The per-root directory goes when its last container does (a concurrent start recreates it).
    let _remove_base = RemoveWhenEmpty(&base);
    match libcontainer::container::Container::load(dir.clone()) {
        Ok(mut c) => {
            if let Err(e) = c.delete(true) {
                tracing::warn!("libcontainer delete of {id}: {e}");
                let _ = std::fs::remove_dir_all(&dir);
            }
            // libcontainer removes only the container's own directories, and none that still
            // holds a cgroup the container made inside it.
            remove_cgroups(id);
        }
        Err(_) => {
            remove_cgroups(id);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    Ok(())
}

/// [`delete_runtime`] for a container whose init process the monitor has reaped: what
/// libcontainer's delete does for a stopped container (berth's specs have no hooks), without
/// building libcontainer's cgroup manager, which reads `/proc` some 40 times through a private
/// procfs mount (15–20 ms of every `run --rm`): a process still in the container's cgroups
/// (a shared PID namespace outlives the init) is killed, the cgroups and the runtime state
/// directory are removed.
pub fn delete_runtime_exited(layout: &Layout, id: &str) -> Result<()> {
    let base = runtime_root(layout, id);
    let _remove_base = RemoveWhenEmpty(&base);
    kill_cgroup_members(id);
    remove_cgroups(id);
    let dir = base.join(id);
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(EngineError::io_path("cannot remove", &dir, e))
        }
        _ => Ok(()),
    }
}

/// Sends SIGKILL to every process in the container's own cgroup on each hierarchy.
fn kill_cgroup_members(id: &str) {
    let rel = format!("berth/{id}/cgroup.procs");
    let mut files = vec![Path::new("/sys/fs/cgroup").join(&rel)];
    if let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") {
        files.extend(entries.flatten().map(|e| e.path().join(&rel)));
    }
    for procs in files {
        let Ok(text) = std::fs::read_to_string(&procs) else {
            continue;
        };
        for pid in text.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

struct RemoveWhenEmpty<'a>(&'a Path);

impl Drop for RemoveWhenEmpty<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(self.0);
    }
}

/// Removes the container's cgroup directories on every hierarchy, with any cgroup the container
/// made inside them (best effort; they are empty once its processes are gone).
pub fn remove_cgroups(id: &str) {
    let rel = format!("berth/{id}");
    if let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") {
        for e in entries.flatten() {
            remove_cgroup_tree(&e.path().join(&rel));
        }
    }
    remove_cgroup_tree(&Path::new("/sys/fs/cgroup").join(&rel));
}

/// Removes a cgroup and its descendants, deepest first. A cgroup directory holds only the
/// kernel's files, which `rmdir` takes along; symlinks are never followed.
fn remove_cgroup_tree(top: &Path) {
    let mut dirs = Vec::new();
    let mut todo = vec![top.to_path_buf()];
    while let Some(dir) = todo.pop() {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    todo.push(e.path());
                }
            }
        }
        dirs.push(dir);
    }
    // Children come after their parent in `dirs`.
    for dir in dirs.iter().rev() {
        // A process that was just killed leaves its cgroups a moment after it dies.
        for _ in 0..20 {
            match std::fs::remove_dir(dir) {
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                    std::thread::sleep(std::time::Duration::from_millis(25))
                }
                _ => break,
            }
        }
    }
}

/// Whether the kernel OOM-killed a process of the container (cgroup v1 `memory.oom_control` or
/// v2 `memory.events`). Read before the cgroup is removed.
pub fn oom_killed(id: &str) -> bool {
    let candidates = [
        format!("/sys/fs/cgroup/memory/berth/{id}/memory.oom_control"),
        format!("/sys/fs/cgroup/berth/{id}/memory.events"),
    ];
    candidates.iter().any(|p| {
        std::fs::read_to_string(p)
            .map(|text| {
                text.lines().any(|l| {
                    l.strip_prefix("oom_kill ")
                        .and_then(|n| n.trim().parse::<u64>().ok())
                        .is_some_and(|n| n > 0)
                })
            })
            .unwrap_or(false)
    })
}

/// Unmounts the rootfs.
pub fn unmount_rootfs(layout: &Layout, id: &str) -> Result<()> {
    Snapshot::new(&layout.container_dir(id)).unmount()
}

/// Moves the container's directory out of `containers/` (one rename into the root's `tmp/`,
/// where an interrupted removal is swept later) and removes its lock files; returns the moved
/// directory for [`purge`]. Refuses while the rootfs is mounted, so a mount is never deleted
/// through.
pub fn detach_files(layout: &Layout, id: &str) -> Result<Option<PathBuf>> {
    let dir = layout.container_dir(id);
    let snap = Snapshot::new(&dir);
    if snap.is_mounted()? {
        return Err(EngineError::Runtime(format!(
            "the rootfs of container {id} is still mounted at {}: unmount it first",
            snap.merged().display()
        )));
    }
    let moved = layout.tmp_dir().join(format!("removed-{id}"));
    let result = match std::fs::rename(&dir, &moved) {
        Ok(()) => Some(moved),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(_) => {
            // Another filesystem or a leftover target: delete in place.
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => None,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(EngineError::io_path("cannot remove", &dir, e)),
            }
        }
    };
    for suffix in ["lock", "monitor", "exec", "net"] {
        let _ = std::fs::remove_file(layout.locks_dir().join(format!("{id}.{suffix}")));
    }
    Ok(result)
}

/// Deletes a directory [`detach_files`] moved aside (best effort; `tmp/` is swept anyway).
pub fn purge(moved: &Path) {
    if let Err(e) = std::fs::remove_dir_all(moved) {
        tracing::warn!("cannot remove {}: {e}", moved.display());
    }
}

/// Removes the container's directory and lock files (see [`detach_files`]).
pub fn remove_files(layout: &Layout, id: &str) -> Result<()> {
    if let Some(moved) = detach_files(layout, id)? {
        purge(&moved);
    }
    Ok(())
}

/// Reads a live process's start time (clock ticks after boot, field 22 of `/proc/<pid>/stat`);
/// `None` for a zombie or a missing process.
pub fn process_start_time(pid: i32) -> Option<u64> {
    if pid <= 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let mut fields = after.split(' ');
    // A zombie (nobody reaped it yet) or dead process is not alive.
    if matches!(fields.next(), Some("Z" | "X" | "x")) {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// Whether the monitor recorded as (`pid`, `start`) still runs.
pub fn monitor_alive(pid: i32, start: u64) -> bool {
    pid > 0 && process_start_time(pid) == Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_start_time_is_readable_and_stable() {
        let me = std::process::id() as i32;
        let t = process_start_time(me).unwrap();
        assert!(monitor_alive(me, t));
        assert!(!monitor_alive(me, t + 1));
        assert!(!monitor_alive(0, 0));
    }
}
