//! The cgroup attach lock kept warm while a container starts. Every write of a pid to a
//! `cgroup.procs` file takes the kernel's global threadgroup lock for writing, and the first
//! such write after a quiet spell waits for an RCU grace period (6–20 ms on the project's
//! machine) before the lock's fast path opens; writes within a grace period or two of the last
//! one do not wait (0.2 ms). A start makes several such writes (the monitor into its own
//! cgroups, libcontainer's intermediate process into the container's), the first of them about
//! 15 ms after the CLI began.
//!
//! So the spawner, from the moment a container is created or started, has a thread write its
//! own pid into the cgroup it is already in (a move that changes nothing) every few ms: the
//! first write pays the grace period while the spawner and the monitor go on with their work,
//! and the ones after it keep the fast path open until the monitor has reported the start.
//! Where the spawner may not write its cgroup (no rights, read-only cgroupfs), the first write
//! fails and the thread ends: the start then pays the wait as before.

use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::cgroup_join;
use crate::engine::runtime::cgroupfs::{self, CgroupLayout};

/// How often the thread writes: well within one grace period.
const INTERVAL: Duration = Duration::from_millis(3);

struct Keeper {
    /// Starts in progress ([`Warm`] guards alive).
    holders: usize,
    /// Kept warm at least until then (a container was created: its start usually follows).
    until: Option<Instant>,
    running: bool,
}

static KEEPER: Mutex<Keeper> = Mutex::new(Keeper {
    holders: 0,
    until: None,
    running: false,
});
static WAKE: Condvar = Condvar::new();

fn keeper() -> MutexGuard<'static, Keeper> {
    KEEPER.lock().unwrap_or_else(|e| e.into_inner())
}

/// Keeps the lock warm while alive (a start in progress).
pub struct Warm(());

impl Drop for Warm {
    fn drop(&mut self) {
        let mut k = keeper();
        k.holders = k.holders.saturating_sub(1);
        WAKE.notify_all();
    }
}

/// Keeps the lock warm until the guard is dropped.
pub fn hold() -> Warm {
    let mut k = keeper();
    k.holders += 1;
    ensure_running(&mut k);
    Warm(())
}

/// Keeps the lock warm for `time` from now (a start is likely to follow).
pub fn keep_for(time: Duration) {
    let mut k = keeper();
    let until = Instant::now() + time;
    k.until = Some(k.until.map_or(until, |u| u.max(until)));
    ensure_running(&mut k);
}

fn ensure_running(k: &mut Keeper) {
    if k.running {
        return;
    }
    let Some(procs) = own_procs() else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("cgroup-warm".into())
        .spawn(move || run(procs));
    k.running = spawned.is_ok();
}

fn run(procs: PathBuf) {
    let me = std::process::id().to_string();
    loop {
        let written = std::fs::write(&procs, &me);
        let mut k = keeper();
        let wanted = k.holders > 0 || k.until.is_some_and(|u| Instant::now() < u);
        if written.is_err() || !wanted {
            k.running = false;
            k.until = None;
            return;
        }
        drop(
            WAKE.wait_timeout(k, INTERVAL)
                .unwrap_or_else(|e| e.into_inner()),
        );
    }
}

/// The `cgroup.procs` of this process's own cgroup on a hierarchy libcontainer does not
/// manage (cgroup2 of a hybrid host, else `name=systemd`), or on cgroup2 of a v2 host.
fn own_procs() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let current = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    procs_file(&info, &current)
}

fn procs_file(mountinfo: &str, proc_cgroup: &str) -> Option<PathBuf> {
    let (mount_point, key) = match CgroupLayout::from_mountinfo(mountinfo) {
        CgroupLayout::V2 => (PathBuf::from("/sys/fs/cgroup"), String::new()),
        _ => {
            let mut hierarchies = cgroupfs::unjoined_hierarchies(mountinfo);
            // cgroup2 first: nothing (systemd) manages it on a v1 host.
            hierarchies.sort_by_key(|h| !h.key.is_empty());
            let h = hierarchies.into_iter().next()?;
            (h.mount_point, h.key)
        }
    };
    let path = cgroup_join::path_in(proc_cgroup, &key)?;
    Some(
        mount_point
            .join(path.trim_start_matches('/'))
            .join("cgroup.procs"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
30 23 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw
31 30 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
32 30 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
33 30 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
";
    const V2: &str = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";

    #[test]
    fn hybrid_hosts_use_the_cgroup2_mount() {
        let own = "2:cpu:/a\n1:name=systemd:/b\n0::/c/d\n";
        assert_eq!(
            procs_file(HYBRID, own),
            Some(PathBuf::from("/sys/fs/cgroup/unified/c/d/cgroup.procs"))
        );
    }

    #[test]
    fn v1_hosts_without_cgroup2_use_name_systemd() {
        let info = HYBRID.lines().take(3).collect::<Vec<_>>().join("\n");
        let own = "2:cpu:/a\n1:name=systemd:/\n";
        assert_eq!(
            procs_file(&info, own),
            Some(PathBuf::from("/sys/fs/cgroup/systemd/cgroup.procs"))
        );
    }

    #[test]
    fn v2_hosts_use_the_own_cgroup() {
        assert_eq!(
            procs_file(V2, "0::/user.slice/x\n"),
            Some(PathBuf::from("/sys/fs/cgroup/user.slice/x/cgroup.procs"))
        );
        assert_eq!(procs_file(V2, "1:name=systemd:/\n"), None);
    }
}
