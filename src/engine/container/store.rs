//! Container records in the `containers` table ([`ContainerStore`]), lookups by id, unique id
//! prefix or name, and the per-container lock (`locks/<id>.lock`) that every operation holds while it acts.

use rusqlite::{params, OptionalExtension, Transaction};

use super::record::ContainerRecord;
use crate::engine::error::{EngineError, Result};
use crate::engine::health::store::HealthStore;
use crate::engine::lock::FileLock;
use crate::engine::state::StateStore;
use crate::engine::Layout;

/// The `containers` table: every SQL statement on it, over the caller's transaction (so a change
/// and its journal event commit together).
/// Column `i` of `row` as text, borrowed from the row.
fn text<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    Ok(row.get_ref(i)?.as_str()?)
}

/// The order `ps` lists containers in, by (created, id): newest first, then by id.
pub fn ps_order(
    a: (&chrono::DateTime<chrono::Utc>, &str),
    b: (&chrono::DateTime<chrono::Utc>, &str),
) -> std::cmp::Ordering {
    b.0.cmp(a.0).then_with(|| a.1.cmp(b.1))
}

pub struct ContainerStore<'t> {
    tx: &'t Transaction<'t>,
}

impl<'t> ContainerStore<'t> {
    /// The table, in transaction `tx`.
    pub fn of(tx: &'t Transaction<'t>) -> Self {
        ContainerStore { tx }
    }

    /// Inserts a new record; the name must be free.
    pub fn insert(&self, rec: &ContainerRecord) -> Result<()> {
        let taken: Option<String> = self
            .tx
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
        self.tx.execute(
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
    pub fn save(&self, rec: &ContainerRecord) -> Result<()> {
        let n = self.tx.execute(
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
    /// Deletes a record (and its health).
    pub fn delete(&self, id: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM containers WHERE id = ?1", params![id])?;
        HealthStore::of(self.tx).delete(id)
    }

    /// Loads a record by full id, with its health.
    pub fn get(&self, id: &str) -> Result<Option<ContainerRecord>> {
        let rec: Option<String> = self
            .tx
            .query_row(
                "SELECT record FROM containers WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(text) = rec else {
            return Ok(None);
        };
        let mut rec: ContainerRecord = serde_json::from_str(&text).map_err(EngineError::from)?;
        rec.health = HealthStore::of(self.tx).get(id)?;
        Ok(Some(rec))
    }

    /// Calls `f` with every record and its health, one row at a time, in no particular order:
    /// a caller that keeps a little of each never holds every full record at once.
    pub fn each(&self, mut f: impl FnMut(ContainerRecord) -> Result<()>) -> Result<()> {
        let mut stmt = self.tx.prepare("SELECT record FROM containers")?;
        let mut rows = stmt.query([])?;
        let mut health = HealthStore::of(self.tx).all()?;
        while let Some(row) = rows.next()? {
            let mut rec: ContainerRecord = serde_json::from_str(text(row, 0)?)?;
            rec.health = health.remove(&rec.id);
            f(rec)?;
        }
        Ok(())
    }

    /// Every record with its health, in [`ps_order`]. Sorted here, in place, not by SQLite: its
    /// sorter would copy every record (2 MB for 1,000 containers) to order them.
    pub fn list(&self) -> Result<Vec<ContainerRecord>> {
        let mut out = Vec::new();
        self.each(|rec| {
            out.push(rec);
            Ok(())
        })?;
        out.sort_unstable_by(|a, b| ps_order((&a.created, &a.id), (&b.created, &b.id)));
        Ok(out)
    }

    /// Calls `f` with each container's id, name and record text, by name, one row at a time:
    /// what reads a part of every record (volumes in use, networks' users) never holds all of
    /// them at once.
    pub fn each_raw(&self, mut f: impl FnMut(&str, &str, &str) -> Result<()>) -> Result<()> {
        let mut stmt = self
            .tx
            .prepare("SELECT id, name, record FROM containers ORDER BY name")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            f(text(row, 0)?, text(row, 1)?, text(row, 2)?)?;
        }
        Ok(())
    }

    /// How many containers use each image (image id → count).
    pub fn count_by_image(&self) -> Result<std::collections::HashMap<String, usize>> {
        let mut stmt = self
            .tx
            .prepare("SELECT image_id, COUNT(*) FROM containers GROUP BY image_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let (image, n) = row?;
            out.insert(image, usize::try_from(n).unwrap_or(0));
        }
        Ok(out)
    }

    /// Whether a name is taken.
    pub fn name_taken(&self, name: &str) -> Result<bool> {
        Ok(self
            .tx
            .query_row(
                "SELECT 1 FROM containers WHERE name = ?1",
                params![name],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Names of the containers made from image `image_id`, sorted.
    pub fn names_using_image(&self, image_id: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare("SELECT name FROM containers WHERE image_id = ?1 ORDER BY name")?;
        let rows = stmt.query_map([image_id], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Every container as (id, name, record as stored JSON), by name: for readers that look at
    /// one field of every record and must name a malformed one rather than fail on it.
    pub fn raw_records(&self) -> Result<Vec<(String, String, String)>> {
        let mut out = Vec::new();
        self.each_raw(|id, name, record| {
            out.push((id.to_string(), name.to_string(), record.to_string()));
            Ok(())
        })?;
        Ok(out)
    }

    /// Resolves a reference (full id, name, or unique id prefix) to a full id.
    pub fn resolve(&self, reference: &str) -> Result<String> {
        let reference = reference.strip_prefix('/').unwrap_or(reference);
        if reference.is_empty() {
            return Err(EngineError::InvalidInput(
                "empty container name or id".into(),
            ));
        }
        let by_name: Option<String> = self
            .tx
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
        let mut stmt = self
            .tx
            .prepare("SELECT id FROM containers WHERE id LIKE ?1 || '%' LIMIT 2")?;
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
    }
}

/// Resolves a user's reference (full id, name, or unique id prefix) to a full id.
pub fn resolve(state: &StateStore, reference: &str) -> Result<String> {
    state.read(|tx| ContainerStore::of(tx).resolve(reference))
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
    state
        .read(|tx| ContainerStore::of(tx).get(id))?
        .ok_or_else(|| not_found(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::container::record::Status;
    use chrono::{TimeZone, Utc};

    /// Newest first, and by id among containers created at the same time, as `ps` shows them.
    #[test]
    fn list_is_newest_first_then_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateStore::open(&dir.path().join("state.db")).unwrap();
        let at = |s: i64| Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap();
        let made = [("c", 1), ("a", 2), ("d", 3), ("b", 2), ("e", 0)];
        state
            .write(|tx| {
                for (id, secs) in made {
                    let mut rec =
                        ContainerRecord::for_tests(id, &format!("n-{id}"), Status::Created);
                    rec.created = at(secs);
                    ContainerStore::of(tx).insert(&rec)?;
                }
                Ok(())
            })
            .unwrap();
        let ids: Vec<String> = state
            .read(|tx| ContainerStore::of(tx).list())
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["d", "a", "b", "c", "e"]);
    }
}
