//! The build cache: `build-cache/<key-hex>.json` under the engine root maps a step's key to the
//! image state after it (config and layer blobs). The key is the sha256 of the parent state's
//! config digest, the expanded instruction and, for COPY/ADD, the digest of the sources'
//! contents, modes and owners, so it lasts across builds and a changed source file misses. An
//! entry whose blobs `image prune` removed is a miss.

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
        let tmp = path.with_extension("tmp");
        let bytes = serde_json::to_vec(state)
            .map_err(|e| EngineError::InvalidInput(format!("cannot encode cache entry: {e}")))?;
        std::fs::write(&tmp, bytes).ctx("cannot write", &tmp)?;
        std::fs::rename(&tmp, &path).ctx("cannot write", &path)
    }

    /// Removes every entry (`builder prune`); returns how many there were.
    pub fn prune(&self) -> Result<u64> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Ok(0);
        };
        let mut n = 0;
        for e in rd.flatten() {
            if e.path().extension().is_some_and(|x| x == "json") {
                std::fs::remove_file(e.path()).ctx("cannot remove", &e.path())?;
                n += 1;
            }
        }
        Ok(n)
    }
}

impl crate::engine::Engine {
    /// `builder prune`: forgets every cached build step; returns how many entries went. The
    /// layers and blobs they named stay until `image prune` finds no image using them.
    pub fn prune_build_cache(&self) -> Result<u64> {
        BuildCache::new(self.layout()).prune()
    }
}
