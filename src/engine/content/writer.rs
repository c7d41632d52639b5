//! Blob writer: a stream whose digest is not known before its last byte (a layer being written,
//! an archive being re-compressed). Bytes go to `ingest/new-<pid>-<random>.partial` while they
//! are hashed; [`BlobWriter::commit`] names the blob by that hash and renames it into `blobs/`.
//! Dropping a writer that was not committed removes its file, so a failed write leaves nothing.
//!
//! Blocking: from async code, run it on the blocking pool.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::store::{sync_dir, ContentStore};
use crate::engine::error::{IoContext, Result};
use crate::engine::lock::FileLock;

/// A blob being written whose digest is computed from what is written.
pub struct BlobWriter {
    store: ContentStore,
    partial: PathBuf,
    out: BufWriter<File>,
    hasher: Sha256,
    size: u64,
    done: bool,
}

/// A blob stored by [`BlobWriter::commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// `sha256:<hex>` of the bytes.
    pub digest: String,
    /// Their count.
    pub size: u64,
}

impl ContentStore {
    /// Starts a blob whose digest will be known at [`BlobWriter::commit`].
    pub fn writer(&self) -> Result<BlobWriter> {
        let partial = self.layout().ingest_dir().join(format!(
            "new-{}-{}.partial",
            std::process::id(),
            hex::encode(rand::random::<[u8; 8]>())
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .ctx("cannot create ingest file", &partial)?;
        Ok(BlobWriter {
            store: self.clone(),
            partial,
            out: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            size: 0,
            done: false,
        })
    }
}

impl BlobWriter {
    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Syncs the bytes and moves them to `blobs/sha256/<hex>` (an equal blob already stored
    /// wins; ours is dropped). Takes the blob's lock, so it never races an ingest of the same
    /// digest.
    pub fn commit(mut self) -> Result<StoredBlob> {
        self.out.flush().ctx("cannot write", &self.partial)?;
        let digest = format!("sha256:{}", hex::encode(self.hasher.clone().finalize()));
        let _lock = FileLock::acquire(&self.store.lock_path(&digest)?)?;
        let dest = self.store.path(&digest)?;
        if !dest.is_file() {
            self.out
                .get_ref()
                .sync_all()
                .ctx("cannot sync", &self.partial)?;
            std::fs::rename(&self.partial, &dest).ctx("cannot store blob", &dest)?;
            self.done = true;
            sync_dir(&self.store.layout().blobs_dir())?;
        }
        Ok(StoredBlob {
            digest,
            size: self.size,
        })
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::content::sha256_digest;
    use crate::engine::layout::Layout;

    #[test]
    fn a_written_blob_is_named_by_its_hash_and_a_dropped_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        layout.create().unwrap();
        let store = ContentStore::new(&layout);
        let mut w = store.writer().unwrap();
        w.write_all(b"hello ").unwrap();
        w.write_all(b"world").unwrap();
        let blob = w.commit().unwrap();
        assert_eq!(blob.digest, sha256_digest(b"hello world"));
        assert_eq!(blob.size, 11);
        assert_eq!(store.read(&blob.digest).unwrap(), b"hello world");

        let mut w = store.writer().unwrap();
        w.write_all(b"half").unwrap();
        drop(w);
        let left: Vec<_> = std::fs::read_dir(layout.ingest_dir()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        // Writing the same bytes again keeps the one stored blob.
        let mut w = store.writer().unwrap();
        w.write_all(b"hello world").unwrap();
        assert_eq!(w.commit().unwrap().digest, blob.digest);
        assert!(std::fs::read_dir(layout.ingest_dir())
            .unwrap()
            .next()
            .is_none());
    }
}
