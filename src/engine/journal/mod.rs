//! The events journal (`berth events`): every state change, appended to the `events` table of
//! `state.db` by whichever process makes it (the CLI, the TUI, a monitor), in the same
//! transaction as the change, so an event is recorded exactly when its change is. Bounded: the
//! oldest rows beyond [`KEEP`] are dropped as new ones arrive; health probes' exec events are
//! bounded apart ([`PROBE_KEEP`]).

mod actors;
pub mod filter;
pub mod follow;
pub(crate) mod store;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::Transaction;
use serde::Serialize;

pub use filter::EventFilter;
pub use store::EventStore;

use crate::engine::container::ContainerRecord;
use crate::engine::error::Result;
use crate::engine::Engine;

/// How many events the journal keeps (docker keeps 256 in memory; this survives restarts).
pub const KEEP: i64 = 10_000;

/// How many exec events of health probes it keeps besides (`exec_create`, `exec_start`,
/// `exec_die` of each probe, as docker shows them): a check every 30 s would otherwise fill the
/// journal in about a day.
pub const PROBE_KEEP: i64 = 1_500;

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

/// Appends `event` inside transaction `tx` (the change's own): [`EventStore::append`], the
/// call every change makes.
pub fn record(tx: &Transaction<'_>, event: &Event) -> Result<()> {
    EventStore::of(tx).append(event)
}

/// Appends a health probe's exec event inside `tx` ([`EventStore::append_probe`]).
pub fn record_probe(tx: &Transaction<'_>, event: &Event) -> Result<()> {
    EventStore::of(tx).append_probe(event)
}

/// Records `event` in a transaction of its own (for changes that are not a database write:
/// a signal sent).
pub fn record_alone(engine: &Engine, event: &Event) -> Result<()> {
    engine.state().write(|tx| record(tx, event))
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
            .read(|tx| EventStore::of(tx).read(total - 3, None, None, 10))
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
    fn probe_events_are_bounded_apart_and_read_as_container_events() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        engine
            .state()
            .write(|tx| {
                record(tx, &Event::new(EventType::Container, "create", "c"))?;
                for i in 0..PROBE_KEEP * 3 {
                    let e = Event::new(EventType::Container, "exec_die", "c").with("n", i);
                    record_probe(tx, &e)?;
                }
                record(tx, &Event::new(EventType::Container, "destroy", "c"))?;
                Ok(())
            })
            .unwrap();
        let all = engine
            .state()
            .read(|tx| EventStore::of(tx).read(0, None, None, usize::MAX))
            .unwrap();
        // The ordinary events stay, however many probes ran between them.
        assert_eq!(all.first().map(|e| e.action.as_str()), Some("create"));
        assert_eq!(all.last().map(|e| e.action.as_str()), Some("destroy"));
        let probes: Vec<&Event> = all.iter().filter(|e| e.action == "exec_die").collect();
        assert!(
            (PROBE_KEEP..=PROBE_KEEP + 64).contains(&(probes.len() as i64)),
            "{}",
            probes.len()
        );
        // The newest probes, as container events.
        let last = probes.last().unwrap();
        assert_eq!(last.kind, EventType::Container);
        assert_eq!(last.attributes["n"], (PROBE_KEEP * 3 - 1).to_string());
        let filter = EventFilter::parse(&["type=container".to_string()]).unwrap();
        assert!(filter.matches(last));
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
