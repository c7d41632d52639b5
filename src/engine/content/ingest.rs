//! Ingest: how a stream of bytes becomes a blob, whatever its source (a registry download, an
//! archive being loaded, a layer being committed). Small blobs already in memory (manifests)
//! go through [`ContentStore::put`], which verifies them the same way.
//!
//! An [`Ingest`] holds `locks/blob-<hex>.lock`, so two processes never write the same blob, and
//! writes to `ingest/<hex>.partial`, hashing every byte on the way. [`Ingest::commit`] checks size
//! and sha256 against what the caller expected, syncs the file and renames it into `blobs/`; a
//! mismatch removes the partial file and fails naming both digests. Dropping an ingest that was
//! not committed removes its partial file too, so only a process that dies mid-write (SIGKILL,
//! power loss) leaves one behind, and the next ingest of that blob resumes from it.
//!
//! All of it is blocking: from async code, run it on the blocking pool.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::store::{sync_dir, ContentStore};
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::lock::FileLock;

/// Bytes past the declared size still hashed (not stored), to name the actual digest of a blob
/// that is too long. Past this the writer stops and the blob is refused.
pub const OVERRUN_LIMIT: u64 = 64 << 20;

/// A blob being written: verified and moved into `blobs/` by [`Ingest::commit`].
pub struct Ingest {
    digest: String,
    size: u64,
    partial: PathBuf,
    dest: PathBuf,
    blobs_dir: PathBuf,
    out: BufWriter<File>,
    hasher: Sha256,
    /// Bytes seen, including any past `size` (which are hashed, not stored).
    seen: u64,
    done: bool,
    _lock: FileLock,
}

impl ContentStore {
    /// Starts (or resumes) writing the blob `digest` of `size` bytes. `None` when the blob is
    /// already stored. Waits for the blob's lock while another process writes it.
    pub fn begin(&self, digest: &str, size: u64) -> Result<Option<Ingest>> {
        if self.has(digest)? {
            return Ok(None);
        }
        let lock = FileLock::acquire(&self.lock_path(digest)?)?;
        if self.has(digest)? {
            return Ok(None);
        }
        let partial = self.partial_path(digest)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&partial)
            .ctx("cannot open ingest file", &partial)?;
        let (hasher, kept) = match resume(&mut file, size) {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(EngineError::io_path("cannot resume", &partial, e));
            }
        };
        let mut ingest = Ingest {
            digest: digest.to_string(),
            size,
            dest: self.path(digest)?,
            blobs_dir: self.layout().blobs_dir(),
            partial,
            out: BufWriter::with_capacity(1 << 20, file),
            hasher,
            seen: kept,
            done: false,
            _lock: lock,
        };
        if kept == 0 {
            ingest.restart()?;
        }
        Ok(Some(ingest))
    }

    /// Stores what `reader` yields as the blob `digest` of `size` bytes, unless it is already
    /// stored (then `reader` is not read and the answer is false). Refuses bytes that do not
    /// match, leaving nothing behind.
    pub fn ingest(&self, mut reader: impl Read, digest: &str, size: u64) -> Result<bool> {
        let Some(mut ingest) = self.begin(digest, size)? else {
            return Ok(false);
        };
        // A reader always starts at the first byte.
        ingest.restart()?;
        let mut buf = vec![0u8; 1 << 20];
        while !ingest.overran() {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(EngineError::io(
                        format!("cannot read the content of blob {digest}"),
                        e,
                    ))
                }
            };
            ingest.write(&buf[..n])?;
        }
        ingest.commit()?;
        Ok(true)
    }
}

impl Ingest {
    /// Bytes received so far, including any past the declared size.
    pub fn received(&self) -> u64 {
        self.seen
    }

    /// Bytes stored so far (where a resumed download continues).
    pub fn offset(&self) -> u64 {
        self.seen.min(self.size)
    }

    /// True when more than [`OVERRUN_LIMIT`] bytes past the declared size arrived: stop writing,
    /// [`Ingest::commit`] refuses the blob.
    pub fn overran(&self) -> bool {
        self.seen > self.size.saturating_add(OVERRUN_LIMIT)
    }

    /// Throws away what was written and starts from the first byte.
    pub fn restart(&mut self) -> Result<()> {
        self.out.flush().ctx("cannot write", &self.partial)?;
        let file = self.out.get_mut();
        file.set_len(0).ctx("cannot truncate", &self.partial)?;
        file.seek(SeekFrom::Start(0))
            .ctx("cannot seek", &self.partial)?;
        self.hasher = Sha256::new();
        self.seen = 0;
        Ok(())
    }

