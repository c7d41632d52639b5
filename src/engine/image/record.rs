//! Image records in `state.db`: what a pull stored, looked up by reference, id or id prefix.
//!
//! `images.record` holds an [`ImageRecord`] as JSON (minus the tags, which live in `tags`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::engine::distribution::reference::ImageRef;
use crate::engine::error::{EngineError, Result};
use crate::engine::Engine;

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// Blob digest (compressed archive).
    pub digest: String,
    /// Digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub diff_id: String,
    /// Chain id: names the unpacked directory `layers/<hex>`.
    pub chain_id: String,
    /// Blob size in bytes.
    pub size: u64,
    /// Uncompressed size in bytes.
    pub unpacked_size: u64,
    /// Blob media type.
    pub media_type: String,
}

/// The runtime defaults an image carries (the `config` section of its config blob).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    /// `user`, `user:group`, uid or uid:gid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `port/proto` → {}.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    /// `KEY=value` entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// Entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// Default command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Volume mount points → {}.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Stop signal name or number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// The health check (`HEALTHCHECK`), kept as the config has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    /// `ONBUILD` triggers, run when the image is a build's base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    /// The shell of shell-form instructions (`SHELL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// Everything berth knows about one stored image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// Config digest (`sha256:…`): the image id.
    pub id: String,
    /// Digest of what the registry answered for the reference (an index or a manifest).
    pub manifest_digest: String,
    /// Digest of the platform's image manifest (equal to `manifest_digest` without an index).
    pub platform_manifest_digest: String,
    /// Normalised `domain/path:tag` names (filled from the tags table).
    #[serde(skip)]
    pub repo_tags: Vec<String>,
    /// `domain/path@sha256:…`.
    pub repo_digests: Vec<String>,
    /// Runtime defaults.
    pub config: ImageConfig,
    /// Layers, base first.
    pub layers: Vec<LayerRecord>,
    /// Unpacked size in bytes.
    pub size: u64,
    /// When the image was built (RFC 3339, from its config).
    pub created: Option<String>,
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64`, …
    pub architecture: String,
    /// `v8`, …
    #[serde(default)]
    pub variant: Option<String>,
    /// Author from the config.
    #[serde(default)]
    pub author: Option<String>,
    /// When berth stored it (RFC 3339).
    pub pulled: String,
}

/// The short form of an image for lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageSummary {
    /// Image id (`sha256:…`).
    pub id: String,
    /// Familiar names (`busybox:latest`).
    pub repo_tags: Vec<String>,
    /// `repo@digest` names.
    pub repo_digests: Vec<String>,
    /// The registry's manifest digest.
    pub manifest_digest: String,
    /// Unpacked size in bytes.
    pub size: u64,
    /// Build time (RFC 3339).
    pub created: Option<String>,
    /// `os/arch[/variant]`.
    pub platform: String,
}

/// Turns a stored `domain/path:tag` into docker's familiar form.
pub fn familiar(name: &str) -> String {
    ImageRef::parse(name)
        .map(|r| r.familiar())
        .unwrap_or_else(|_| name.to_string())
}

impl ImageRecord {
    /// The list form.
    pub fn summary(&self) -> ImageSummary {
        let mut platform = format!("{}/{}", self.os, self.architecture);
        if let Some(v) = &self.variant {
            platform.push('/');
            platform.push_str(v);
        }
        ImageSummary {
            id: self.id.clone(),
            repo_tags: self.repo_tags.iter().map(|t| familiar(t)).collect(),
            repo_digests: self.repo_digests.iter().map(|t| familiar(t)).collect(),
            manifest_digest: self.manifest_digest.clone(),
            size: self.size,
            created: self.created.clone(),
            platform,
        }
    }

    /// The 12-hex short id docker prints.
    pub fn short_id(&self) -> &str {
        let hex = self.id.strip_prefix("sha256:").unwrap_or(&self.id);
        &hex[..hex.len().min(12)]
    }
}

/// Reads every image with its tags.
pub(crate) fn load_all(tx: &Transaction<'_>) -> Result<Vec<ImageRecord>> {
    let mut stmt = tx.prepare("SELECT id, record FROM images ORDER BY created DESC, id")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, record) = row?;
        let mut rec: ImageRecord = serde_json::from_str(&record)?;
        rec.repo_tags = tags_of(tx, &id)?;
        out.push(rec);
    }
    Ok(out)
}

pub(crate) fn load(tx: &Transaction<'_>, id: &str) -> Result<Option<ImageRecord>> {
    let record: Option<String> = tx
        .query_row("SELECT record FROM images WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    match record {
        Some(r) => {
            let mut rec: ImageRecord = serde_json::from_str(&r)?;
            rec.repo_tags = tags_of(tx, id)?;
            Ok(Some(rec))
        }
        None => Ok(None),
    }
}

fn tags_of(tx: &Transaction<'_>, id: &str) -> Result<Vec<String>> {
    let mut stmt = tx.prepare("SELECT name FROM tags WHERE image_id = ?1 ORDER BY name")?;
    let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Inserts or updates `rec` and points its tags at it.
pub(crate) fn save(tx: &Transaction<'_>, rec: &ImageRecord) -> Result<()> {
    let json = serde_json::to_string(rec)?;
    let digests = serde_json::to_string(&rec.repo_digests)?;
    tx.execute(
        "INSERT INTO images(id, manifest_digest, repo_digests, record, created)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET manifest_digest = ?2, repo_digests = ?3, record = ?4",
        params![rec.id, rec.manifest_digest, digests, json, rec.pulled],
    )?;
    for tag in &rec.repo_tags {
        tx.execute(
            "INSERT INTO tags(name, image_id) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET image_id = ?2",
            params![tag, rec.id],
        )?;
    }
    Ok(())
}

/// Finds the image `r` names: a tag, `repo@digest`, a full id or a unique id prefix.
pub(crate) fn resolve(tx: &Transaction<'_>, r: &str) -> Result<ImageRecord> {
    let not_found = || EngineError::NotFound(format!("no such image: {r}"));
    if let Ok(reference) = ImageRef::parse(r) {
        if let Some(digest) = &reference.digest {
            for rec in load_all(tx)? {
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
            let id: Option<String> = tx
                .query_row(
                    "SELECT image_id FROM tags WHERE name = ?1",
                    [&tagged],
                    |x| x.get(0),
                )
                .optional()?;
            if let Some(id) = id {
                return load(tx, &id)?.ok_or_else(not_found);
            }
        }
    }
    let hex = r.strip_prefix("sha256:").unwrap_or(r);
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let pattern = format!("sha256:{}%", hex.to_ascii_lowercase());
    let mut stmt = tx.prepare("SELECT id FROM images WHERE id LIKE ?1 LIMIT 2")?;
    let ids: Vec<String> = stmt
        .query_map([&pattern], |x| x.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    match ids.as_slice() {
        [id] => load(tx, id)?.ok_or_else(not_found),
        [] => Err(not_found()),
        _ => Err(EngineError::InvalidInput(format!(
            "image id prefix \"{r}\" is ambiguous: give more digits"
        ))),
    }
}

impl Engine {
    /// Every stored image, newest first.
    pub fn images(&self) -> Result<Vec<ImageSummary>> {
        let records = self.state().read(load_all)?;
        Ok(records.iter().map(ImageRecord::summary).collect())
    }

    /// Every stored image record, newest first.
    pub fn image_records(&self) -> Result<Vec<ImageRecord>> {
        self.state().read(load_all)
    }

    /// The image `r` names (reference, `repo@digest`, full id or unique id prefix).
    pub fn image(&self, r: &str) -> Result<ImageRecord> {
        self.state().read(|tx| resolve(tx, r))
    }

    /// Unpacked layer directories of `image` in overlayfs `lowerdir` order: the top layer
    /// first, the base layer last.
    pub fn image_layers_dirs(&self, image: &ImageRecord) -> Result<Vec<PathBuf>> {
        image
            .layers
            .iter()
            .rev()
            .map(|l| self.layout().layer_dir(&l.chain_id))
            .collect()
    }

    /// Tags the image `source` names as `target` (`repo[:tag]`, `latest` when none).
    pub fn tag(&self, source: &str, target: &str) -> Result<ImageRecord> {
        let target_ref = ImageRef::parse(target)?;
        if target_ref.digest.is_some() {
            return Err(EngineError::InvalidInput(format!(
                "cannot tag with \"{target}\": a tag target must not contain a digest"
            )));
        }
        let name = target_ref.tagged().ok_or_else(|| {
            EngineError::InvalidInput(format!("\"{target}\" does not name a tag"))
        })?;
        let rec = self.state().write(|tx| {
            let rec = resolve(tx, source)?;
            tx.execute(
                "INSERT INTO tags(name, image_id) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET image_id = ?2",
                params![name, rec.id],
            )?;
            let event = crate::engine::journal::Event::new(
                crate::engine::journal::EventType::Image,
                "tag",
                rec.id.clone(),
            )
            .with("name", familiar(&name));
            crate::engine::journal::record(tx, &event)?;
            load(tx, &rec.id)?
                .ok_or_else(|| EngineError::NotFound(format!("no such image: {source}")))
        })?;
        self.emit(crate::engine::EngineEvent::ImagesChanged);
        Ok(rec)
    }
}
