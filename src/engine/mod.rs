//! The daemonless container engine. See ARCHITECTURE: content → image → snapshot → runtime, with
//! the state database as the single source of truth shared by every berth process.

pub mod attach;
pub mod build;
pub mod compat;
pub mod compression;
pub mod container;
pub mod content;
pub mod distribution;
pub mod error;
pub mod events;
pub mod exec;
pub mod health;
pub mod image;
pub mod inroot;
pub mod journal;
pub mod layer;
pub mod layout;
pub mod lock;
pub mod logs;
pub mod monitor;
pub mod mounts;
pub mod network;
pub mod runtime;
pub mod shell;
pub mod snapshot;
pub mod staging;
pub mod state;
pub mod state_file;
pub mod state_schema;
pub mod stats;
pub(crate) mod syscall;
pub mod system;
pub mod system_check;
pub mod system_info;
pub mod trace;
pub mod users;
pub mod volume;

use std::path::Path;
use std::sync::Arc;

use tokio::sync::broadcast;

pub use distribution::manifest::Platform;
pub use distribution::pull::{PullOptions, PullResult};
pub use distribution::reference::ImageRef;
pub use error::{EngineError, ErrorKind, Result};
pub use events::{EngineEvent, LayerProgress, LayerState};
pub use image::gc::{PruneReport, RemoveReport};
pub use image::{ImageConfig, ImageRecord, ImageSummary, LayerRecord};
pub use layout::Layout;
use state::StateStore;
use syscall::{LinuxSyscall, Syscall};

/// A handle on one engine root. Cheap to clone; every clone shares the state connection and the
/// event channel.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    layout: Layout,
    state: StateStore,
    events: broadcast::Sender<EngineEvent>,
    sys: Arc<dyn Syscall>,
    /// The open counter files of the containers a viewer samples again and again.
    stats: std::sync::Mutex<stats::StatsTracker>,
}

impl Engine {
    /// Opens the engine at `root`, creating the directory tree and the database if needed.
    pub fn open(root: &Path) -> Result<Engine> {
        Self::open_with(root, Arc::new(LinuxSyscall))
    }

    /// Like [`Engine::open`], with the lifecycle's kernel calls going to `sys` (a recording
    /// fake in unit tests).
    pub(crate) fn open_with(root: &Path, sys: Arc<dyn Syscall>) -> Result<Engine> {
        // Paths under the root end up in records and in monitors that run in `/`: keep them
        // absolute.
        let root = std::path::absolute(root)
            .map_err(|e| EngineError::io_path("cannot resolve the engine root", root, e))?;
        let layout = Layout::new(root);
        layout.create()?;
        let state = StateStore::open(&layout.state_db())?;
        let (events, _) = broadcast::channel(4096);
        let engine = Engine {
            inner: Arc::new(Inner {
                layout,
                state,
                events,
                sys,
                stats: Default::default(),
            }),
        };
        // The networks of containers whose monitor is gone go first (cheap when there are none).
        match network::orphans::collect(&engine) {
            Ok(ids) if !ids.is_empty() => tracing::info!("collected the network of {ids:?}"),
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot collect leftover networks: {e}"),
        }
        Ok(engine)
    }

    /// Paths under the root.
    pub fn layout(&self) -> &Layout {
        &self.inner.layout
    }

    /// The state database.
    pub fn state(&self) -> &StateStore {
        &self.inner.state
    }

    /// For a long-lived process that reads the state now and then (the TUI): small database
    /// caches, given back after each use ([`StateStore::make_lean`]).
    pub fn make_lean(&self) {
        self.inner.state.make_lean();
    }

    /// Signals, liveness checks, monitor spawning and the lifecycle's clock.
    pub(crate) fn sys(&self) -> &dyn Syscall {
        self.inner.sys.as_ref()
    }

    /// A counter that grows with every change any process records in the state database:
    /// cheap to poll, to learn that lists need reloading.
    pub async fn generation(&self) -> Result<u64> {
        blocking(self, |e| e.state().generation()).await
    }

    /// Subscribes to engine events (pull progress, state changes) of this process.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    /// The stats tracker of [`Engine::tracked_stats`] (one sample at a time).
    pub(crate) fn stats_tracker(&self) -> std::sync::MutexGuard<'_, stats::StatsTracker> {
        // A panic mid-sample leaves at worst a stale descriptor, which the next read drops.
        self.inner.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes an event; nobody listening is fine.
    pub fn emit(&self, event: EngineEvent) {
        let _ = self.inner.events.send(event);
    }
}

/// Runs blocking engine work (SQLite, file system, locks, spawning monitors) on tokio's blocking
/// pool: the one way the engine's async API calls its blocking operations.
pub async fn blocking<T: Send + 'static>(
    engine: &Engine,
    f: impl FnOnce(&Engine) -> Result<T> + Send + 'static,
) -> Result<T> {
    let engine = engine.clone();
    off_thread(move || f(&engine)).await
}

/// Like [`blocking`], for work that needs no engine handle (a blob's lock, a socket connect).
pub(crate) async fn off_thread<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::caused(ErrorKind::Runtime, "engine task failed", e))?
}
