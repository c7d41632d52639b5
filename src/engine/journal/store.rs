//! The `events` table: every SQL statement on it.

use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction};

use super::{Event, EventType, KEEP, PROBE_KEEP};

/// The stored type of a health probe's exec events: a kind of their own, bounded apart
/// ([`PROBE_KEEP`]), read back as container events. A berth that does not know it skips
/// such rows.
const PROBE_TYPE: &str = "container/probe";
use crate::engine::error::Result;

/// The journal's rows, over the caller's transaction.
pub struct EventStore<'t> {
    tx: &'t Transaction<'t>,
}

impl<'t> EventStore<'t> {
    /// The table, in transaction `tx`.
    pub fn of(tx: &'t Transaction<'t>) -> Self {
        EventStore { tx }
    }

    /// Appends `event` (inside the change's own transaction), dropping the oldest rows beyond
    /// [`KEEP`] now and then.
    pub fn append(&self, event: &Event) -> Result<()> {
        self.insert(event, event.kind.as_str())
    }

    /// Appends an exec event of a health probe: kept apart, at most [`PROBE_KEEP`] of them, so
    /// that a container's probes never push the other events out of the journal.
    pub fn append_probe(&self, event: &Event) -> Result<()> {
        self.insert(event, PROBE_TYPE)
    }

    fn insert(&self, event: &Event, stored_type: &str) -> Result<()> {
        let nanos = event.time.timestamp_nanos_opt().unwrap_or(i64::MAX);
        let attributes = serde_json::to_string(&event.attributes)?;
        self.tx.execute(
            "INSERT INTO events(time_nano, type, action, actor_id, attributes) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![nanos, stored_type, event.action, event.actor_id, attributes],
        )?;
        if self.tx.last_insert_rowid() % 64 == 0 {
            self.trim()?;
        }
        Ok(())
    }

    /// Keeps the newest [`KEEP`] events and the newest [`PROBE_KEEP`] probe events.
    fn trim(&self) -> Result<()> {
        for (op, keep) in [("<>", KEEP), ("=", PROBE_KEEP)] {
            // The oldest row to keep, found from the newest end of the primary key.
            self.tx.execute(
                &format!(
                    "DELETE FROM events WHERE type {op} ?1 AND seq < \
                     (SELECT seq FROM events WHERE type {op} ?1 ORDER BY seq DESC \
                      LIMIT 1 OFFSET ?2)"
                ),
                params![PROBE_TYPE, keep - 1],
            )?;
        }
        Ok(())
    }

    /// Events after `after_seq` with `since <= time <= until`, oldest first, at most `limit`.
    pub fn read(
        &self,
        after_seq: i64,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<Event>> {
        let nanos = |t: Option<DateTime<Utc>>, none: i64| {
            t.and_then(|t| t.timestamp_nanos_opt()).unwrap_or(none)
        };
        let mut stmt = self.tx.prepare_cached(
            "SELECT seq, time_nano, type, action, actor_id, attributes FROM events \
             WHERE seq > ?1 AND time_nano >= ?2 AND time_nano <= ?3 ORDER BY seq LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![
                after_seq,
                nanos(since, i64::MIN),
                nanos(until, i64::MAX),
                limit as i64
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, nanos, kind, action, actor_id, attributes) = row?;
            // A row this berth does not understand (a newer one's type) is skipped.
            let kind = if kind == PROBE_TYPE {
                Some(EventType::Container)
            } else {
                EventType::parse(&kind)
            };
            let Some(kind) = kind else {
                continue;
            };
            out.push(Event {
                seq,
                time: DateTime::from_timestamp_nanos(nanos),
                kind,
                action,
                actor_id,
                attributes: serde_json::from_str(&attributes).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The newest event's position (0 for an empty journal).
    pub fn last_seq(&self) -> Result<i64> {
        Ok(self
            .tx
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?)
    }
}
