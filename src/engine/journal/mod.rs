//! The events journal (`berth events`): every state change, appended to the `events` table of
//! `state.db` by whichever process makes it (the CLI, the TUI, a monitor), in the same
//! transaction as the change, so an event is recorded exactly when its change is. Bounded: the
//! oldest rows beyond [`KEEP`] are dropped as new ones arrive.

pub mod filter;
pub mod follow;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction};
use serde::Serialize;

pub use filter::EventFilter;

use crate::engine::container::ContainerRecord;
use crate::engine::error::Result;
use crate::engine::Engine;

/// How many events the journal keeps (docker keeps 256 in memory; this survives restarts).
pub const KEEP: i64 = 10_000;

/// What an event is about (docker's `Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Container,
    Image,
    Volume,
    Network,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Container => "container",
            EventType::Image => "image",
            EventType::Volume => "volume",
            EventType::Network => "network",
        }
    }

    fn parse(s: &str) -> Option<EventType> {
        Some(match s {
            "container" => EventType::Container,
            "image" => EventType::Image,
            "volume" => EventType::Volume,
            "network" => EventType::Network,
            _ => return None,
        })
    }
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Position in the journal (increasing).
    pub seq: i64,
    pub time: DateTime<Utc>,
    pub kind: EventType,
    /// `create`, `start`, `die`, … (exec: `exec_create: CMD`, as docker names them).
    pub action: String,
    /// The object: a container or image id, a volume name.
    pub actor_id: String,
    /// `name`, `image`, `exitCode`, `signal`, labels…
    pub attributes: BTreeMap<String, String>,
}

impl Event {
    /// A new event (its `seq` is set when recorded).
    pub fn new(kind: EventType, action: impl Into<String>, actor_id: impl Into<String>) -> Event {
        Event {
            seq: 0,
            time: Utc::now(),
            kind,
            action: action.into(),
            actor_id: actor_id.into(),
            attributes: BTreeMap::new(),
        }
    }

    /// A container event with docker's attributes: the container's labels, `image` and `name`.
    pub fn container(rec: &ContainerRecord, action: impl Into<String>) -> Event {
        let mut e = Event::new(EventType::Container, action, rec.id.clone());
        e.attributes = rec.config.labels.clone().into_iter().collect();
        e.attributes.insert("image".into(), rec.image.clone());
        e.attributes.insert("name".into(), rec.name.clone());
        e
    }

    /// Sets the action.
    pub fn with_action(mut self, action: impl Into<String>) -> Event {
        self.action = action.into();
        self
    }

    /// Adds an attribute.
    pub fn with(mut self, key: &str, value: impl ToString) -> Event {
        self.attributes.insert(key.to_string(), value.to_string());
        self
    }
}

/// Appends `event` inside transaction `tx` (the change's own), dropping the oldest rows beyond
/// [`KEEP`] now and then.
pub fn record(tx: &Transaction<'_>, event: &Event) -> Result<()> {
    let nanos = event.time.timestamp_nanos_opt().unwrap_or(i64::MAX);
    let attributes = serde_json::to_string(&event.attributes)?;
    tx.execute(
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
    let seq = tx.last_insert_rowid();
    if seq % 64 == 0 {
        tx.execute("DELETE FROM events WHERE seq <= ?1", params![seq - KEEP])?;
    }
    Ok(())
}

/// Records `event` in a transaction of its own (for changes that are not a database write:
/// a signal sent).
pub fn record_alone(engine: &Engine, event: &Event) -> Result<()> {
    engine.state().write(|tx| record(tx, event))
}

/// Events after `after_seq` with `since <= time <= until`, oldest first, at most `limit`.
pub fn read(
    tx: &Transaction<'_>,
    after_seq: i64,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    limit: usize,
) -> Result<Vec<Event>> {
    let nanos = |t: Option<DateTime<Utc>>, none: i64| {
        t.and_then(|t| t.timestamp_nanos_opt()).unwrap_or(none)
    };
    let mut stmt = tx.prepare_cached(
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
pub fn last_seq(tx: &Transaction<'_>) -> Result<i64> {
    Ok(tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_keeps_only_its_newest_rows() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let total = KEEP + 300;
        engine
            .state()
            .write(|tx| {
                for i in 0..total {
                    record(
                        tx,
                        &Event::new(EventType::Volume, "create", format!("v{i}")),
                    )?;
                }
                Ok(())
            })
            .unwrap();
        let (count, oldest): (i64, i64) = engine
            .state()
            .read(|tx| {
                Ok(
                    tx.query_row("SELECT COUNT(*), MIN(seq) FROM events", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?,
                )
            })
            .unwrap();
        assert!((KEEP..=KEEP + 64).contains(&count), "{count}");
        assert!(oldest > 300 - 64, "{oldest}");
        // The newest are all there, in order.
        let last = engine
            .state()
            .read(|tx| read(tx, total - 3, None, None, 10))
            .unwrap();
        let ids: Vec<&str> = last.iter().map(|e| e.actor_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                format!("v{}", total - 3),
                format!("v{}", total - 2),
                format!("v{}", total - 1)
            ]
        );
    }

    #[test]
    fn a_failed_change_leaves_no_event() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let r: Result<()> = engine.state().write(|tx| {
            record(tx, &Event::new(EventType::Volume, "create", "v"))?;
            Err(crate::engine::EngineError::InvalidInput(
                "the change failed".into(),
            ))
        });
        assert!(r.is_err());
        let events = engine.events(&follow::EventsQuery::default()).unwrap();
        assert!(events.is_empty(), "{events:?}");
    }
}
