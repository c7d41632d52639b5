//! Downloading one blob from a registry into the content store, through the store's ingest:
//! resumed from what an interrupted download left (an HTTP Range request), retried with backoff
//! when the connection breaks, verified before it appears under `blobs/`.

use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;

use super::backoff::{backoff, ATTEMPTS};
use super::manifest::Descriptor;
use super::registry::RegistryClient;
use crate::engine::content::{ContentStore, Ingest};
use crate::engine::error::{EngineError, Result};
use crate::engine::off_thread;

/// Downloads `desc` into `store` unless present. `progress` gets the bytes done so far. Returns
/// true when bytes were fetched. `image` names the image in errors. Stops early with an error
/// when `cancel` is set. A failed download leaves nothing behind; only a process that dies
/// mid-download leaves its partial file, which the next pull resumes.
pub async fn fetch_blob(
    store: &ContentStore,
    registry: &RegistryClient,
    desc: &Descriptor,
    image: &str,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<bool> {
    if store.has(&desc.digest)? {
        return Ok(false);
    }
    let (s, digest, size) = (store.clone(), desc.digest.clone(), desc.size);
    let Some(mut ingest) = off_thread(move || s.begin(&digest, size)).await? else {
        return Ok(false);
    };
    download(&mut ingest, registry, desc, image, cancel, progress).await?;
    off_thread(move || ingest.commit())
        .await
        .map_err(|e| match e {
            EngineError::Digest(m) => EngineError::Digest(format!(
                "blob of {image} from registry {}: {m}",
                registry.registry()
            )),
            other => other,
        })?;
    Ok(true)
}

async fn download(
    ingest: &mut Ingest,
    registry: &RegistryClient,
    desc: &Descriptor,
    image: &str,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<()> {
    let mut attempt = 1;
    progress(ingest.offset());
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        let offset = ingest.offset();
        let body = registry.open_blob(desc, offset).await?;
        if body.starts_at != offset {
            // The registry ignored the range: start over.
            ingest.restart()?;
        }
        let mut stream = body.stream;
        let mut failed = None;
        while let Some(chunk) = stream.next().await {
            if cancel.load(Ordering::Relaxed) {
                return Err(cancelled());
            }
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            };
            let before = ingest.offset();
            ingest.write(&chunk)?;
            if ingest.offset() != before {
                progress(ingest.offset());
            }
            if ingest.overran() {
                break;
            }
        }
        match failed {
            Some(e) if ingest.received() <= desc.size && attempt < ATTEMPTS => {
                tracing::debug!(
                    "download of {} broke at {}: {e}; resuming",
                    desc.digest,
                    ingest.offset()
                );
                ingest.flush()?;
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            Some(e) => {
                return Err(EngineError::Registry(format!(
                    "download of blob {} of {image} from registry {} broke off after {} of {} \
                     bytes: {e}; pull again to resume",
                    desc.digest,
                    registry.registry(),
                    ingest.offset(),
                    desc.size
                )));
            }
            None => return Ok(()),
        }
    }
}

fn cancelled() -> EngineError {
    EngineError::Cancelled("download cancelled because another layer failed".into())
}
