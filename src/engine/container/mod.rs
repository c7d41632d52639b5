//! Containers: records and their state machine, and one file per operation. Every operation
//! takes the container's lock (`locks/<id>.lock`), reloads the record, checks the state guard,
//! acts and saves; the monitor does the same when it records an exit.
//!
//! The functions here block (file locks, waiting for exits); async callers (the TUI) run them on
//! a blocking thread, e.g. `tokio::task::spawn_blocking`.

pub mod api;
pub mod cleanup;
pub mod cp;
pub mod create;
pub mod create_net;
pub mod dir_events;
pub mod disk;
pub mod etc_files;
pub mod export;
pub mod files_api;
pub mod image_source;
pub mod labels;
pub mod limits;
pub mod logs;
pub(crate) mod logs_watch;
pub(crate) mod names;
pub mod network_mode;
pub(crate) mod orphans;
pub(crate) mod pause;
pub mod query;
pub(crate) mod reconcile;
pub mod record;
pub(crate) mod remove;
pub mod restart_policy;
pub(crate) mod restore;
pub(crate) mod run;
pub(crate) mod signal;
pub(crate) mod start;
pub(crate) mod stop;
pub(crate) mod store;
pub mod tree_tar;
pub(crate) mod update;

#[cfg(test)]
mod lifecycle_tests;

pub use create::{create, CreateOptions};
pub use limits::parse_size;
pub use logs::{open as logs, ContainerLogs};
pub use network_mode::NetworkMode;
pub(crate) use pause::{pause, unpause};
pub use query::{apply_filters, get, list, rename, top, Filter, TopProcess};
pub use record::{ContainerRecord, Status};
pub use remove::Pruned;
pub(crate) use remove::{prune, remove, remove_with_volumes};
pub(crate) use run::{run, start_new};
pub(crate) use start::{start, start_with};
pub(crate) use stop::{kill, restart, stop, wait};

use crate::engine::error::Result;
use crate::engine::Engine;

/// Resolves a user's reference (name, full id or unique id prefix) to a full id.
pub fn resolve(engine: &Engine, reference: &str) -> Result<String> {
    store::resolve(engine.state(), reference)
}
