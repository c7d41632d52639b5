//! `load`: an archive's images into the engine. The archive is read first (every blob verified
//! into the content store, layers unpacked on the way), then every image is planned (manifests, configs and layers checked
//! against each other), then every layer unpacked, and only then are the images recorded. On any
//! failure the blobs and layers this load added are removed again, so a bad archive leaves
//! nothing behind.

use std::collections::BTreeMap;

use super::media::{layer_type_of, DOCKER_CONFIG};
use super::prestage::PrestagedLayers;
use super::reader::{Collected, Reader};
use super::{LoadInput, LoadedImage};
use crate::engine::compat::archive::{
    ArchiveManifestEntry, OciIndex, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME,
};
use crate::engine::content::{sha256_digest, ContentStore};
use crate::engine::distribution::manifest::{
    self, Descriptor, Fetched, Manifest, Platform, DOCKER_MANIFEST,
};
use crate::engine::distribution::reference::ImageRef;
use crate::engine::error::{EngineError, Result};
use crate::engine::image::gc::gc_lock_path;
use crate::engine::image::import::{chain_ids, ConfigBlob, StoredImage};
use crate::engine::layout::Layout;
use crate::engine::lock::FileLock;
use crate::engine::staging::StagedDir;
use crate::engine::Engine;

/// Renames an unused layer into `tmp/` and deletes it there.
fn discard_layer(layout: &Layout, chain: &str) {
    let Ok(dir) = layout.layer_dir(chain) else {
        return;
    };
    let doomed = layout
        .tmp_dir()
        .join(format!("gc-{}", chain.trim_start_matches("sha256:")));
    if std::fs::rename(&dir, &doomed).is_ok() {
        let _ = std::fs::remove_dir_all(&doomed);
    }
}

fn bad(m: String) -> EngineError {
    EngineError::InvalidInput(m)
}

impl Engine {
    /// Loads every image of `input` and returns them with the names they got. Nothing of a
    /// failed load stays: no record, no unpacked layer, no blob that was not stored before.
    pub async fn load_images(&self, input: LoadInput) -> Result<Vec<LoadedImage>> {
        let engine = self.clone();
        let gc = crate::engine::blocking(self, |e| e.begin_import()).await?;
        let read = tokio::task::spawn_blocking(move || engine.read_archive(input))
            .await
            .map_err(|e| EngineError::io("load task failed", std::io::Error::other(e)))?;
        let (mut collected, result) = read;
        let mut prestaged = std::mem::take(&mut collected.unpacked);
        let mut new_blobs = collected.new_blobs.clone();
        let mut new_layers = Vec::new();
        let result = match result {
            Ok(()) => {
                self.load_collected(&collected, &mut prestaged, &mut new_blobs, &mut new_layers)
                    .await
            }
            Err(e) => Err(e),
        };
        // What no image used goes before the lock does.
        drop(prestaged);
        drop(gc);
        if result.is_err() {
            let engine = self.clone();
            let _ = tokio::task::spawn_blocking(move || {
                engine.discard_unreferenced(&new_blobs, &new_layers)
            })
            .await;
        }
        result
    }

    fn read_archive(&self, input: LoadInput) -> (Collected, Result<()>) {
        let store = ContentStore::new(self.layout());
        let staging = match StagedDir::create(self.layout(), "load") {
            Ok(s) => s,
            Err(e) => return (Collected::default(), Err(e)),
        };
        let mut reader = Reader::new(&store, staging);
        let result = match input {
            LoadInput::Path(p) if p.is_dir() => reader.read_dir(&p),
            LoadInput::Path(p) => match std::fs::File::open(&p) {
                Ok(f) => reader.read_stream(f),
                Err(e) => Err(EngineError::io_path("cannot open the archive", &p, e)),
            },
            LoadInput::Stream(s) => reader.read_stream(s),
        };
        (reader.finish(), result)
    }

    async fn load_collected(
        &self,
        collected: &Collected,
        prestaged: &mut PrestagedLayers,
        new_blobs: &mut Vec<String>,
        new_layers: &mut Vec<String>,
    ) -> Result<Vec<LoadedImage>> {
        let store = ContentStore::new(self.layout());
        let images = plan(collected, &store, new_blobs)?;
        let mut sizes = Vec::new();
        for image in &images {
            for chain in chain_ids(&image.config.rootfs.diff_ids) {
                if !self.layout().layer_dir(&chain)?.exists() {
                    new_layers.push(chain);
                }
            }
            sizes.push(self.unpack_stored_with(image, prestaged).await?);
        }
        let mut loaded = Vec::new();
        for (image, sizes) in images.into_iter().zip(sizes) {
            let engine = self.clone();
            let image2 = image.clone();
            let (record, _) =
                tokio::task::spawn_blocking(move || engine.record_image(&image2, &sizes, "load"))
                    .await
                    .map_err(|e| EngineError::io("load task failed", std::io::Error::other(e)))??;
            // The names this archive gave, in its order (the record may have more).
            let names = image
                .repo_tags
                .iter()
                .map(|t| crate::engine::image::record::familiar(t))
                .collect();
            loaded.push(LoadedImage {
                id: record.id.clone(),
                names,
            });
        }
        self.emit(crate::engine::EngineEvent::ImagesChanged);
        Ok(loaded)
    }

