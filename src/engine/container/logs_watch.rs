//! Watching a container's log for a viewer that stays open (the TUI's log pane): unlike `logs
//! -f` ([`super::logs`]), which ends when the container stops, a watch waits for a log that does
//! not exist yet and keeps following across restarts (the monitor appends to the same file),
//! until the container is removed or the viewer stops listening.

use std::time::Duration;

use super::store;
use super::store::ContainerStore;
use crate::engine::error::Result;
use crate::engine::logs::{LogEntry, LogOptions, LogReader};
use crate::engine::Engine;

/// Entries handed to the viewer in one call at most.
pub const BATCH: usize = 2048;
/// How often a watch looks for new entries when there were none.
const POLL: Duration = Duration::from_millis(40);

/// Follows the log of container `id`, handing entries to `sink` in batches of at most
/// [`BATCH`]; ends when `sink` returns false, when `gone` says the viewer left, or when the
/// container is removed. Blocks.
pub fn watch(
    engine: &Engine,
    id: &str,
    options: LogOptions,
    gone: &dyn Fn() -> bool,
    sink: &mut dyn FnMut(&[LogEntry]) -> bool,
) -> Result<()> {
    let rec = store::load(engine.state(), id)?;
    if !rec.host_config.log_config.policy()?.readable() {
        return Err(crate::engine::logs::config::not_readable());
    }
    let path = engine.layout().container_dir(id).join("log.json");
    let exists = || -> Result<bool> {
        Ok(engine
            .state()
            .read(|tx| ContainerStore::of(tx).get(id))?
            .is_some())
    };
    // A container that never ran has no log file yet: wait for it to appear.
    while !path.exists() {
        if gone() || !exists()? {
            return Ok(());
        }
        std::thread::sleep(POLL * 5);
    }
    let mut reader = LogReader::open(&path, options)?;
    let mut entries = reader.read_existing()?;
    let mut idle = 0u32;
    loop {
        if !entries.is_empty() {
            idle = 0;
            for chunk in entries.chunks(BATCH) {
                if !sink(chunk) {
                    return Ok(());
                }
            }
        } else {
            idle += 1;
            if gone() {
                return Ok(());
            }
            // About once a second, see whether the container still exists.
            if idle.is_multiple_of(25) && !exists()? {
                return Ok(());
            }
            std::thread::sleep(POLL);
        }
        entries = reader.read_available()?;
    }
}
