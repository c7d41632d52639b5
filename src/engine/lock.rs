//! Advisory file locks (flock) under `ROOT/locks`, shared by every berth process.

use std::fs::{File, OpenOptions};
use std::path::Path;

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

impl FileLock {
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
