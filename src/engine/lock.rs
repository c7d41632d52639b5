//! Advisory file locks (flock) under `ROOT/locks`, shared by every berth process.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use super::error::{EngineError, Result};

/// An exclusive lock held until dropped.
pub struct FileLock {
    _lock: Flock<File>,
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| EngineError::io_path("cannot open lock file", path, e))
}

impl std::os::fd::AsRawFd for FileLock {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self._lock.as_raw_fd()
    }
}

impl FileLock {
    /// The lock held through `file`, an open file description that already holds it (one
    /// inherited across an `exec`): taking it again on the same description cannot block.
    pub fn from_locked(file: File) -> Result<FileLock> {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(FileLock { _lock: lock }),
            Err((_, e)) => Err(EngineError::Runtime(format!(
                "cannot take over the monitor's lock: {}",
                e.desc()
            ))),
        }
    }

    /// Blocks until the exclusive lock on `path` is held. Call from blocking code only.
    pub fn acquire(path: &Path) -> Result<FileLock> {
        let file = open(path)?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| EngineError::io_path("cannot lock", path, std::io::Error::from(e)))?;
        Ok(FileLock { _lock: lock })
    }

    /// Blocks until a shared lock on `path` is held (many holders at once, none exclusive).
    /// Call from blocking code only.
    pub fn acquire_shared(path: &Path) -> Result<FileLock> {
        let file = open(path)?;
        let lock = Flock::lock(file, FlockArg::LockShared)
            .map_err(|(_, e)| EngineError::io_path("cannot lock", path, std::io::Error::from(e)))?;
        Ok(FileLock { _lock: lock })
    }

    /// Takes the lock if it is free; `None` if another holder has it.
    pub fn try_acquire(path: &Path) -> Result<Option<FileLock>> {
        let file = open(path)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(Some(FileLock { _lock: lock })),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, e)) => Err(EngineError::io_path(
                "cannot lock",
                path,
                std::io::Error::from(e),
            )),
        }
    }
}

/// How long [`FileLock::acquire_within`] waits by default: `BERTH_LOCK_TIMEOUT` seconds, else 60.
pub fn default_wait() -> Duration {
    std::env::var("BERTH_LOCK_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(60))
}

impl FileLock {
    /// Waits up to `limit` for the exclusive lock on `path`; on timeout, fails with a
    /// `Conflict` that names `what` is locked and the process holding the lock. Call from
    /// blocking code only.
    pub fn acquire_within(path: &Path, what: &str, limit: Duration) -> Result<FileLock> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(lock) = FileLock::try_acquire(path)? {
                return Ok(lock);
            }
            if start.elapsed() >= limit {
                return Err(EngineError::Conflict(format!(
                    "{what} is busy: its lock {} has been held for over {} s by {}; wait for \
                     that process to finish, or end it if it is stuck",
                    path.display(),
                    limit.as_secs_f64().round(),
                    holder(path)
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

/// Describes the process holding a flock on `path`, from `/proc/locks` and its command line.
pub fn holder(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let unknown = || "an unknown process".to_string();
    let Ok(meta) = std::fs::metadata(path) else {
        return unknown();
    };
    let dev = meta.dev();
    let key = format!(
        "{:02x}:{:02x}:{}",
        libc::major(dev),
        libc::minor(dev),
        meta.ino()
    );
    let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
    let pids: Vec<i32> = locks
        .lines()
        .filter(|l| !l.contains("->"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
            (f.len() >= 6 && f[1] == "FLOCK" && f[5] == key).then(|| f[4].parse().ok())?
        })
        .collect();
    let Some(pid) = pids.first() else {
        return unknown();
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    if cmdline.is_empty() {
        format!("process {pid}")
    } else {
        format!("process {pid} ({cmdline})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_times_out_naming_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = FileLock::acquire(&path).unwrap();
        let e = FileLock::acquire_within(&path, "container x", Duration::from_millis(100))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("container x is busy"), "{e}");
        assert!(
            e.contains(&format!("process {}", std::process::id())),
            "{e}"
        );
        drop(held);
        assert!(FileLock::acquire_within(&path, "x", Duration::from_millis(100)).is_ok());
    }
}
