//! The `volumes` table: every SQL statement on it.

use rusqlite::{params, OptionalExtension, Transaction};

use super::Record;
use crate::engine::error::{EngineError, Result};

/// Volume records (name, [`Record`] as JSON, creation time), over the caller's transaction (so
/// a change and its journal event commit together).
pub(crate) struct VolumeStore<'t> {
    tx: &'t Transaction<'t>,
}

fn parse(name: &str, record: &str) -> Result<Record> {
    serde_json::from_str(record)
        .map_err(|e| EngineError::State(format!("the record of volume {name} is malformed: {e}")))
}

impl<'t> VolumeStore<'t> {
    /// The table, in transaction `tx`.
    pub fn of(tx: &'t Transaction<'t>) -> Self {
        VolumeStore { tx }
    }

    /// The record of volume `name` and when it was created (RFC 3339).
    pub fn get(&self, name: &str) -> Result<Option<(Record, String)>> {
        let row: Option<(String, String)> = self
            .tx
            .query_row(
                "SELECT record, created FROM volumes WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(record, created)| Ok((parse(name, &record)?, created)))
            .transpose()
    }

    /// Whether volume `name` has a record.
    pub fn exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .tx
            .query_row("SELECT 1 FROM volumes WHERE name = ?1", [name], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Every volume as (name, record, created), by name.
    pub fn list(&self) -> Result<Vec<(String, Record, String)>> {
        let mut stmt = self
            .tx
            .prepare("SELECT name, record, created FROM volumes ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (name, record, created) = row?;
            let record = parse(&name, &record)?;
            out.push((name, record, created));
        }
        Ok(out)
    }

    /// Adds the record of a new volume.
    pub fn insert(&self, name: &str, record: &Record, created: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO volumes(name, record, created) VALUES (?1, ?2, ?3)",
            params![name, serde_json::to_string(record)?, created],
        )?;
        Ok(())
    }

    /// Deletes the record of volume `name`.
    pub fn delete(&self, name: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM volumes WHERE name = ?1", [name])?;
        Ok(())
    }
}
