//! Images made on this machine (`commit`, `build`): a config and layer blobs already in the
//! store become a stored config and OCI manifest, then go through the import pipeline
//! ([`super::import`]): layers unpacked into staging and committed, the record written last.
//!
//! Blocking, unlike [`Engine::import_stored`]: commit and build already run on the blocking
//! pool, and build needs a state's layers unpacked between steps without recording an image.

use super::config::{ConfigFile, MEDIA_CONFIG, MEDIA_MANIFEST};
use super::import::{chain_ids, commit_layers, unpack_staged, ConfigBlob, RootFs, StoredImage};
use super::record::ImageRecord;
use crate::engine::content::{sha256_digest, ContentStore};
use crate::engine::distribution::manifest::{Descriptor, Manifest};
use crate::engine::distribution::reference::ImageRef;
use crate::engine::error::{EngineError, Result};
use crate::engine::staging::StagedDir;
use crate::engine::{Engine, EngineEvent};

/// A layer blob in the store, as commit and build name it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerBlob {
    /// Blob digest.
    pub digest: String,
    /// Blob size.
    pub size: u64,
    /// Blob media type.
    pub media_type: String,
}

impl From<&super::record::LayerRecord> for LayerBlob {
    /// The blob of a stored image's layer (what an image made on top of it starts from).
    fn from(l: &super::record::LayerRecord) -> Self {
        LayerBlob {
            digest: l.digest.clone(),
            size: l.size,
            media_type: l.media_type.clone(),
        }
    }
}

impl Engine {
    /// Unpacks the layer blobs (base first, one per diff id) not unpacked yet into
    /// `layers/<chain>`, checking each against its diff id. Returns the chain ids and the
    /// unpacked sizes. Hold the gc lock shared around it and whatever uses the layers.
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
            let (dir, size) = unpack_staged(
                &layout,
                &store.path(&l.digest)?,
                &l.media_type,
                &l.digest,
                &diff_ids[i],
                "the image being made",
                &mut |_| {},
            )?;
            staged.push(Some(dir));
            sizes.push(size);
        }
        let sizes = commit_layers(&layout, &chains, staged, sizes)?;
        Ok((chains, sizes))
    }

    /// Keeps `dir`, the very tree a layer whose diff id is `diff_id` was written from, as that
    /// layer unpacked on top of the layers `below` (diff ids, base first), instead of unpacking
    /// the blob again: a build step's staging directory holds what the unpacker would make, so
    /// its files are created once and nothing is deleted. A layer already unpacked there wins
    /// (`dir` is then dropped). Hold the gc lock shared.
    pub fn adopt_unpacked_layer(
        &self,
        below: &[String],
        diff_id: &str,
        dir: StagedDir,
    ) -> Result<()> {
        let mut diff_ids = below.to_vec();
        diff_ids.push(diff_id.to_string());
        let chain = chain_ids(&diff_ids).pop().unwrap_or_default();
        commit_layers(self.layout(), &[chain], vec![Some(dir)], vec![0])?;
        Ok(())
    }

    /// Records an image whose config is `config` and whose layer blobs (base first, one per
    /// `config.rootfs.diff_ids` entry) are in the store: stores the config and an OCI manifest,
    /// unpacks the layers, records the image and points `tags` (`repo[:tag]`) at it; the journal
    /// names the change `action` (`commit`, `build`).
    pub fn import_image(
        &self,
        config: &ConfigFile,
        layers: &[LayerBlob],
        tags: &[String],
        action: &'static str,
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
        let _gc = self.begin_import()?;
        let store = ContentStore::new(self.layout());
        let (_, sizes) = self.unpack_layers(diff_ids, layers)?;

        let config_bytes = serde_json::to_vec(config)
            .map_err(|e| EngineError::InvalidInput(format!("cannot encode image config: {e}")))?;
        let config_digest = sha256_digest(&config_bytes);
        store.put(&config_digest, &config_bytes)?;
        let descriptor = |media_type: &str, digest: &str, size: u64| Descriptor {
            media_type: media_type.to_string(),
            digest: digest.to_string(),
            size,
            platform: None,
        };
        let manifest = Manifest {
            schema_version: 2,
            config: descriptor(MEDIA_CONFIG, &config_digest, config_bytes.len() as u64),
            layers: layers
                .iter()
                .map(|l| descriptor(&l.media_type, &l.digest, l.size))
                .collect(),
        };
        let manifest_json = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": manifest.config,
            "layers": manifest.layers,
        });
        let manifest_bytes = serde_json::to_vec(&manifest_json)
            .map_err(|e| EngineError::InvalidInput(format!("cannot encode manifest: {e}")))?;
        let manifest_digest = sha256_digest(&manifest_bytes);
        store.put(&manifest_digest, &manifest_bytes)?;
        let image = StoredImage {
            what: names
                .first()
                .cloned()
                .unwrap_or_else(|| config_digest.clone()),
            manifest_digest: manifest_digest.clone(),
            platform_manifest_digest: manifest_digest,
            manifest,
            config: ConfigBlob {
                architecture: config.architecture.clone(),
                os: config.os.clone(),
                variant: config.variant.clone(),
                created: config.created.clone(),
                author: config.author.clone(),
                config: Some(config.config.clone()),
                rootfs: RootFs {
                    diff_ids: diff_ids.clone(),
                },
            },
            repo_tags: names,
            repo_digests: Vec::new(),
        };
        let (record, _) = self.record_image(&image, &sizes, action)?;
        self.emit(EngineEvent::ImagesChanged);
        Ok(record)
    }
}
