//! Watching a container's log for a viewer that stays open (the TUI's log pane): unlike `logs
//! -f` ([`super::logs`]), which ends when the container stops, a watch waits for a log that does
//! not exist yet and keeps following across restarts (the monitor appends to the same file),
//! until the container is removed or the viewer stops listening.

use std::time::{Duration, Instant};

use super::dir_events::{DirEvents, Wake, WatchStop};
use super::store;
use super::store::ContainerStore;
use crate::engine::error::Result;
use crate::engine::logs::{LogEntry, LogOptions, LogReader};
use crate::engine::Engine;

/// Entries handed to the viewer in one call at most.
pub const BATCH: usize = 2048;
/// How often a watch without inotify looks for new entries when there were none.
const POLL: Duration = Duration::from_millis(40);
/// How long a watch with inotify sleeps at most before it asks whether the viewer left (when
/// the viewer's [`WatchStop`] cannot wake it).
const IDLE: Duration = Duration::from_secs(1);
/// How long a watch sleeps at most when the viewer's stop wakes it: only to see, now and then,
/// that the container still exists.
const IDLE_WOKEN: Duration = Duration::from_secs(30);
/// Reads of a busy log at most this often, so a chatty container's lines arrive in batches.
const MIN_GAP: Duration = Duration::from_millis(20);
/// Idle wakes (with inotify, woken only by a change or after [`IDLE`]) between checks that the
/// container still exists, in case its directory outlives the record.
const EXISTS_EVERY: u32 = 30;

/// Follows the log of container `id`, handing entries to `sink` in batches of at most
/// [`BATCH`]; ends when `sink` returns false, when `stop` says the viewer left, or when the
/// container is removed. Blocks. Sleeps on inotify events of the container's directory (the log
/// written, created, rotated; the directory removed) and on `stop`, or polls where inotify is
/// not available. A stopped container's watch thus sleeps until its viewer leaves.
pub fn watch(
    engine: &Engine,
    id: &str,
    options: LogOptions,
    stop: &WatchStop,
    sink: &mut dyn FnMut(&[LogEntry]) -> bool,
) -> Result<()> {
    let gone = || stop.is_stopped();
    let (idle_for, exists_every) = if stop.wakes() {
        (IDLE_WOKEN, 1)
    } else {
        (IDLE, EXISTS_EVERY)
    };
    let rec = store::load(engine.state(), id)?;
    if !rec.host_config.log_config.policy()?.readable() {
        return Err(crate::engine::logs::config::not_readable());
    }
    let dir = engine.layout().container_dir(id);
    let path = dir.join("log.json");
    let exists = || -> Result<bool> {
        Ok(engine
            .state()
            .read(|tx| ContainerStore::of(tx).get(id))?
            .is_some())
    };
    // Set up before the first look at the log, so nothing written after it is missed.
    let events = DirEvents::new(&dir);
    let mut idle = 0u32;
    // Sleeps until something may have changed; false when the watch should end.
    let wait = |idle: &mut u32| -> Result<bool> {
        *idle += 1;
        if gone() {
            return Ok(false);
        }
        match &events {
            Some(ev) => match ev.wait_or(idle_for, Some(stop)) {
                Wake::Changed => {}
                Wake::DirGone => return exists(),
                Wake::Timeout => {
                    if gone() {
                        return Ok(false);
                    }
                    if idle.is_multiple_of(exists_every) && !exists()? {
                        return Ok(false);
                    }
                }
            },
            None => {
                // About once a second, see whether the container still exists.
                if idle.is_multiple_of(25) && !exists()? {
                    return Ok(false);
                }
                std::thread::sleep(POLL);
            }
        }
        Ok(true)
    };
    // A container that never ran has no log file yet: wait for it to appear.
    while !path.exists() {
        if !exists()? || !wait(&mut idle)? {
            return Ok(());
        }
    }
    let mut reader = LogReader::open(&path, options)?;
    let mut entries = reader.read_existing()?;
    let mut last_read = Instant::now();
    loop {
        if !entries.is_empty() {
            idle = 0;
            for chunk in entries.chunks(BATCH) {
                if !sink(chunk) {
                    return Ok(());
                }
            }
        } else if !wait(&mut idle)? {
            return Ok(());
        }
        if let Some(rest) = MIN_GAP.checked_sub(last_read.elapsed()) {
            if events.is_some() {
                std::thread::sleep(rest);
            }
        }
        last_read = Instant::now();
        entries = reader.read_available()?;
    }
}
