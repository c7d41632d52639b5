//! Reaping, for the container's monitor and the exec monitor (both child subreapers): the
//! process's exit code in Docker's terms, and the orphans re-parented to the monitor.

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Waits for `pid` and returns its exit code: its status, or 128 + the signal that killed it
/// (255 when it cannot be waited for).
pub fn exit_code(pid: i32) -> i32 {
    loop {
        return match waitpid(Pid::from_raw(pid), None) {
            Err(Errno::EINTR) => continue,
            Ok(WaitStatus::Exited(_, c)) => c,
            Ok(WaitStatus::Signaled(_, sig, _)) => 128 + sig as i32,
            _ => 255,
        };
    }
}

/// Reaps every child that has already exited (the orphans re-parented to us), without waiting.
pub fn orphans() {
    while let Ok(s) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
        if s == WaitStatus::StillAlive {
            break;
        }
    }
}

/// Reaps our children until there are none left (or `limit` passes).
pub fn all_children(limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::zombie_processes)] // reaped by `exit_code`, the function under test
    fn exit_codes_follow_docker() {
        let code = |args: &[&str]| {
            let child = std::process::Command::new(args[0])
                .args(&args[1..])
                .spawn()
                .unwrap();
            exit_code(child.id() as i32)
        };
        assert_eq!(code(&["sh", "-c", "exit 3"]), 3);
        assert_eq!(code(&["sh", "-c", "kill -KILL $$"]), 137);
        assert_eq!(exit_code(-999_999), 255);
    }
}
