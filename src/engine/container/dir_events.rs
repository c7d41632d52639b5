//! Changes in a container's directory, through inotify: what lets a log watch sleep until the
//! log is written, created or rotated, or the directory is removed, instead of polling the file.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// What a wait saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Something in the directory changed.
    Changed,
    /// The directory itself was removed or moved.
    DirGone,
    /// Nothing happened within the timeout.
    Timeout,
}

/// An inotify watch on one directory.
pub struct DirEvents {
    fd: OwnedFd,
}

impl DirEvents {
    /// Watches `dir`: files in it modified, created, moved in or out, deleted, and the directory
    /// itself deleted or moved. `None` when inotify is not available (no instances left, a
    /// filesystem without it, `dir` missing): the caller polls instead.
    pub fn new(dir: &Path) -> Option<DirEvents> {
        // SAFETY: plain system call; the result is checked.
        let raw = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
        if raw < 0 {
            tracing::debug!(error = %Errno::last(), "inotify unavailable; polling the log");
            return None;
        }
        // SAFETY: `inotify_init1` just returned this descriptor and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let path = CString::new(dir.as_os_str().as_bytes()).ok()?;
        let mask = libc::IN_MODIFY
            | libc::IN_CREATE
            | libc::IN_MOVED_TO
            | libc::IN_MOVED_FROM
            | libc::IN_DELETE
            | libc::IN_DELETE_SELF
            | libc::IN_MOVE_SELF
            | libc::IN_ONLYDIR;
        // SAFETY: `path` is NUL-terminated and outlives the call.
        let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) };
        if wd < 0 {
            return None;
        }
        Some(DirEvents { fd })
    }

    /// Waits up to `timeout` for events and takes every queued one.
    pub fn wait(&self, timeout: Duration) -> Wake {
        self.wait_or(timeout, None)
    }

    /// [`DirEvents::wait`] that also ends when `stop` is signalled ([`WatchStop`]), returning
    /// [`Wake::Timeout`] then: the caller asks its stop condition after every wake.
    pub fn wait_or(&self, timeout: Duration, stop: Option<&WatchStop>) -> Wake {
        let ms = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        let mut fds = vec![PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        if let Some(fd) = stop.and_then(|s| s.inner.fd.as_ref()) {
            fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, ms) {
            Ok(0) => return Wake::Timeout,
            Ok(_) if !fds[0].any().unwrap_or(true) => return Wake::Timeout,
            Ok(_) => {}
            Err(Errno::EINTR) => return Wake::Changed,
            Err(e) => {
                // Never spin on a broken descriptor: behave like a poll interval.
                tracing::debug!(error = %e, "polling the inotify descriptor");
                std::thread::sleep(timeout.min(Duration::from_millis(40)));
                return Wake::Changed;
            }
        }
        let mut wake = Wake::Timeout;
        let mut buf = [0u8; 4096];
        loop {
            let n = match nix::unistd::read(self.fd.as_raw_fd(), &mut buf) {
                Ok(n) if n > 0 => n,
                _ => break,
            };
            let mut at = 0;
            let head = std::mem::size_of::<libc::inotify_event>();
            while at + head <= n {
                // The kernel writes whole events: wd (i32), mask, cookie, len (u32), name.
                let field = |i: usize| {
                    let b = &buf[at + 4 * i..at + 4 * i + 4];
                    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
                };
                let mask = field(1);
                let len = field(3) as usize;
                if mask & (libc::IN_DELETE_SELF | libc::IN_MOVE_SELF | libc::IN_IGNORED) != 0 {
                    wake = Wake::DirGone;
                } else if wake == Wake::Timeout {
                    wake = Wake::Changed;
                }
                at += head + len;
            }
        }
        wake
    }
}

/// Tells a watch that sleeps in [`DirEvents::wait_or`] that its viewer left, waking it at once
/// (an eventfd), so that an idle watch can sleep long instead of waking to ask. Clones share
/// the signal.
#[derive(Clone, Default)]
pub struct WatchStop {
    inner: std::sync::Arc<StopInner>,
}

struct StopInner {
    stopped: std::sync::atomic::AtomicBool,
    fd: Option<OwnedFd>,
}

impl Default for StopInner {
    fn default() -> Self {
        // SAFETY: plain system call; the result is checked.
        let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        StopInner {
            stopped: Default::default(),
            // SAFETY: `eventfd` just returned this descriptor and nothing else owns it.
            fd: (raw >= 0).then(|| unsafe { OwnedFd::from_raw_fd(raw) }),
        }
    }
}

impl WatchStop {
    pub fn new() -> WatchStop {
        WatchStop::default()
    }

    /// Signals the stop (idempotent).
    pub fn stop(&self) {
        self.inner
            .stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(fd) = &self.inner.fd {
            let one = 1u64.to_ne_bytes();
            // A full counter (never, at one write per stop) only means it is signalled already.
            let _ = nix::unistd::write(fd, &one);
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether the stop can wake a sleeping watch (else the watch must wake to ask).
    pub fn wakes(&self) -> bool {
        self.inner.fd.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_on_writes_creations_rotations_and_removal() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("c");
        std::fs::create_dir(&dir).expect("mkdir");
        let ev = DirEvents::new(&dir).expect("inotify");
        assert_eq!(ev.wait(Duration::from_millis(20)), Wake::Timeout);
        let log = dir.join("log.json");
        std::fs::write(&log, b"one\n").expect("create");
        assert_eq!(ev.wait(Duration::from_secs(5)), Wake::Changed);
        // Every queued event was taken: nothing is left to wake on.
        assert_eq!(ev.wait(Duration::from_millis(20)), Wake::Timeout);
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("open");
        f.write_all(b"two\n").expect("append");
        // An open file keeps its directory's dentry, and so the directory's own deletion event,
        // until it is closed.
        drop(f);
        assert_eq!(ev.wait(Duration::from_secs(5)), Wake::Changed);
        std::fs::rename(&log, dir.join("log.json.1")).expect("rotate");
        assert_eq!(ev.wait(Duration::from_secs(5)), Wake::Changed);
        std::fs::remove_dir_all(&dir).expect("remove");
        // The files' deletions may wake a wait before the directory's own does.
        let mut wake = ev.wait(Duration::from_secs(5));
        while wake == Wake::Changed {
            wake = ev.wait(Duration::from_secs(5));
        }
        assert_eq!(wake, Wake::DirGone);
        assert!(
            DirEvents::new(&dir).is_none(),
            "a missing directory cannot be watched"
        );
    }

    #[test]
    fn a_stop_wakes_a_sleeping_wait() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ev = DirEvents::new(tmp.path()).expect("inotify");
        let stop = WatchStop::new();
        assert!(stop.wakes() && !stop.is_stopped());
        let other = stop.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.stop();
        });
        let started = std::time::Instant::now();
        assert_eq!(
            ev.wait_or(Duration::from_secs(30), Some(&stop)),
            Wake::Timeout
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "woken by the stop"
        );
        assert!(stop.is_stopped());
        t.join().unwrap();
        // A change still reads as one while a stop is pending.
        std::fs::write(tmp.path().join("f"), b"x").expect("write");
        assert_eq!(
            ev.wait_or(Duration::from_secs(5), Some(&stop)),
            Wake::Changed
        );
    }
}
