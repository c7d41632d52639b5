//! The `health` table of `state.db`: one row per container that has had a health check, in
//! docker's `State.Health` shape. Its own table, so that whoever saves a container record (in
//! a transaction that began before a probe ended) never writes back an older health.

use rusqlite::{params, OptionalExtension, Transaction};

use crate::engine::compat::health::Health;
use crate::engine::container::ContainerRecord;
use crate::engine::error::Result;

/// Containers' health, over the caller's transaction.
pub struct HealthStore<'t> {
    tx: &'t Transaction<'t>,
}

impl<'t> HealthStore<'t> {
    /// The table, in transaction `tx`.
    pub fn of(tx: &'t Transaction<'t>) -> Self {
        HealthStore { tx }
    }

    /// The container's health, if it has had a check.
    pub fn get(&self, id: &str) -> Result<Option<Health>> {
        let text: Option<String> = self
            .tx
            .query_row(
                "SELECT state FROM health WHERE container_id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text.and_then(|t| parse(&t)))
    }

    /// Every container's health, by container id.
    pub fn all(&self) -> Result<std::collections::HashMap<String, Health>> {
        let mut stmt = self.tx.prepare("SELECT container_id, state FROM health")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let (id, text) = row?;
            if let Some(h) = parse(&text) {
                out.insert(id, h);
            }
        }
        Ok(out)
    }

    /// Stores the container's health.
    pub fn put(&self, id: &str, health: &Health) -> Result<()> {
        self.tx.execute(
            "INSERT INTO health(container_id, state) VALUES (?1, ?2) \
             ON CONFLICT(container_id) DO UPDATE SET state = excluded.state",
            params![id, serde_json::to_string(health)?],
        )?;
        Ok(())
    }

    /// Forgets the container's health (it is removed).
    pub fn delete(&self, id: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM health WHERE container_id = ?1", params![id])?;
        Ok(())
    }

    /// At a start (in the start's transaction): a container with an active check is `starting`
    /// again, with its earlier results kept.
    pub fn on_start(&self, rec: &ContainerRecord) -> Result<()> {
        if !rec.health_active() {
            return Ok(());
        }
        let h = super::state::started(self.get(&rec.id)?);
        self.put(&rec.id, &h)
    }
}

/// A stored health; an unreadable one (a newer berth's) counts as none.
fn parse(text: &str) -> Option<Health> {
    serde_json::from_str(text).ok()
}
