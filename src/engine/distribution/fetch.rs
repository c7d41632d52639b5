//! Downloading one blob from a registry into the content store, through the store's ingest:
//! resumed from what an interrupted download left (an HTTP Range request), retried with backoff
//! when the connection breaks, verified before it appears under `blobs/`.

use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;

use super::backoff::{backoff, ATTEMPTS};
use super::manifest::Descriptor;
use super::registry::RegistryClient;
use super::stream::Tee;
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
    let (fetched, _) = fetch_blob_tee(store, registry, desc, image, cancel, progress, None).await?;
    Ok(fetched)
}

/// [`fetch_blob`], also sending every byte stored, in order, to `tee` (see [`super::stream`]),
/// which ends before the blob is verified and committed. Returns whether bytes were fetched and
/// whether the stream carried the whole blob; it did only when both are true and this returned
/// `Ok` (the blob's digest was verified then).
pub async fn fetch_blob_tee(
    store: &ContentStore,
    registry: &RegistryClient,
    desc: &Descriptor,
    image: &str,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(u64) + Send),
    mut tee: Option<Tee>,
) -> Result<(bool, bool)> {
    if store.has(&desc.digest)? {
        if let Some(tee) = tee {
            tee.finish().await;
        }
        return Ok((false, false));
    }
    let (s, digest, size) = (store.clone(), desc.digest.clone(), desc.size);
    let begun = off_thread(move || s.begin(&digest, size)).await;
    let Some(mut ingest) = begun? else {
        if let Some(tee) = tee {
            tee.finish().await;
        }
        return Ok((false, false));
    };
    let downloaded = download(
        &mut ingest,
        registry,
        desc,
        image,
        cancel,
        progress,
        tee.as_mut(),
    )
    .await;
    let whole = tee.as_ref().is_some_and(|t| t.complete());
    if let Some(tee) = tee {
        // Ends the stream now, so the unpacker finishes while the blob is verified; a stream
        // that is not whole ends in an error.
        tee.finish().await;
    }
    downloaded?;
    off_thread(move || ingest.commit())
        .await
        .map_err(|e| match e {
            EngineError::Digest(m) => EngineError::Digest(format!(
                "blob of {image} from registry {}: {m}",
                registry.registry()
            )),
            other => other,
        })?;
    Ok((true, whole))
}

async fn download(
    ingest: &mut Ingest,
    registry: &RegistryClient,
    desc: &Descriptor,
    image: &str,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(u64) + Send),
    mut tee: Option<&mut Tee>,
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
            let after = ingest.offset();
            if after != before {
                progress(after);
                if let Some(tee) = tee.as_deref_mut() {
                    // The bytes the ingest stored (none past the declared size).
                    tee.send(before, chunk.slice(..(after - before) as usize))
                        .await;
                }
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
