//! The content store: verified blobs by digest under `blobs/sha256/<hex>`.
//!
//! A download goes to `ingest/<hex>.partial` while `locks/blob-<hex>.lock` is held, so two
//! processes never write the same blob; the second finds it present. When the bytes are complete
//! their size and sha256 are checked, the file is synced and renamed into place. A mismatch
//! removes the partial file and fails naming expected and actual digest. A partial file left by
//! an interrupted download is resumed with an HTTP Range request.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use crate::engine::distribution::manifest::Descriptor;
use crate::engine::distribution::registry::{backoff, RegistryClient, DOWNLOAD_ATTEMPTS};
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::layout::Layout;
use crate::engine::lock::FileLock;

/// Bytes past the declared size we still read to name the actual digest of a bad blob.
const OVERRUN_LIMIT: u64 = 64 << 20;

/// Blobs under one engine root.
#[derive(Debug, Clone)]
pub struct ContentStore {
    layout: Layout,
}

fn hex_of(digest: &str) -> &str {
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

    /// Downloads `desc` into the store unless present. `progress` gets the bytes done so far.
    /// Returns true when bytes were fetched. `image` names the image in errors. Stops early with
    /// an error when `cancel` is set.
    pub async fn fetch(
        &self,
        registry: &RegistryClient,
        desc: &Descriptor,
        image: &str,
        cancel: &AtomicBool,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<bool> {
        if self.has(&desc.digest)? {
            return Ok(false);
        }
        let lock_path = self.lock_path(&desc.digest)?;
        let _lock = tokio::task::spawn_blocking(move || FileLock::acquire(&lock_path))
            .await
            .map_err(|e| EngineError::Registry(format!("lock task failed: {e}")))??;
        if self.has(&desc.digest)? {
            return Ok(false);
        }
        let partial = self.partial_path(&desc.digest)?;
        let result = self
            .download_locked(registry, desc, image, cancel, progress, &partial)
            .await;
        if result.is_err() {
            // A failed pull leaves nothing half-written. Only a process that dies mid-download
            // (SIGKILL, power loss) leaves its partial file, which the next pull resumes.
            let _ = tokio::fs::remove_file(&partial).await;
        }
        result
    }

    async fn download_locked(
        &self,
        registry: &RegistryClient,
        desc: &Descriptor,
        image: &str,
        cancel: &AtomicBool,
        progress: &mut (dyn FnMut(u64) + Send),
        partial: &Path,
    ) -> Result<bool> {
        let partial = partial.to_path_buf();
        let (mut hasher, mut offset) = resume_state(&partial, desc.size).await?;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&partial)
            .await
            .ctx("cannot open download file", &partial)?;
        file.set_len(offset)
            .await
            .ctx("cannot truncate", &partial)?;
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .ctx("cannot seek", &partial)?;
        let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
        let mut received = offset;
        let mut attempt = 1;
        progress(offset);
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(cancelled());
            }
            let body = registry.open_blob(desc, offset).await?;
            if body.starts_at != offset {
                // The registry ignored the range: start over.
                out.flush().await.ctx("cannot write", &partial)?;
                out.get_mut()
                    .set_len(0)
                    .await
                    .ctx("cannot truncate", &partial)?;
                out.seek(std::io::SeekFrom::Start(0))
                    .await
                    .ctx("cannot seek", &partial)?;
                hasher = Sha256::new();
                offset = 0;
                received = 0;
            }
            let mut stream = body.stream;
            let mut failed = None;
            while let Some(chunk) = stream.next().await {
                if cancel.load(Ordering::Relaxed) {
                    out.flush().await.ctx("cannot write", &partial)?;
                    return Err(cancelled());
                }
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                };
                hasher.update(&chunk);
                received += chunk.len() as u64;
                if received <= desc.size {
                    out.write_all(&chunk).await.ctx("cannot write", &partial)?;
                    offset = received;
                    progress(offset);
                } else if received > desc.size + OVERRUN_LIMIT {
                    break;
                }
            }
            match failed {
                Some(e) if received <= desc.size && attempt < DOWNLOAD_ATTEMPTS => {
                    tracing::debug!(
                        "download of {} broke at {offset}: {e}; resuming",
                        desc.digest
                    );
                    out.flush().await.ctx("cannot write", &partial)?;
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Some(e) => {
                    out.flush().await.ctx("cannot write", &partial)?;
                    return Err(EngineError::Registry(format!(
                        "download of blob {} of {image} from registry {} broke off after {offset} \
                         of {} bytes: {e}; pull again to resume",
                        desc.digest,
                        registry.registry(),
                        desc.size
                    )));
                }
                None => break,
            }
        }
        out.flush().await.ctx("cannot write", &partial)?;
        let file = out.into_inner();
        let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
        if received != desc.size || actual != desc.digest {
            drop(file);
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(EngineError::Digest(format!(
                "blob of {image} from registry {} does not match its digest: expected {} ({} \
                 bytes), got {actual} ({received} bytes); the download was discarded",
                registry.registry(),
                desc.digest,
                desc.size
            )));
        }
        file.sync_all().await.ctx("cannot sync", &partial)?;
        drop(file);
        let dest = self.path(&desc.digest)?;
        tokio::fs::rename(&partial, &dest)
            .await
            .ctx("cannot store blob", &dest)?;
        sync_dir(&self.layout.blobs_dir())?;
        Ok(true)
    }
}

fn cancelled() -> EngineError {
    EngineError::Registry("download cancelled because another layer failed".into())
}

/// Hashes what an earlier interrupted download left, so it can be resumed.
async fn resume_state(partial: &Path, size: u64) -> Result<(Sha256, u64)> {
    let partial = partial.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut hasher = Sha256::new();
        let mut file = match std::fs::File::open(&partial) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((hasher, 0)),
            Err(e) => return Err(EngineError::io_path("cannot open", &partial, e)),
        };
        let len = file.metadata().ctx("cannot stat", &partial)?.len();
        if len > size {
            return Ok((hasher, 0));
        }
        let mut buf = vec![0u8; 1 << 20];
        let mut done = 0u64;
        while done < len {
            let n = file.read(&mut buf).ctx("cannot read", &partial)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            done += n as u64;
        }
        Ok((hasher, done))
    })
    .await
    .map_err(|e| EngineError::Registry(format!("resume task failed: {e}")))?
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

    #[tokio::test]
    async fn resume_state_hashes_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.partial");
        std::fs::write(&p, b"abc").unwrap();
        let (h, n) = resume_state(&p, 10).await.unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            hex::encode(h.finalize()),
            hex::encode(Sha256::digest(b"abc"))
        );
        let (_, n) = resume_state(&p, 2).await.unwrap();
        assert_eq!(n, 0);
    }
}
