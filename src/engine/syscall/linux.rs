//! The real [`Syscall`]: `kill(2)`, `/proc/<pid>/stat`, fork + exec of the monitor, the
//! monotonic clock.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::Syscall;
use crate::engine::container::cleanup;
use crate::engine::error::Result;
use crate::engine::monitor::spawn::{self, MonitorChild};

/// The kernel itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxSyscall;

impl Syscall for LinuxSyscall {
    fn kill(&self, pid: i32, sig: Signal) -> nix::Result<()> {
        nix::sys::signal::kill(Pid::from_raw(pid), sig)
    }

    fn alive(&self, pid: i32, start: u64) -> bool {
        cleanup::monitor_alive(pid, start)
    }

    fn dead_or_zombie(&self, pid: i32) -> bool {
        if pid <= 0 {
            return true;
        }
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next())
                .is_none_or(|state| state == "Z" || state == "X"),
            Err(_) => true,
        }
    }

    fn spawn_monitor(
        &self,
        root: &Path,
        extra: &[&str],
        id: &str,
        attach: bool,
        client: Option<OwnedFd>,
    ) -> Result<MonitorChild> {
        spawn::spawn_with(root, extra, id, attach, client)
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_not_a_zombie() {
        let sys = LinuxSyscall;
        let me = std::process::id() as i32;
        let start = cleanup::process_start_time(me).unwrap();
        assert!(sys.alive(me, start));
        assert!(!sys.alive(me, start + 1));
        assert!(!sys.dead_or_zombie(me));
        assert!(sys.dead_or_zombie(0));
        sys.kill(me, Signal::SIGCONT).expect("a signal to oneself");
    }
}
