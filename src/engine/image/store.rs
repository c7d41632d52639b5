//! The `images` and `tags` tables: every SQL statement on them.

use rusqlite::{params, OptionalExtension, Transaction};

use super::record::ImageRecord;
use crate::engine::distribution::reference::ImageRef;
use crate::engine::error::{EngineError, Result};

/// Image records and their tags, over the caller's transaction (so a change and its journal
/// event commit together).
pub struct ImageStore<'t> {
    tx: &'t Transaction<'t>,
}

impl<'t> ImageStore<'t> {
    /// The tables, in transaction `tx`.
    pub fn of(tx: &'t Transaction<'t>) -> Self {
        ImageStore { tx }
    }

    /// Reads every image with its tags.
    pub fn list(&self) -> Result<Vec<ImageRecord>> {
        let mut stmt = self
            .tx
            .prepare("SELECT id, record FROM images ORDER BY created DESC, id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, record) = row?;
            let mut rec: ImageRecord = serde_json::from_str(&record)?;
            rec.repo_tags = self.tags_of(&id)?;
            out.push(rec);
        }
        Ok(out)
    }

    /// One image by full id, with its tags.
    pub fn get(&self, id: &str) -> Result<Option<ImageRecord>> {
        let record: Option<String> = self
            .tx
            .query_row("SELECT record FROM images WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        match record {
            Some(r) => {
                let mut rec: ImageRecord = serde_json::from_str(&r)?;
                rec.repo_tags = self.tags_of(id)?;
                Ok(Some(rec))
            }
            None => Ok(None),
        }
    }

    fn tags_of(&self, id: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare("SELECT name FROM tags WHERE image_id = ?1 ORDER BY name")?;
        let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Inserts or updates `rec` and points its tags at it.
    pub fn save(&self, rec: &ImageRecord) -> Result<()> {
        let json = serde_json::to_string(rec)?;
        let digests = serde_json::to_string(&rec.repo_digests)?;
        self.tx.execute(
            "INSERT INTO images(id, manifest_digest, repo_digests, record, created)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET manifest_digest = ?2, repo_digests = ?3, record = ?4",
            params![rec.id, rec.manifest_digest, digests, json, rec.pulled],
        )?;
        for tag in &rec.repo_tags {
            self.tag(tag, &rec.id)?;
        }
        Ok(())
    }

    /// Finds the image `r` names: a tag, `repo@digest`, a full id or a unique id prefix.
    pub fn resolve(&self, r: &str) -> Result<ImageRecord> {
        let not_found = || EngineError::NotFound(format!("no such image: {r}"));
        if let Ok(reference) = ImageRef::parse(r) {
            if let Some(digest) = &reference.digest {
                for rec in self.list()? {
                    let name = reference.with_digest(digest);
                    if rec.repo_digests.contains(&name)
                        || (rec.manifest_digest == *digest
                            && rec
                                .repo_digests
                                .iter()
                                .any(|d| d.starts_with(&reference.repository())))
                    {
                        return Ok(rec);
                    }
                }
            } else if let Some(tagged) = reference.tagged() {
                let id: Option<String> = self
                    .tx
                    .query_row(
                        "SELECT image_id FROM tags WHERE name = ?1",
                        [&tagged],
                        |x| x.get(0),
                    )
                    .optional()?;
                if let Some(id) = id {
                    return self.get(&id)?.ok_or_else(not_found);
                }
            }
        }
        let hex = r.strip_prefix("sha256:").unwrap_or(r);
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let pattern = format!("sha256:{}%", hex.to_ascii_lowercase());
        let mut stmt = self
            .tx
            .prepare("SELECT id FROM images WHERE id LIKE ?1 LIMIT 2")?;
        let ids: Vec<String> = stmt
            .query_map([&pattern], |x| x.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        match ids.as_slice() {
            [id] => self.get(id)?.ok_or_else(not_found),
            [] => Err(not_found()),
            _ => Err(EngineError::InvalidInput(format!(
                "image id prefix \"{r}\" is ambiguous: give more digits"
            ))),
        }
    }

    /// Points tag `name` (`domain/path:tag`) at image `image_id`, moving it from another image.
    pub fn tag(&self, name: &str, image_id: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO tags(name, image_id) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET image_id = ?2",
            params![name, image_id],
        )?;
        Ok(())
    }

    /// Removes tag `name`.
    pub fn untag(&self, name: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM tags WHERE name = ?1", [name])?;
        Ok(())
    }

    /// Removes every tag of image `id`.
    pub fn untag_all(&self, id: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM tags WHERE image_id = ?1", [id])?;
        Ok(())
    }

    /// Deletes image `id`'s record (its tags must be gone).
    pub fn delete(&self, id: &str) -> Result<()> {
        self.tx.execute("DELETE FROM images WHERE id = ?1", [id])?;
        Ok(())
    }
}
