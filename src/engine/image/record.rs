//! Image records in `state.db`: what a pull stored, looked up by reference, id or id prefix.
//!
//! `images.record` holds an [`ImageRecord`] as JSON (minus the tags, which live in `tags`); the
//! SQL is [`super::store::ImageStore`]'s.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::store::ImageStore;
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

impl Engine {
    /// Every stored image, newest first.
    pub fn images(&self) -> Result<Vec<ImageSummary>> {
        let records = self.state().read(|tx| ImageStore::of(tx).list())?;
        Ok(records.iter().map(ImageRecord::summary).collect())
    }

    /// Every stored image record, newest first.
    pub fn image_records(&self) -> Result<Vec<ImageRecord>> {
        self.state().read(|tx| ImageStore::of(tx).list())
    }

    /// The image `r` names (reference, `repo@digest`, full id or unique id prefix).
    pub fn image(&self, r: &str) -> Result<ImageRecord> {
        self.state().read(|tx| ImageStore::of(tx).resolve(r))
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
            let images = ImageStore::of(tx);
            let rec = images.resolve(source)?;
            images.tag(&name, &rec.id)?;
            let event = crate::engine::journal::Event::new(
                crate::engine::journal::EventType::Image,
                "tag",
                rec.id.clone(),
            )
            .with("name", familiar(&name));
            crate::engine::journal::record(tx, &event)?;
            images
                .get(&rec.id)?
                .ok_or_else(|| EngineError::NotFound(format!("no such image: {source}")))
        })?;
        self.emit(crate::engine::EngineEvent::ImagesChanged);
        Ok(rec)
    }
}
