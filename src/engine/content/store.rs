//! The content store: verified blobs by digest under `blobs/sha256/<hex>`. Blobs arrive through
//! [`super::ingest`] (streams) or [`ContentStore::put`] (bytes already in memory); both verify
//! before anything appears under `blobs/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::layout::Layout;

/// Blobs under one engine root.
#[derive(Debug, Clone)]
pub struct ContentStore {
    layout: Layout,
}

pub(super) fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Syncs a directory so a rename in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx("cannot sync directory", dir)
}

impl ContentStore {
    /// The store of `layout`.
    pub fn new(layout: &Layout) -> ContentStore {
        ContentStore {
            layout: layout.clone(),
        }
    }

    /// The layout the store lives in.
    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Path of a blob (validated digest).
    pub fn path(&self, digest: &str) -> Result<PathBuf> {
        self.layout.blob_path(digest)
    }

    /// True when the verified blob is present.
    pub fn has(&self, digest: &str) -> Result<bool> {
        Ok(self.path(digest)?.is_file())
    }

    /// Reads a whole blob (manifests and configs).
    pub fn read(&self, digest: &str) -> Result<Vec<u8>> {
        let path = self.path(digest)?;
        std::fs::read(&path).ctx("cannot read blob", &path)
    }

    /// Stores bytes already in memory after checking they hash to `digest`.
    pub fn put(&self, digest: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(digest)?;
        let actual = sha256_digest(bytes);
        if actual != digest {
            return Err(EngineError::Digest(format!(
                "content does not match its digest: expected {digest}, got {actual}"
            )));
        }
        if path.is_file() {
            return Ok(());
        }
        let tmp = self.layout.ingest_dir().join(format!(
            "{}.{}.{}",
            hex_of(digest),
            std::process::id(),
            rand::random::<u32>()
        ));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp).ctx("cannot create", &tmp)?;
            f.write_all(bytes).ctx("cannot write", &tmp)?;
            f.sync_all().ctx("cannot sync", &tmp)?;
            std::fs::rename(&tmp, &path).ctx("cannot store blob", &path)?;
            sync_dir(&self.layout.blobs_dir())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Partial-download path of a blob.
    pub fn partial_path(&self, digest: &str) -> Result<PathBuf> {
        self.path(digest)?;
        Ok(self
            .layout
            .ingest_dir()
            .join(format!("{}.partial", hex_of(digest))))
    }

    /// Lock file guarding a blob's download.
    pub fn lock_path(&self, digest: &str) -> Result<PathBuf> {
        self.path(digest)?;
        Ok(self
            .layout
            .locks_dir()
            .join(format!("blob-{}.lock", hex_of(digest))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_checks_the_digest() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        layout.create().unwrap();
        let store = ContentStore::new(&layout);
        let d = sha256_digest(b"hello");
        assert!(store
            .put(&d, b"hellO")
            .unwrap_err()
            .to_string()
            .contains(&d));
        assert!(!store.has(&d).unwrap());
        store.put(&d, b"hello").unwrap();
        assert_eq!(store.read(&d).unwrap(), b"hello");
        assert_eq!(std::fs::read_dir(layout.ingest_dir()).unwrap().count(), 0);
    }
}
