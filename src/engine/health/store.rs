//! The `health` table of `state.db`: one row per container that has had a health check, in
//! docker's `State.Health` shape. Its own table, so that whoever saves a container record (in
//! a transaction that began before a probe ended) never writes back an older health.

use rusqlite::{params, OptionalExtension, Transaction};

use crate::engine::compat::health::Health;
use crate::engine::container::ContainerRecord;
use crate::engine::error::Result;

/// The container's health, if it has had a check.
pub fn get(tx: &Transaction<'_>, id: &str) -> Result<Option<Health>> {
    let text: Option<String> = tx
        .query_row(
            "SELECT state FROM health WHERE container_id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(text.and_then(|t| parse(&t)))
}

/// A stored health; an unreadable one (a newer berth's) counts as none.
pub fn parse(text: &str) -> Option<Health> {
    serde_json::from_str(text).ok()
}

/// Stores the container's health.
pub fn put(tx: &Transaction<'_>, id: &str, health: &Health) -> Result<()> {
    tx.execute(
        "INSERT INTO health(container_id, state) VALUES (?1, ?2) \
         ON CONFLICT(container_id) DO UPDATE SET state = excluded.state",
        params![id, serde_json::to_string(health)?],
    )?;
    Ok(())
}

/// Forgets the container's health (it is removed).
pub fn delete(tx: &Transaction<'_>, id: &str) -> Result<()> {
    tx.execute("DELETE FROM health WHERE container_id = ?1", params![id])?;
    Ok(())
}

/// At a start (in the start's transaction): a container with an active check is `starting`
/// again, with its earlier results kept.
pub fn on_start(tx: &Transaction<'_>, rec: &ContainerRecord) -> Result<()> {
    let active = rec
        .config
        .healthcheck
        .as_ref()
        .and_then(|h| h.probe())
        .is_some();
    if !active {
        return Ok(());
    }
    let h = super::state::started(get(tx, &rec.id)?);
    put(tx, &rec.id, &h)
}
