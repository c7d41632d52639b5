//! A cgroup of the container's own on the hierarchies libcontainer leaves alone (cgroup v1
//! `name=systemd`, the cgroup2 mount of a hybrid host), as runc does. Without it the container's
//! cgroup namespace is rooted at the host's root there, and a container given CAP_SYS_ADMIN
//! could mount that hierarchy and write its `release_agent` (CVE-2022-0492). The monitor steps
//! into `<hierarchy>/berth/<id>` while libcontainer forks the container (which inherits it),
//! then steps back; `rm` removes the directory with the container's other cgroups.

use std::path::{Path, PathBuf};

use crate::engine::error::{IoContext, Result};
use crate::engine::runtime::cgroupfs;

/// The monitor's stay in the container's own cgroups; [`OwnCgroups::leave`] (or drop) returns
/// it to where it was.
pub struct OwnCgroups {
    /// `cgroup.procs` of the cgroups the monitor came from.
    back: Vec<PathBuf>,
}

/// Moves the monitor into `berth/<id>` on every hierarchy libcontainer does not manage.
pub fn enter(id: &str) -> Result<OwnCgroups> {
    let (mountinfo, cgroup) = (
        Path::new("/proc/self/mountinfo"),
        Path::new("/proc/self/cgroup"),
    );
    let info = std::fs::read_to_string(mountinfo).ctx("cannot read", mountinfo)?;
    let current = std::fs::read_to_string(cgroup).ctx("cannot read", cgroup)?;
    let me = std::process::id().to_string();
    let mut own = OwnCgroups { back: Vec::new() };
    for h in cgroupfs::unjoined_hierarchies(&info) {
        // `hierarchy-id:controllers:path`
        let Some(path) = path_in(&current, &h.key) else {
            continue;
        };
        let target = h.mount_point.join("berth").join(id);
        match std::fs::create_dir_all(&target) {
            // berth itself runs in a container that shows it this hierarchy read-only: its
            // own cgroup there is not the host's root either.
            Err(e) if e.raw_os_error() == Some(libc::EROFS) => continue,
            r => r.ctx("cannot create the cgroup", &target)?,
        }
        let procs = target.join("cgroup.procs");
        std::fs::write(&procs, &me).ctx("cannot join the cgroup", &procs)?;
        own.back.push(
            h.mount_point
                .join(path.trim_start_matches('/'))
                .join("cgroup.procs"),
        );
    }
    Ok(own)
}

/// The cgroup path on hierarchy `key` (`name=systemd`, empty for cgroup2) in the text of
/// `/proc/<pid>/cgroup` (`hierarchy-id:controllers:path` lines).
pub fn path_in(proc_cgroup: &str, key: &str) -> Option<String> {
    proc_cgroup.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let _ = f.next();
        (f.next()? == key).then(|| f.next().map(str::to_string))?
    })
}

impl OwnCgroups {
    /// Returns the monitor to its own cgroups (the container stays in its).
    pub fn leave(mut self) -> Result<()> {
        self.go_back()
    }

    fn go_back(&mut self) -> Result<()> {
        let me = std::process::id().to_string();
        let mut result = Ok(());
        for procs in self.back.drain(..) {
            if let Err(e) = std::fs::write(&procs, &me).ctx("cannot return to the cgroup", &procs) {
                result = Err(e);
            }
        }
        result
    }
}

impl Drop for OwnCgroups {
    fn drop(&mut self) {
        let _ = self.go_back();
    }
}
