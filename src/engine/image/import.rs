//! The import pipeline: blobs in the store → layers unpacked → image recorded.
//!
//! Every way an image enters berth ends here: `pull` (which downloads and unpacks layer by layer
//! as each blob is verified, using the same steps), `load` (an archive whose blobs went through
//! the content ingest) and, next, `commit`/`import`. The steps:
//!
//! 1. [`ConfigBlob::parse`]: the config blob, its diff ids checked against the manifest;
//! 2. [`unpack_staged`]: one verified layer blob into a staging dir under `tmp/`, its diff id
//!    checked against the config's;
//! 3. [`commit_layers`]: every staged layer renamed to `layers/<chain-hex>` under its lock;
//! 4. [`Engine::record_image`]: the image record written last, so nothing of a failed import is
//!    ever listed.
//!
//! [`Engine::import_stored`] runs them all for an image whose blobs are already in the store.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tokio::task::JoinSet;

use super::gc::gc_lock_path;
use super::record::{self, ImageConfig, ImageRecord, ImageSummary, LayerRecord};
use super::store::ImageStore;
use crate::engine::content::{sha256_digest, sync_dir, ContentStore};
use crate::engine::distribution::manifest::{Manifest, Platform};
use crate::engine::distribution::reference::validate_digest;
use crate::engine::error::{EngineError, Result};
use crate::engine::image::archive::prestage::PrestagedLayers;
use crate::engine::journal::{self, Event, EventType};
use crate::engine::layer::unpack::{unpack_layer, unpack_stream};
use crate::engine::layout::Layout;
use crate::engine::lock::FileLock;
use crate::engine::staging::{self, StagedDir};
use crate::engine::{Engine, EngineEvent};

/// Layers unpacked at the same time by [`Engine::import_stored`].
const PARALLEL_UNPACKS: usize = 2;

/// The parts of an image config blob the engine records.
#[derive(Debug, Clone, Deserialize)]
pub struct ConfigBlob {
    /// `amd64`, `arm64`, …
    #[serde(default)]
    pub architecture: String,
    /// `linux`.
    #[serde(default)]
    pub os: String,
    /// `v8`, …
    #[serde(default)]
    pub variant: Option<String>,
    /// Build time (RFC 3339).
    #[serde(default)]
    pub created: Option<String>,
    /// Author.
    #[serde(default)]
    pub author: Option<String>,
    /// Runtime defaults.
    #[serde(default)]
    pub config: Option<ImageConfig>,
    /// The layers' diff ids.
    pub rootfs: RootFs,
}

/// `rootfs` of a config blob.
#[derive(Debug, Clone, Deserialize)]
pub struct RootFs {
    /// Digests of the uncompressed layer tars, base first.
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

impl ConfigBlob {
    /// Parses the config of `what` and checks its diff ids against the manifest's `layers`
    /// count. `bad` makes the error kind of the caller (a registry's answer, a user's archive).
    pub fn parse(
        bytes: &[u8],
        layers: usize,
        what: &str,
        bad: impl Fn(String) -> EngineError,
    ) -> Result<ConfigBlob> {
        let config: ConfigBlob = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("{what}: the image config is malformed: {e}")))?;
        let diff_ids = &config.rootfs.diff_ids;
        if diff_ids.len() != layers {
            return Err(bad(format!(
                "{what}: the manifest has {layers} layers but the config lists {} diff ids",
                diff_ids.len()
            )));
        }
        for d in diff_ids {
            validate_digest(d).map_err(|e| bad(format!("{what}: config diff id: {e}")))?;
        }
        Ok(config)
    }

    /// The platform the config declares.
    pub fn platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone(),
        }
    }
}

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

/// An image whose manifest, config and layer blobs are all in the content store, ready to be
/// unpacked and recorded.
#[derive(Debug, Clone)]
pub struct StoredImage {
    /// How the image is named in messages.
    pub what: String,
    /// Digest of the top object (an index or the manifest).
    pub manifest_digest: String,
    /// Digest of the platform's image manifest.
    pub platform_manifest_digest: String,
    /// The platform's image manifest.
    pub manifest: Manifest,
    /// Its config.
    pub config: ConfigBlob,
    /// Normalised `domain/path:tag` names to point at the image.
    pub repo_tags: Vec<String>,
    /// `domain/path@sha256:…` names.
    pub repo_digests: Vec<String>,
}

