//! Container records in the `containers` table, lookups by id, unique id prefix or name, and the
//! per-container lock (`locks/<id>.lock`) that every operation holds while it acts.

use rusqlite::{params, OptionalExtension, Transaction};

use super::record::ContainerRecord;
use crate::engine::error::{EngineError, Result};
use crate::engine::lock::FileLock;
use crate::engine::state::StateStore;
use crate::engine::Layout;

/// Inserts a new record; the name must be free.
pub fn insert(tx: &Transaction<'_>, rec: &ContainerRecord) -> Result<()> {
    let taken: Option<String> = tx
        .query_row(
            "SELECT id FROM containers WHERE name = ?1",
            params![rec.name],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(other) = taken {
        return Err(EngineError::Conflict(format!(
            "the container name \"/{}\" is already in use by container \"{other}\": remove or \
             rename that container, or choose another name",
            rec.name
        )));
    }
    tx.execute(
        "INSERT INTO containers(id, name, image_id, record, created) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            rec.id,
            rec.name,
            rec.image_id,
            serde_json::to_string(rec)?,
            rec.created.to_rfc3339()
        ],
    )?;
    Ok(())
}

/// Saves an existing record (name included).
pub fn save(tx: &Transaction<'_>, rec: &ContainerRecord) -> Result<()> {
    let n = tx.execute(
        "UPDATE containers SET name = ?2, record = ?3 WHERE id = ?1",
        params![rec.id, rec.name, serde_json::to_string(rec)?],
    )?;
    if n == 0 {
        return Err(EngineError::NotFound(format!(
            "no such container: {}",
            rec.id
        )));
    }
    Ok(())
}

/// Deletes a record.
pub fn delete(tx: &Transaction<'_>, id: &str) -> Result<()> {
    tx.execute("DELETE FROM containers WHERE id = ?1", params![id])?;
    crate::engine::health::store::delete(tx, id)
}

/// A record from its stored JSON, with its health (the `health` table's row) when it has one.
fn decode(record: &str, health: Option<String>) -> Result<ContainerRecord> {
    let mut rec: ContainerRecord = serde_json::from_str(record)?;
    rec.health = health.and_then(|h| crate::engine::health::store::parse(&h));
    Ok(rec)
}

/// Loads a record by full id.
pub fn get(tx: &Transaction<'_>, id: &str) -> Result<Option<ContainerRecord>> {
    let row: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT c.record, h.state FROM containers c \
             LEFT JOIN health h ON h.container_id = c.id WHERE c.id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(r, h)| decode(&r, h)).transpose()
}

/// Every record, newest first.
pub fn list(tx: &Transaction<'_>) -> Result<Vec<ContainerRecord>> {
    let mut stmt = tx.prepare(
        "SELECT c.record, h.state FROM containers c \
         LEFT JOIN health h ON h.container_id = c.id ORDER BY c.created DESC, c.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (r, h) = row?;
        out.push(decode(&r, h)?);
    }
    Ok(out)
}

/// How many containers use each image (image id → count).
pub fn count_by_image(tx: &Transaction<'_>) -> Result<std::collections::HashMap<String, usize>> {
    let mut stmt = tx.prepare("SELECT image_id, COUNT(*) FROM containers GROUP BY image_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = std::collections::HashMap::new();
    for row in rows {
        let (image, n) = row?;
        out.insert(image, usize::try_from(n).unwrap_or(0));
    }
    Ok(out)
}

/// Whether a name is taken.
pub fn name_taken(tx: &Transaction<'_>, name: &str) -> Result<bool> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM containers WHERE name = ?1",
            params![name],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Resolves a user's reference (full id, name, or unique id prefix) to a full id.
pub fn resolve(state: &StateStore, reference: &str) -> Result<String> {
    let reference = reference.strip_prefix('/').unwrap_or(reference);
    if reference.is_empty() {
        return Err(EngineError::InvalidInput(
            "empty container name or id".into(),
        ));
    }
    state.read(|tx| {
        let by_name: Option<String> = tx
            .query_row(
                "SELECT id FROM containers WHERE name = ?1 OR id = ?1",
                params![reference],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = by_name {
            return Ok(id);
        }
        if !reference.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(not_found(reference));
        }
        let mut stmt = tx.prepare("SELECT id FROM containers WHERE id LIKE ?1 || '%' LIMIT 2")?;
        let ids: Vec<String> = stmt
            .query_map(params![reference.to_ascii_lowercase()], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        match ids.len() {
            1 => Ok(ids[0].clone()),
            0 => Err(not_found(reference)),
            _ => Err(EngineError::InvalidInput(format!(
                "multiple containers match the id prefix {reference:?}: give more digits"
            ))),
        }
    })
}

/// The error for a reference that matches nothing.
pub fn not_found(reference: &str) -> EngineError {
    EngineError::NotFound(format!("no such container: {reference}"))
}

/// Takes a container's lock, waiting at most [`crate::engine::lock::default_wait`]; a timeout
/// names the process holding it.
pub fn lock(layout: &Layout, id: &str) -> Result<FileLock> {
    let short = &id[..12.min(id.len())];
    FileLock::acquire_within(
        &layout.locks_dir().join(format!("{id}.lock")),
        &format!("container {short}"),
        crate::engine::lock::default_wait(),
    )
}

/// Loads a record inside a read transaction; `NotFound` when gone.
pub fn load(state: &StateStore, id: &str) -> Result<ContainerRecord> {
    state.read(|tx| get(tx, id))?.ok_or_else(|| not_found(id))
}
