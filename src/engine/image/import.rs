//! The import pipeline: blobs already in the store → layers unpacked under `layers/` → image
//! recorded. Pull (which downloads and unpacks layers itself, in parallel) shares its last two
//! steps ([`chain_ids`], [`commit_layers`]); commit and build call [`Engine::import_image`] with
//! the layers they wrote and the config they made.
//!
//! Nothing of a failed import is listed: layers are unpacked into staging directories and moved
//! into place only when every one of them matched its diff id, and the record is written last.

use std::path::PathBuf;

use super::config::{ConfigFile, MEDIA_CONFIG, MEDIA_MANIFEST};
use super::gc::gc_lock_path;
use super::record::{self, ImageRecord, LayerRecord};
use crate::engine::content::{sha256_digest, sync_dir, ContentStore};
use crate::engine::distribution::reference::ImageRef;
use crate::engine::error::{EngineError, Result};
use crate::engine::layer::unpack::unpack_layer;
use crate::engine::layout::Layout;
use crate::engine::lock::FileLock;
use crate::engine::staging::{self, StagedDir};
use crate::engine::{Engine, EngineEvent};

/// Chain ids of a stack of diff ids: chain(0) = diff(0), chain(n) = sha256("chain(n-1) diff(n)").
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(diff_ids.len());
    for diff in diff_ids {
        let next = match out.last() {
            None => diff.clone(),
            Some(prev) => sha256_digest(format!("{prev} {diff}").as_bytes()),
        };
        out.push(next);
    }
    out
}

/// Moves staged layers to `layers/<chain-hex>` (each under its lock; a layer another import put
/// there first wins and ours is dropped). Returns every layer's unpacked size (measured for a
/// layer that was already there).
pub fn commit_layers(
    layout: &Layout,
    chains: &[String],
    staged: Vec<Option<StagedDir>>,
    mut sizes: Vec<u64>,
) -> Result<Vec<u64>> {
    for (i, dir) in staged.into_iter().enumerate() {
        let dest: PathBuf = layout.layer_dir(&chains[i])?;
        let hex = chains[i].trim_start_matches("sha256:");
        let _lock = FileLock::acquire(&layout.locks_dir().join(format!("layer-{hex}.lock")))?;
        match dir {
            Some(dir) if !dest.exists() => dir.commit_to(&dest)?,
            Some(_) => {}
            None => sizes[i] = staging::disk_usage(&dest),
        }
    }
    sync_dir(&layout.layers_dir())?;
    Ok(sizes)
}

/// A layer blob in the store, as an import names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerBlob {
    /// Blob digest.
    pub digest: String,
    /// Blob size.
    pub size: u64,
    /// Blob media type.
    pub media_type: String,
}

impl Engine {
    /// Unpacks the layer blobs (base first, one per diff id) not unpacked yet into
    /// `layers/<chain>`, checking each against its diff id. Returns the chain ids and the
    /// unpacked sizes. Hold the gc lock shared around it and whatever uses the layers. Blocking.
    pub fn unpack_layers(
        &self,
        diff_ids: &[String],
        layers: &[LayerBlob],
    ) -> Result<(Vec<String>, Vec<u64>)> {
        let layout = self.layout().clone();
        let store = ContentStore::new(&layout);
        let chains = chain_ids(diff_ids);
        let mut staged: Vec<Option<StagedDir>> = Vec::new();
        let mut sizes = Vec::new();
        for (i, l) in layers.iter().enumerate() {
            if layout.layer_dir(&chains[i])?.is_dir() {
                staged.push(None);
                sizes.push(0);
                continue;
            }
            let dir = StagedDir::create(&layout, "layer")?;
            let mut size = 0;
            let got = unpack_layer(
                &store.path(&l.digest)?,
                &l.media_type,
                dir.path(),
                &mut |n| size = n,
            )?;
            if got != diff_ids[i] {
                return Err(EngineError::Digest(format!(
                    "layer {} does not match the image config: expected diff id {}, got {got}",
                    l.digest, diff_ids[i]
                )));
            }
            staged.push(Some(dir));
            sizes.push(size);
        }
        let sizes = commit_layers(&layout, &chains, staged, sizes)?;
        Ok((chains, sizes))
    }

    /// Records an image whose config is `config` and whose layer blobs (base first, one per
    /// `config.rootfs.diff_ids` entry) are in the store: stores the config and an OCI manifest,
    /// unpacks the layers not unpacked yet (checking each against its diff id), records the
    /// image and points `tags` (`repo[:tag]`) at it. Blocking.
    pub fn import_image(
        &self,
        config: &ConfigFile,
        layers: &[LayerBlob],
        tags: &[String],
    ) -> Result<ImageRecord> {
        let diff_ids = &config.rootfs.diff_ids;
        if diff_ids.len() != layers.len() {
            return Err(EngineError::InvalidInput(format!(
                "the image config lists {} diff ids for {} layers",
                diff_ids.len(),
                layers.len()
            )));
        }
        let mut names = Vec::new();
        for t in tags {
            let r = ImageRef::parse(t)?;
            if r.digest.is_some() {
                return Err(EngineError::InvalidInput(format!(
                    "invalid tag \"{t}\": a tag must not contain a digest"
                )));
            }
            names.extend(r.tagged());
        }
        let layout = self.layout().clone();
        let _gc = FileLock::acquire_shared(&gc_lock_path(&layout))?;
        let store = ContentStore::new(&layout);
        let (chains, sizes) = self.unpack_layers(diff_ids, layers)?;

        let config_bytes = serde_json::to_vec(config)
            .map_err(|e| EngineError::InvalidInput(format!("cannot encode image config: {e}")))?;
        let config_digest = sha256_digest(&config_bytes);
        store.put(&config_digest, &config_bytes)?;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": config_bytes.len()},
            "layers": layers.iter().map(|l| serde_json::json!({
                "mediaType": l.media_type, "digest": l.digest, "size": l.size})).collect::<Vec<_>>(),
        });
        let manifest_bytes = serde_json::to_vec(&manifest)
            .map_err(|e| EngineError::InvalidInput(format!("cannot encode manifest: {e}")))?;
        let manifest_digest = sha256_digest(&manifest_bytes);
        store.put(&manifest_digest, &manifest_bytes)?;

        let layer_records: Vec<LayerRecord> = layers
            .iter()
            .enumerate()
            .map(|(i, l)| LayerRecord {
                digest: l.digest.clone(),
                diff_id: diff_ids[i].clone(),
                chain_id: chains[i].clone(),
                size: l.size,
                unpacked_size: sizes[i],
                media_type: l.media_type.clone(),
            })
            .collect();
        let mut rec = ImageRecord {
            id: config_digest,
            manifest_digest: manifest_digest.clone(),
            platform_manifest_digest: manifest_digest,
            repo_tags: names,
            repo_digests: Vec::new(),
            config: config.config.clone(),
            size: layer_records.iter().map(|l| l.unpacked_size).sum(),
            layers: layer_records,
            created: config.created.clone(),
            os: config.os.clone(),
            architecture: config.architecture.clone(),
            variant: config.variant.clone(),
            author: config.author.clone(),
            pulled: chrono::Utc::now().to_rfc3339(),
        };
        self.state().write(|tx| {
            if let Some(old) = record::load(tx, &rec.id)? {
                rec.repo_digests = old.repo_digests;
                rec.pulled = old.pulled;
            }
            record::save(tx, &rec)
        })?;
        self.emit(EngineEvent::ImagesChanged);
        self.image(&rec.id)
    }
}