    /// Appends `bytes`. Bytes past the declared size are hashed but not stored.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        let room = self.size.saturating_sub(self.seen);
        let keep = (bytes.len() as u64).min(room) as usize;
        if keep > 0 {
            self.out
                .write_all(&bytes[..keep])
                .ctx("cannot write", &self.partial)?;
        }
        self.seen += bytes.len() as u64;
        Ok(())
    }

    /// Flushes what was written so far (before waiting for more, so a resume finds it).
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().ctx("cannot write", &self.partial)
    }

    /// Checks size and digest, then moves the blob into `blobs/` (synced, atomically). A mismatch
    /// removes the partial file and fails with [`EngineError::Digest`] naming both digests and
    /// sizes.
    pub fn commit(mut self) -> Result<()> {
        self.flush()?;
        let actual = format!("sha256:{}", hex::encode(self.hasher.clone().finalize()));
        if self.seen != self.size || actual != self.digest {
            let more = if self.overran() { " or more" } else { "" };
            return Err(EngineError::Digest(format!(
                "content does not match its digest: expected {} ({} bytes), got {actual} ({}{more} \
                 bytes); it was discarded",
                self.digest, self.size, self.seen
            )));
        }
        self.out
            .get_ref()
            .sync_all()
            .ctx("cannot sync", &self.partial)?;
        std::fs::rename(&self.partial, &self.dest).ctx("cannot store blob", &self.dest)?;
        self.done = true;
        sync_dir(&self.blobs_dir)
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        if !self.done {
            // Before the lock goes (fields drop after this body), so no other writer sees it.
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// Hashes what an earlier interrupted write left in `file` and positions it at the end of that;
/// a file longer than `size` is not a prefix and counts as nothing (the caller restarts).
fn resume(file: &mut File, size: u64) -> std::io::Result<(Sha256, u64)> {
    let mut hasher = Sha256::new();
    let len = file.metadata()?.len();
    if len > size {
        return Ok((hasher, 0));
    }
    file.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    while done < len {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        done += n as u64;
    }
    file.set_len(done)?;
    file.seek(SeekFrom::Start(done))?;
    Ok((hasher, done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::content::sha256_digest;
    use crate::engine::layout::Layout;

    fn store() -> (tempfile::TempDir, Layout, ContentStore) {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        layout.create().unwrap();
        let store = ContentStore::new(&layout);
        (dir, layout, store)
    }

    fn entries(dir: &std::path::Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    fn nothing_left(layout: &Layout) {
        assert_eq!(entries(&layout.ingest_dir()), Vec::<String>::new());
        let blobs: Vec<String> = std::fs::read_dir(layout.blobs_dir())
            .unwrap()
            .flat_map(|e| entries(&e.unwrap().path()))
            .collect();
        assert_eq!(blobs, Vec::<String>::new());
    }

    #[test]
    fn a_wrong_digest_is_refused_and_leaves_nothing() {
        let (_dir, layout, store) = store();
        let d = sha256_digest(b"hello");
        let err = store.ingest(&b"hellO"[..], &d, 5).unwrap_err();
        assert!(matches!(err, EngineError::Digest(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(&d), "{msg}");
        assert!(msg.contains(&sha256_digest(b"hellO")), "{msg}");
        assert!(!store.has(&d).unwrap());
        nothing_left(&layout);
    }

    #[test]
    fn a_wrong_size_is_refused_and_leaves_nothing() {
        let (_dir, layout, store) = store();
        let d = sha256_digest(b"hello");
        for (bytes, size) in [(&b"hello"[..], 4), (&b"hello"[..], 6), (&b"hell"[..], 5)] {
            let err = store.ingest(bytes, &d, size).unwrap_err();
            assert!(matches!(err, EngineError::Digest(_)), "{err}");
            assert!(
                err.to_string().contains(&format!("({size} bytes)")),
                "{err}"
            );
            nothing_left(&layout);
        }
        // Too long: bytes past the declared size are hashed, so the actual digest is named.
        let err = store.ingest(&b"hello!"[..], &d, 5).unwrap_err();
        assert!(err.to_string().contains(&sha256_digest(b"hello!")), "{err}");
        nothing_left(&layout);
    }

    #[test]
    fn matching_content_is_stored_once() {
        let (_dir, layout, store) = store();
        let d = sha256_digest(b"hello");
        assert!(store.ingest(&b"hello"[..], &d, 5).unwrap());
        assert_eq!(store.read(&d).unwrap(), b"hello");
        assert!(!store.ingest(&b"other"[..], &d, 5).unwrap());
        assert!(store.begin(&d, 5).unwrap().is_none());
        assert_eq!(entries(&layout.ingest_dir()), Vec::<String>::new());
    }

    #[test]
    fn an_interrupted_write_is_resumed_from_its_prefix() {
        let (_dir, layout, store) = store();
        let d = sha256_digest(b"hello world");
        std::fs::write(store.partial_path(&d).unwrap(), b"hello").unwrap();
        let mut ingest = store.begin(&d, 11).unwrap().unwrap();
        assert_eq!(ingest.offset(), 5);
        ingest.write(b" world").unwrap();
        ingest.commit().unwrap();
        assert_eq!(store.read(&d).unwrap(), b"hello world");
        assert_eq!(entries(&layout.ingest_dir()), Vec::<String>::new());
        // A leftover longer than the blob is no prefix of it: start from nothing.
        let d = sha256_digest(b"hi");
        std::fs::write(store.partial_path(&d).unwrap(), b"hello").unwrap();
        let ingest = store.begin(&d, 2).unwrap().unwrap();
        assert_eq!(ingest.offset(), 0);
    }

    #[test]
    fn dropping_an_uncommitted_ingest_removes_its_file() {
        let (_dir, layout, store) = store();
        let d = sha256_digest(b"hello");
        let mut ingest = store.begin(&d, 5).unwrap().unwrap();
        ingest.write(b"hel").unwrap();
        ingest.flush().unwrap();
        assert_eq!(entries(&layout.ingest_dir()).len(), 1);
        drop(ingest);
        nothing_left(&layout);
        // The lock went with it.
        assert!(store.begin(&d, 5).unwrap().is_some());
    }
}