/// Unpacks the verified blob `blob` (layer `layer_digest` of `what`) into a new staging dir and
/// checks its diff id. Returns the dir and the unpacked size. Blocking.
pub fn unpack_staged(
    layout: &Layout,
    blob: &Path,
    media_type: &str,
    layer_digest: &str,
    diff_id: &str,
    what: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<(StagedDir, u64)> {
    staged(layout, layer_digest, diff_id, what, progress, |dir, cb| {
        unpack_layer(blob, media_type, dir, cb)
    })
}

/// [`unpack_staged`] from the blob's bytes as they arrive (see
/// [`crate::engine::distribution::stream`]). What it returns is only the layer once the blob's
/// digest was verified. Blocking.
pub fn unpack_staged_stream(
    layout: &Layout,
    input: impl std::io::Read + Send,
    media_type: &str,
    layer_digest: &str,
    diff_id: &str,
    what: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<(StagedDir, u64)> {
    staged(layout, layer_digest, diff_id, what, progress, |dir, cb| {
        unpack_stream(input, media_type, dir, cb, layer_digest)
    })
}

/// Unpacks the stream of a blob whose diff id is not known yet (a layer of an archive, read
/// before its config) into a new staging dir; returns the dir, its size and the diff id, for
/// the caller to check once the config is read. Blocking.
pub fn unpack_staged_unchecked(
    layout: &Layout,
    input: impl std::io::Read + Send,
    layer_digest: &str,
) -> Result<(StagedDir, u64, String)> {
    let dir = StagedDir::create(layout, "layer")?;
    let mut size = 0u64;
    let diff_id = unpack_stream(input, "", dir.path(), &mut |n| size = n, layer_digest)?;
    Ok((dir, size, diff_id))
}

fn staged(
    layout: &Layout,
    layer_digest: &str,
    diff_id: &str,
    what: &str,
    progress: &mut dyn FnMut(u64),
    unpack: impl FnOnce(&Path, &mut dyn FnMut(u64)) -> Result<String>,
) -> Result<(StagedDir, u64)> {
    let dir = StagedDir::create(layout, "layer")?;
    let mut extracted = 0u64;
    let mut cb = |n: u64| {
        extracted = n;
        progress(n);
    };
    let got = unpack(dir.path(), &mut cb)?;
    if got != diff_id {
        return Err(EngineError::Digest(format!(
            "layer {layer_digest} of {what}: the unpacked content does not match the image \
             config: expected diff id {diff_id}, got {got}"
        )));
    }
    Ok((dir, extracted))
}

/// Moves staged layers to `layers/<chain-hex>` (each under its lock; a layer another process
/// put there first wins and ours is dropped). Returns every layer's unpacked size (measured for
/// the layers that were already there). Blocking.
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

fn join_error(e: tokio::task::JoinError) -> EngineError {
    EngineError::io("image import task failed", std::io::Error::other(e))
}

impl Engine {
    /// Writes the record of `image` whose layers are committed with `unpacked_sizes`, merging
    /// with an existing record of the same id (its digests and first-stored time are kept).
    /// Returns the stored record and whether anything changed (false: the very same names
    /// already pointed at it).
    pub fn record_image(
        &self,
        image: &StoredImage,
        unpacked_sizes: &[u64],
        action: &'static str,
    ) -> Result<(ImageRecord, bool)> {
        let diff_ids = &image.config.rootfs.diff_ids;
        let chains = chain_ids(diff_ids);
        let layers: Vec<LayerRecord> = image
            .manifest
            .layers
            .iter()
            .enumerate()
            .map(|(i, d)| LayerRecord {
                digest: d.digest.clone(),
                diff_id: diff_ids[i].clone(),
                chain_id: chains[i].clone(),
                size: d.size,
                unpacked_size: unpacked_sizes.get(i).copied().unwrap_or(0),
                media_type: d.media_type.clone(),
            })
            .collect();
        let config = &image.config;
        let mut record = ImageRecord {
            id: image.manifest.config.digest.clone(),
            manifest_digest: image.manifest_digest.clone(),
            platform_manifest_digest: image.platform_manifest_digest.clone(),
            repo_tags: image.repo_tags.clone(),
            repo_digests: image.repo_digests.clone(),
            config: config.config.clone().unwrap_or_default(),
            size: layers.iter().map(|l| l.unpacked_size).sum(),
            layers,
            created: config.created.clone(),
            os: config.os.clone(),
            architecture: config.architecture.clone(),
            variant: config.variant.clone(),
            author: config.author.clone(),
            pulled: chrono::Utc::now().to_rfc3339(),
        };
        let updated = self.state().write(|tx| {
            let old = ImageStore::of(tx).get(&record.id)?;
            let mut updated = true;
            if let Some(old) = old {
                updated = !record.repo_tags.iter().all(|t| old.repo_tags.contains(t))
                    || !record
                        .repo_digests
                        .iter()
                        .all(|d| old.repo_digests.contains(d));
                for d in old.repo_digests {
                    if !record.repo_digests.contains(&d) {
                        record.repo_digests.push(d);
                    }
                }
                record.pulled = old.pulled;
            }
            ImageStore::of(tx).save(&record)?;
            // The journal's entry in the same transaction: `pull`, `load` or `import`, named
            // as docker names the image (its first tag, else digest, else id).
            let name = record
                .repo_tags
                .first()
                .or(record.repo_digests.first())
                .cloned()
                .unwrap_or_else(|| record.id.clone());
            let name = record::familiar(&name);
            let event = Event::new(EventType::Image, action, name.clone()).with("name", name);
            journal::record(tx, &event)?;
            Ok(updated)
        })?;
        Ok((self.image(&record.id)?, updated))
    }

    /// Unpacks the layers of `image` that are not unpacked yet (two at a time) and records it.
    /// Every blob must be in the store. The caller holds the gc lock shared. On failure nothing
    /// is unpacked under `layers/` and nothing is recorded.
    pub async fn import_stored(
        &self,
        image: StoredImage,
        action: &'static str,
    ) -> Result<(ImageSummary, bool)> {
        let sizes = self.unpack_stored(&image).await?;
        let engine = self.clone();
        let (record, updated) =
            tokio::task::spawn_blocking(move || engine.record_image(&image, &sizes, action))
                .await
                .map_err(join_error)??;
        self.emit(EngineEvent::ImagesChanged);
        Ok((record.summary(), updated))
    }

    /// Unpacks the layers of `image` that are not unpacked yet, two at a time, and commits
    /// them to `layers/` (all or, on failure, none of this call's). Returns every layer's
    /// unpacked size. Every blob must be in the store; the caller holds the gc lock shared.
    pub async fn unpack_stored(&self, image: &StoredImage) -> Result<Vec<u64>> {
        self.unpack_stored_with(image, &mut PrestagedLayers::new())
            .await
    }

    /// [`Engine::unpack_stored`], taking a layer from `prestaged` (unpacked while an archive
    /// was read) instead of unpacking it when its diff id is the config's.
    pub async fn unpack_stored_with(
        &self,
        image: &StoredImage,
        prestaged: &mut PrestagedLayers,
    ) -> Result<Vec<u64>> {
        let store = ContentStore::new(self.layout());
        let chains = chain_ids(&image.config.rootfs.diff_ids);
        let mut staged: Vec<Option<StagedDir>> = (0..chains.len()).map(|_| None).collect();
        let mut sizes = vec![0u64; chains.len()];
        let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(PARALLEL_UNPACKS));
        let mut tasks = JoinSet::new();
        for (i, desc) in image.manifest.layers.iter().enumerate() {
            if self.layout().layer_dir(&chains[i])?.is_dir() {
                continue;
            }
            let diff_id = &image.config.rootfs.diff_ids[i];
            if let Some(p) = prestaged.remove(&desc.digest) {
                if p.diff_id == *diff_id {
                    tracing::debug!("layer {}: unpacked while the archive was read", desc.digest);
                    staged[i] = Some(p.dir);
                    sizes[i] = p.size;
                    continue;
                }
            }
            let blob = store.path(&desc.digest)?;
            if !blob.is_file() {
                return Err(EngineError::NotFound(format!(
                    "{}: layer blob {} is not in the store",
                    image.what, desc.digest
                )));
            }
            let layout = self.layout().clone();
            let desc = desc.clone();
            let diff_id = image.config.rootfs.diff_ids[i].clone();
            let what = image.what.clone();
            let semaphore = semaphore.clone();
            tasks.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                let r = tokio::task::spawn_blocking(move || {
                    unpack_staged(
                        &layout,
                        &blob,
                        &desc.media_type,
                        &desc.digest,
                        &diff_id,
                        &what,
                        &mut |_| {},
                    )
                })
                .await
                .map_err(join_error)
                .and_then(|r| r);
                (i, r)
            });
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, Ok((dir, size)))) => {
                    staged[i] = Some(dir);
                    sizes[i] = size;
                }
                Ok((_, Err(e))) => {
                    first_error.get_or_insert(e);
                }
                Err(e) => {
                    first_error.get_or_insert(join_error(e));
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let layout = self.layout().clone();
        tokio::task::spawn_blocking(move || commit_layers(&layout, &chains, staged, sizes))
            .await
            .map_err(join_error)?
    }

    /// Takes the gc lock shared and sweeps dead staging dirs (blocking): what an import holds
    /// for its whole run.
    pub fn begin_import(&self) -> Result<FileLock> {
        staging::sweep(self.layout());
        FileLock::acquire_shared(&gc_lock_path(self.layout()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_spec() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        let c = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(c[0], a);
        assert_eq!(c[1], sha256_digest(format!("{a} {b}").as_bytes()));
    }

    #[test]
    fn config_diff_ids_must_match_the_layers() {
        let d = format!("sha256:{}", "a".repeat(64));
        let bytes = format!(r#"{{"os":"linux","rootfs":{{"type":"layers","diff_ids":["{d}"]}}}}"#);
        let bad = |m: String| EngineError::InvalidInput(m);
        assert!(ConfigBlob::parse(bytes.as_bytes(), 1, "x", bad).is_ok());
        let e = ConfigBlob::parse(bytes.as_bytes(), 2, "x", bad).unwrap_err();
        assert!(e.to_string().contains("2 layers"), "{e}");
        let e = ConfigBlob::parse(br#"{"rootfs":{"diff_ids":["md5:1"]}}"#, 1, "x", bad);
        assert!(e.is_err());
    }
}
