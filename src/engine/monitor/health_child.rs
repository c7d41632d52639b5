//! The container monitor's side of health checks: once the start is recorded, a container with
//! an active check gets its checker process (`berth monitor --health ID`, see
//! `engine::health::checker`), a child of the monitor started from the monitor's own sealed
//! binary; it is killed and reaped when the container exits (dropping [`HealthChild`]) and dies
//! with the monitor.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use crate::engine::container::ContainerRecord;
use crate::engine::Layout;

/// A running checker; dropping it ends it.
pub struct HealthChild {
    pid: i32,
    /// Signals go through the pidfd: never to a reused pid.
    pidfd: Option<OwnedFd>,
}

/// Starts the checker of `rec` when it has an active health check.
pub fn spawn(layout: &Layout, rec: &ContainerRecord) -> Option<HealthChild> {
    if !rec.health_active() {
        return None;
    }
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg("--root")
        .arg(layout.root())
        .arg("monitor")
        .arg("--health")
        .arg(&rec.id)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: runs in the forked child before exec and only calls prctl, which is
    // async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    match cmd.spawn() {
        Ok(child) => {
            let pid = child.id() as i32;
            Some(HealthChild {
                pid,
                // Opened before anything can reap it: the pid is still ours.
                pidfd: super::relay::pidfd_open(pid).ok(),
            })
        }
        Err(e) => {
            super::debug_log(&format!(
                "cannot start the health checker of {}: {e}",
                rec.id
            ));
            None
        }
    }
}

impl HealthChild {
    /// Writes the checker for [`HealthChild::load`] (across the monitor's exec).
    pub fn save(&self, w: &mut super::wire::Writer) {
        w.u64(self.pid as u64);
        w.fd(self.pidfd.as_ref());
    }

    /// The checker [`HealthChild::save`] wrote.
    pub fn load(r: &mut super::wire::Reader) -> crate::engine::Result<HealthChild> {
        Ok(HealthChild {
            pid: r.u64()? as i32,
            pidfd: r.fd()?,
        })
    }
}

impl Drop for HealthChild {
    fn drop(&mut self) {
        if let Some(fd) = &self.pidfd {
            // SAFETY: pidfd_send_signal takes a pidfd we own, a signal number and no info.
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd.as_raw_fd(),
                    libc::SIGKILL,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                );
            }
        }
        // Reaped within a bound: the monitor must go on recording the exit whatever the
        // checker is stuck in (a late one is reaped with the other orphans).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let pid = nix::unistd::Pid::from_raw(self.pid);
        while let Ok(nix::sys::wait::WaitStatus::StillAlive) =
            nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG))
        {
            if std::time::Instant::now() >= deadline {
                super::debug_log(&format!("health checker {} did not end", self.pid));
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
