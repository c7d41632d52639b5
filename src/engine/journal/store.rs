//! The `events` table: every SQL statement on it.

use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction};

use super::{Event, EventType, KEEP};
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
        let nanos = event.time.timestamp_nanos_opt().unwrap_or(i64::MAX);
        let attributes = serde_json::to_string(&event.attributes)?;
        self.tx.execute(
            "INSERT INTO events(time_nano, type, action, actor_id, attributes) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                nanos,
                event.kind.as_str(),
                event.action,
                event.actor_id,
                attributes
            ],
        )?;
        let seq = self.tx.last_insert_rowid();
        if seq % 64 == 0 {
            self.tx
                .execute("DELETE FROM events WHERE seq <= ?1", params![seq - KEEP])?;
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
            let Some(kind) = EventType::parse(&kind) else {
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