    /// Removes `blobs` and the unpacked layers `chains` unless an image uses them (best effort,
    /// only when no other pull or load runs).
    pub(crate) fn discard_unreferenced(&self, blobs: &[String], chains: &[String]) {
        let Ok(Some(_gc)) = FileLock::try_acquire(&gc_lock_path(self.layout())) else {
            return;
        };
        let Ok(records) = self.image_records() else {
            return;
        };
        let mut used = std::collections::HashSet::new();
        for r in &records {
            used.insert(r.id.clone());
            used.insert(r.manifest_digest.clone());
            used.insert(r.platform_manifest_digest.clone());
            for l in &r.layers {
                used.insert(l.digest.clone());
                used.insert(l.chain_id.clone());
            }
        }
        for c in chains {
            if !used.contains(c) {
                discard_layer(self.layout(), c);
            }
        }
        let store = ContentStore::new(self.layout());
        for d in blobs {
            if !used.contains(d) {
                if let Ok(p) = store.path(d) {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
        crate::engine::staging::sweep(self.layout());
    }
}

/// The images of the archive, every blob checked to be in the store with its declared size.
fn plan(
    collected: &Collected,
    store: &ContentStore,
    new_blobs: &mut Vec<String>,
) -> Result<Vec<StoredImage>> {
    let docker_names = match collected.files.get("manifest.json") {
        Some(bytes) => Some(
            serde_json::from_slice::<Vec<ArchiveManifestEntry>>(bytes)
                .map_err(|e| bad(format!("the archive's manifest.json is malformed: {e}")))?,
        ),
        None => None,
    };
    if let Some(index) = collected.files.get("index.json") {
        let index: OciIndex = serde_json::from_slice(index)
            .map_err(|e| bad(format!("the archive's index.json is malformed: {e}")))?;
        return plan_oci(collected, store, &index, docker_names.as_deref());
    }
    match docker_names {
        Some(entries) => plan_docker(collected, store, &entries, new_blobs),
        None => Err(bad(
            "the archive has neither manifest.json nor index.json: it is not a docker-archive, \
             an oci-archive or an OCI layout"
                .into(),
        )),
    }
}

/// Reads the blob `d` of the archive, checking its size against the descriptor.
fn read_described(store: &ContentStore, d: &Descriptor, what: &str) -> Result<Vec<u8>> {
    let bytes = store.read(&d.digest).map_err(|_| {
        bad(format!(
            "the archive lacks blob {} ({what}): it is incomplete",
            d.digest
        ))
    })?;
    if bytes.len() as u64 != d.size {
        return Err(EngineError::Digest(format!(
            "blob {} ({what}) has {} bytes but its descriptor says {}",
            d.digest,
            bytes.len(),
            d.size
        )));
    }
    Ok(bytes)
}

fn check_layers(store: &ContentStore, m: &Manifest, what: &str) -> Result<()> {
    for l in &m.layers {
        let path = store.path(&l.digest)?;
        match std::fs::metadata(&path) {
            Ok(meta) if meta.len() == l.size => {}
            Ok(meta) => {
                return Err(EngineError::Digest(format!(
                    "{what}: layer {} has {} bytes but the manifest says {}",
                    l.digest,
                    meta.len(),
                    l.size
                )))
            }
            Err(_) => {
                return Err(bad(format!(
                    "{what}: the archive lacks layer {}: it is incomplete",
                    l.digest
                )))
            }
        }
    }
    Ok(())
}

/// The normalised name an OCI index entry gives, if any.
fn entry_name(annotations: &BTreeMap<String, String>) -> Option<String> {
    let full = annotations.get(ANNOTATION_IMAGE_NAME).or_else(|| {
        annotations
            .get(ANNOTATION_REF_NAME)
            .filter(|n| n.contains(':') || n.contains('/'))
    })?;
    ImageRef::parse(full).ok().and_then(|r| r.tagged())
}

fn plan_oci(
    collected: &Collected,
    store: &ContentStore,
    index: &OciIndex,
    docker: Option<&[ArchiveManifestEntry]>,
) -> Result<Vec<StoredImage>> {
    if index.manifests.is_empty() {
        return Err(bad("the archive's index.json lists no images".into()));
    }
    let mut out: Vec<StoredImage> = Vec::new();
    for entry in &index.manifests {
        let top = Descriptor {
            media_type: entry.media_type.clone(),
            digest: entry.digest.clone(),
            size: entry.size,
            platform: None,
        };
        let what = format!("image {}", entry.digest);
        let bytes = read_described(store, &top, "an index.json entry")?;
        let (manifest, platform_digest) = match manifest::parse(&bytes, &what).map_err(to_input)? {
            Fetched::Manifest(m) => (m, entry.digest.clone()),
            Fetched::Index(i) => {
                let d = manifest::select(&i, &Platform::host(), &what)?.clone();
                let bytes = read_described(store, &d, "a platform manifest")?;
                match manifest::parse(&bytes, &what).map_err(to_input)? {
                    Fetched::Manifest(m) => (m, d.digest.clone()),
                    Fetched::Index(_) => {
                        return Err(bad(format!("{what}: nested indexes are not supported")))
                    }
                }
            }
        };
        let mut names: Vec<String> = entry_name(&entry.annotations).into_iter().collect();
        for e in docker.unwrap_or_default() {
            if collected.resolve(&e.config) == blob_path(&manifest.config.digest) {
                names.extend(docker_tags(e)?);
            }
        }
        if let Some(existing) = out
            .iter_mut()
            .find(|s| s.platform_manifest_digest == platform_digest)
        {
            for n in names {
                if !existing.repo_tags.contains(&n) {
                    existing.repo_tags.push(n);
                }
            }
            continue;
        }
        let config_bytes = read_described(store, &manifest.config, "the image config")?;
        let config = ConfigBlob::parse(&config_bytes, manifest.layers.len(), &what, bad)?;
        check_layers(store, &manifest, &what)?;
        names.dedup();
        out.push(StoredImage {
            what,
            manifest_digest: entry.digest.clone(),
            platform_manifest_digest: platform_digest,
            manifest,
            config,
            repo_tags: names,
            repo_digests: Vec::new(),
        });
    }
    Ok(out)
}

fn blob_path(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

fn to_input(e: EngineError) -> EngineError {
    match e {
        EngineError::Registry(m) => bad(m),
        other => other,
    }
}

fn docker_tags(e: &ArchiveManifestEntry) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for t in e.repo_tags.iter().flatten() {
        let r = ImageRef::parse(t)
            .map_err(|err| bad(format!("the archive's manifest.json names {t:?}: {err}")))?;
        out.extend(r.tagged());
    }
    Ok(out)
}

/// A docker-archive without an OCI layout (docker before 25, podman): the config and layer
/// files are named by path; the blobs' digests are what they hash to. A Docker schema 2
/// manifest is made for them (or an OCI one when a layer is zstd).
fn plan_docker(
    collected: &Collected,
    store: &ContentStore,
    entries: &[ArchiveManifestEntry],
    new_blobs: &mut Vec<String>,
) -> Result<Vec<StoredImage>> {
    if entries.is_empty() {
        return Err(bad("the archive's manifest.json lists no images".into()));
    }
    let mut out = Vec::new();
    for e in entries {
        let what = format!("image {}", e.config);
        let config_bytes = collected.read(store, &e.config)?.ok_or_else(|| {
            bad(format!(
                "the archive lacks {}, the config manifest.json names: it is incomplete",
                e.config
            ))
        })?;
        let config_digest = sha256_digest(&config_bytes);
        if !store.has(&config_digest)? {
            store.put(&config_digest, &config_bytes)?;
            new_blobs.push(config_digest.clone());
        }
        let mut layers = Vec::new();
        for l in &e.layers {
            let p = collected.resolve(l);
            let (digest, size) = collected.blobs.get(&p).cloned().ok_or_else(|| {
                bad(format!(
                    "the archive lacks {l}, a layer manifest.json names: it is incomplete"
                ))
            })?;
            let mut head = Vec::new();
            let path = store.path(&digest)?;
            if let Ok(f) = std::fs::File::open(&path) {
                use std::io::Read;
                let _ = f.take(8).read_to_end(&mut head);
            }
            layers.push(Descriptor {
                media_type: layer_type_of(&head).to_string(),
                digest,
                size,
                platform: None,
            });
        }
        let zstd = layers
            .iter()
            .any(|l| l.media_type == super::media::OCI_LAYER_ZSTD);
        let (mt, cfg_mt) = if zstd {
            (
                crate::engine::distribution::manifest::OCI_MANIFEST,
                super::media::OCI_CONFIG,
            )
        } else {
            (DOCKER_MANIFEST, DOCKER_CONFIG)
        };
        let manifest_json = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": mt,
            "config": {"mediaType": cfg_mt, "digest": config_digest, "size": config_bytes.len()},
            "layers": layers,
        });
        let manifest_bytes = serde_json::to_vec(&manifest_json)
            .map_err(|err| bad(format!("{what}: cannot encode its manifest: {err}")))?;
        let manifest_digest = sha256_digest(&manifest_bytes);
        let manifest = match manifest::parse(&manifest_bytes, &what).map_err(to_input)? {
            Fetched::Manifest(m) => m,
            Fetched::Index(_) => return Err(bad(format!("{what}: not an image"))),
        };
        let config = ConfigBlob::parse(&config_bytes, manifest.layers.len(), &what, bad)?;
        if !store.has(&manifest_digest)? {
            store.put(&manifest_digest, &manifest_bytes)?;
            new_blobs.push(manifest_digest.clone());
        }
        out.push(StoredImage {
            what,
            manifest_digest: manifest_digest.clone(),
            platform_manifest_digest: manifest_digest,
            manifest,
            config,
            repo_tags: docker_tags(e)?,
            repo_digests: Vec::new(),
        });
    }
    Ok(out)
}
