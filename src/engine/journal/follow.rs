//! Reading the journal: the events of a time window, and following it live. Following reads the
//! table for rows past the last one seen (an indexed read), so it sees events written by any
//! process; it reads when the state database's directory changes (every commit appends to the
//! WAL file, which inotify reports), and at least every few seconds, so an idle follower
//! sleeps instead of polling five times a second.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::{Event, EventFilter, EventStore};
use crate::engine::error::{EngineError, Result};
use crate::engine::Engine;

/// How often a follower looks for new rows without inotify.
const POLL: Duration = Duration::from_millis(200);
/// How long a follower with inotify sleeps at most between two looks (a backstop for a change
/// that inotify did not report, and for noticing a dropped receiver).
const IDLE: Duration = Duration::from_secs(5);
/// Rows read per query.
const BATCH: usize = 512;

/// What `events` asks for.
#[derive(Debug, Clone, Default)]
pub struct EventsQuery {
    /// Past events from this time (none: only new events).
    pub since: Option<DateTime<Utc>>,
    /// Stop at this time (none: follow until dropped).
    pub until: Option<DateTime<Utc>>,
    pub filter: EventFilter,
}

impl Engine {
    /// The recorded events of `query`'s window up to now, oldest first.
    pub fn events(&self, query: &EventsQuery) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let batch = self
                .state()
                .read(|tx| EventStore::of(tx).read(after, query.since, query.until, BATCH))?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            out.extend(batch.into_iter().filter(|e| query.filter.matches(e)));
        }
        Ok(out)
    }

    /// Events as they are recorded: first the past ones from `since` (if given), then new ones
    /// until `until` passes (or forever), until the receiver is dropped. A failed read is sent
    /// and ends the stream.
    pub fn follow_events(&self, query: EventsQuery) -> Result<mpsc::Receiver<Result<Event>>> {
        let engine = self.clone();
        // Where "new" starts, taken now so nothing recorded after this call is missed.
        let start = self.state().read(|tx| EventStore::of(tx).last_seq())?;
        let (tx, rx) = mpsc::channel(256);
        // Watched before the first read, so that no commit after it goes unnoticed.
        let changes = self
            .state()
            .path()
            .parent()
            .and_then(crate::engine::container::dir_events::DirEvents::new);
        std::thread::Builder::new()
            .name("berth-events".into())
            .spawn(move || {
                // With a window given, the past in it too; else only what comes next.
                let past = query.since.is_some() || query.until.is_some();
                let mut after = if past { 0 } else { start };
                loop {
                    let batch = engine
                        .state()
                        .read(|t| EventStore::of(t).read(after, query.since, query.until, BATCH));
                    let batch = match batch {
                        Ok(b) => b,
                        Err(e) => {
                            let _ = tx.blocking_send(Err(e));
                            return;
                        }
                    };
                    let full = batch.len() == BATCH;
                    for e in batch {
                        after = e.seq;
                        if query.filter.matches(&e) && tx.blocking_send(Ok(e)).is_err() {
                            return;
                        }
                    }
                    if full {
                        continue;
                    }
                    if query.until.is_some_and(|u| Utc::now() > u) || tx.is_closed() {
                        return;
                    }
                    match &changes {
                        Some(dir) => {
                            let timeout = match query.until {
                                Some(u) => (u - Utc::now()).to_std().unwrap_or_default().min(IDLE),
                                None => IDLE,
                            };
                            dir.wait(timeout);
                        }
                        None => std::thread::sleep(POLL),
                    }
                }
            })
            .map_err(|e| EngineError::io("cannot start the events thread", e))?;
        Ok(rx)
    }
}
