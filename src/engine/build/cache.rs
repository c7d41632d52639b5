//! The build cache: `build-cache/<key-hex>.json` under the engine root maps a step's key to the
//! image state after it (config and layer blobs). The key is the sha256 of the parent state's
//! config digest, the expanded instruction and, for COPY/ADD, the digest of the sources'
//! contents, modes and owners, so it lasts across builds and a changed source file misses. Image
//! gc keeps the blobs entries name (not the layers unpacked from them); `builder prune` forgets
//! the entries and frees those blobs. An entry whose blobs are gone is a miss.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::engine::content::{sha256_digest, ContentStore};
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::image::assemble::LayerBlob;
use crate::engine::image::config::ConfigFile;
use crate::engine::layout::{create_private_dir, Layout};

/// An image being built: its config and its layer blobs, base first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageState {
    pub config: ConfigFile,
    pub layers: Vec<LayerBlob>,
    /// Whether this stage set CMD (an ENTRYPOINT then keeps it). Not part of the id.
    #[serde(default)]
    pub cmd_set: bool,
}

impl ImageState {
    /// The digest of the config: names the state (what `Step` lines show).
    pub fn id(&self) -> String {
        sha256_digest(&serde_json::to_vec(&self.config).unwrap_or_default())
    }
}

/// The cache of one engine root.
pub struct BuildCache {
    dir: PathBuf,
    store: ContentStore,
}

/// The key of a step.
pub fn key(parent: &ImageState, instruction: &str, sources: &str) -> String {
    sha256_digest(format!("{}\n{instruction}\n{sources}", parent.id()).as_bytes())
}

impl BuildCache {
    /// The cache under `layout`.
    pub fn new(layout: &Layout) -> BuildCache {
        BuildCache {
            dir: layout.root().join("build-cache"),
            store: ContentStore::new(layout),
        }
    }

    /// The state stored for `key`, when every blob it names is still stored.
    pub fn get(&self, key: &str) -> Option<ImageState> {
        let path = self
            .dir
            .join(format!("{}.json", key.trim_start_matches("sha256:")));
        let state: ImageState = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        state
            .layers
            .iter()
            .all(|l| self.store.has(&l.digest).unwrap_or(false))
            .then_some(state)
    }

    /// Stores the state after the step `key`.
    pub fn put(&self, key: &str, state: &ImageState) -> Result<()> {
        if !self.dir.is_dir() {
            create_private_dir(&self.dir).ctx("cannot create", &self.dir)?;
        }
        let path = self
            .dir
            .join(format!("{}.json", key.trim_start_matches("sha256:")));
        // Two stages building at once may store the same step.
        let tmp = path.with_extension(format!("{}.tmp", hex::encode(rand::random::<[u8; 4]>())));
        let bytes = serde_json::to_vec(state)
            .map_err(|e| EngineError::InvalidInput(format!("cannot encode cache entry: {e}")))?;
        std::fs::write(&tmp, bytes).ctx("cannot write", &tmp)?;
        std::fs::rename(&tmp, &path).ctx("cannot write", &path)
    }

    /// Every entry: its file and the state it names (unreadable entries left out).
    pub fn entries(&self) -> Vec<(PathBuf, ImageState)> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in rd.flatten() {
            let path = e.path();
            if path.extension().is_some_and(|x| x == "json") {
                if let Some(state) = std::fs::read(&path)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<ImageState>(&b).ok())
                {
                    out.push((path, state));
                }
            }
        }
        out
    }

    /// The layer blobs (`sha256:<hex>`) the entries name: kept by image gc.
    pub fn blobs(&self) -> HashSet<String> {
        self.entries()
            .into_iter()
            .flat_map(|(_, s)| s.layers.into_iter().map(|l| l.digest))
            .collect()
    }

    /// Removes every entry (`builder prune`); returns how many there were.
    pub fn prune(&self) -> Result<u64> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Ok(0);
        };
        let mut n = 0;
        for e in rd.flatten() {
            let path = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            if path.extension().is_some_and(|x| x == "json") {
                std::fs::remove_file(&path).ctx("cannot remove", &path)?;
                n += 1;
            } else if name.ends_with(".tmp") {
                // Left by a build killed while it stored a step.
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(n)
    }
}

/// What `builder prune` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildPruneReport {
    /// Cache entries forgotten.
    pub entries: u64,
    /// RUN containers of killed builds removed.
    pub containers: usize,
    /// Bytes freed: the blobs only the cache kept, and the layers unpacked from them.
    pub reclaimed: u64,
}

impl crate::engine::Engine {
    /// `builder prune`: removes what killed builds left, forgets every cached step and frees
    /// the blobs only the cache kept (waiting for running builds and pulls, which hold the gc
    /// lock shared).
    pub fn prune_build_cache(&self) -> Result<BuildPruneReport> {
        self.prune_build_cache_now()
    }

    fn prune_build_cache_now(&self) -> Result<BuildPruneReport> {
        let containers = self.collect_build_leftovers()?;
        let _gc = crate::engine::lock::FileLock::acquire(&crate::engine::image::gc::gc_lock_path(
            self.layout(),
        ))?;
        let entries = BuildCache::new(self.layout()).prune()?;
        let reclaimed = self.collect_garbage()?.reclaimed;
        Ok(BuildPruneReport {
            entries,
            containers,
            reclaimed,
        })
    }
}
