//! Stopping a build and collecting what a killed one left.
//!
//! A [`BuildCancel`] is shared between the build and whoever may stop it (the CLI on SIGINT or
//! SIGTERM, the TUI): `cancel` marks the build cancelled and kills the RUN container it is
//! waiting for, so the build thread wakes up, removes the container and its staging
//! directories on the way out (their guards) and returns [`EngineError::Cancelled`].
//!
//! A build process killed outright (SIGKILL) runs no guard. Each build holds
//! `locks/build-<token>.lock` from its start to its end ([`BuildOwner`]) and its RUN containers
//! carry the label [`BUILD_LABEL`]`=<token>`, so a labelled container whose lock is free was
//! made by a build that is gone: [`Engine::collect_build_leftovers`]
//! (at the start of every build and in `builder prune`) removes such containers, and sweeps the
//! staging directories, unmounting the read-only views a `COPY --from` left mounted in them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::engine::container;
use crate::engine::error::{EngineError, Result};
use crate::engine::lock::FileLock;
use crate::engine::Engine;

/// The label every RUN container of a build carries.
pub const BUILD_LABEL: &str = "berth.build";

/// Stops a running build from another thread.
#[derive(Debug, Default)]
pub struct BuildCancel {
    cancelled: AtomicBool,
    /// The RUN containers the build is waiting for (one per stage building).
    current: Mutex<Vec<String>>,
}

impl BuildCancel {
    /// A handle for one build.
    pub fn new() -> BuildCancel {
        BuildCancel::default()
    }

    /// Marks the build cancelled and kills its RUN containers. Blocking.
    pub fn cancel(&self, engine: &Engine) {
        self.cancelled.store(true, Ordering::SeqCst);
        let current = self.current.lock().map(|c| c.clone()).unwrap_or_default();
        for id in current {
            // Not running yet or gone already: the build sees the flag after its start.
            let _ = container::kill(engine, &id, None);
        }
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// An error when the build was cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(EngineError::Cancelled("the build was cancelled".into()))
        } else {
            Ok(())
        }
    }

    /// A RUN container starts (`running`) or is gone.
    pub(super) fn track(&self, id: &str, running: bool) {
        if let Ok(mut c) = self.current.lock() {
            c.retain(|x| x != id);
            if running {
                c.push(id.to_string());
            }
        }
    }
}

fn owner_lock(engine: &Engine, token: &str) -> PathBuf {
    engine
        .layout()
        .locks_dir()
        .join(format!("build-{token}.lock"))
}

/// A running build: its token and the lock it holds while it runs.
pub(super) struct BuildOwner {
    pub(super) token: String,
    path: PathBuf,
    lock: Option<FileLock>,
}

impl BuildOwner {
    /// Takes a fresh token's lock.
    pub(super) fn acquire(engine: &Engine) -> Result<BuildOwner> {
        let token = hex::encode(rand::random::<[u8; 8]>());
        let path = owner_lock(engine, &token);
        let lock = FileLock::acquire(&path)?;
        Ok(BuildOwner {
            token,
            path,
            lock: Some(lock),
        })
    }
}

impl Drop for BuildOwner {
    fn drop(&mut self) {
        drop(self.lock.take());
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Engine {
    /// Removes the RUN containers of builds that are gone, with their lock files, and the
    /// staging directories nobody owns (unmounting what is mounted in them). Returns how many
    /// containers went. Blocking.
    pub fn collect_build_leftovers(&self) -> Result<usize> {
        let mut removed = 0;
        for rec in container::list(self)? {
            let Some(token) = rec.config.labels.get(BUILD_LABEL) else {
                continue;
            };
            if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let lock_path = owner_lock(self, token);
            let Some(lock) = FileLock::try_acquire(&lock_path)? else {
                continue; // its build still runs
            };
            match container::remove(self, &rec.id, true) {
                Ok(()) => removed += 1,
                Err(e) if e.is(crate::engine::error::ErrorKind::NotFound) => {}
                Err(e) => return Err(e),
            }
            drop(lock);
            let _ = std::fs::remove_file(&lock_path);
        }
        crate::engine::staging::sweep(self.layout());
        Ok(removed)
    }
}
