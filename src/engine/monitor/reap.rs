//! Reaping, for the container's monitor and the exec monitor (both child subreapers): the
//! process's exit code in Docker's terms, and the orphans re-parented to the monitor.

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
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

/// Sleeps for `d` while reaping every child that exits meanwhile, woken by SIGCHLD (blocked
/// for the sleep, so none is lost between a reap and the wait). For a process whose children
/// may end without it waiting for them by pid: libcontainer returns early from a failed tenant
/// build without waiting for the processes it cloned, and such a zombie, in a container's pid
/// namespace, keeps the container's init from finishing its exit.
pub fn sleep_reaping(d: Duration) {
    let deadline = Instant::now() + d;
    let mut chld = SigSet::empty();
    chld.add(Signal::SIGCHLD);
    let Ok(old) = chld.thread_swap_mask(SigmaskHow::SIG_BLOCK) else {
        orphans();
        std::thread::sleep(d);
        orphans();
        return;
    };
    loop {
        orphans();
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let ts = libc::timespec {
            tv_sec: libc::time_t::try_from(left.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: left.subsec_nanos() as libc::c_long,
        };
        // SAFETY: sigtimedwait reads a signal set and a timespec that live on this frame; the
        // info pointer may be null.
        unsafe {
            libc::sigtimedwait(chld.as_ref(), std::ptr::null_mut(), &ts);
        }
    }
    orphans();
    // A SIGCHLD still pending is dropped with the mask restored (its default is to ignore).
    let _ = old.thread_set_mask();
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
