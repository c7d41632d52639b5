//! Pulling an image: resolve the manifest (choosing the platform out of an index), fetch the
//! config, download layers 4 at a time, each unpacked into a staging dir while it arrives
//! ([`super::stream`]) and kept only once its blob is verified, then move the layers into place
//! and write the image record.
//!
//! Nothing of a failed pull is listed or unpacked: layers stay in `tmp/` until every one of them
//! is verified, and the record is written last. Verified blobs stay in the store as a cache
//! (`image prune` removes them). A pull holds the gc lock shared, so prune never removes what a
//! pull is about to use.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc::UnboundedSender, Semaphore};
use tokio::task::JoinSet;

use super::fetch::{fetch_blob, fetch_blob_tee};
use super::manifest::{self, Descriptor, Fetched, Platform};
use super::reference::ImageRef;
use super::registry::RegistryClient;
use super::stream;
use crate::engine::content::ContentStore;
use crate::engine::error::{EngineError, ErrorKind, Result};
use crate::engine::events::{EngineEvent, LayerProgress, LayerState};
use crate::engine::image::gc::gc_lock_path;
use crate::engine::image::import::{
    chain_ids, commit_layers, unpack_staged, unpack_staged_stream, ConfigBlob, StoredImage,
};
use crate::engine::image::record::ImageSummary;
use crate::engine::lock::FileLock;
use crate::engine::staging::{self, StagedDir};
use crate::engine::Engine;

const PARALLEL_DOWNLOADS: usize = 4;
const PARALLEL_UNPACKS: usize = 2;

/// How to pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The platform to choose from an index; the host's when `None`.
    pub platform: Option<Platform>,
    /// Verify TLS certificates (false also allows plain http).
    pub tls_verify: bool,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            platform: None,
            tls_verify: true,
        }
    }
}

/// What a pull did.
#[derive(Debug, Clone)]
pub struct PullResult {
    /// The stored image.
    pub image: ImageSummary,
    /// The registry's digest for the reference (index or manifest).
    pub digest: String,
    /// False when the reference already named this very image ("Image is up to date").
    pub updated: bool,
}

/// Sends layer progress to the caller's channel and the engine's event stream.
#[derive(Clone)]
struct Reporter {
    engine: Engine,
    image: String,
    tx: Option<UnboundedSender<LayerProgress>>,
}

impl Reporter {
    fn send(&self, digest: &str, state: LayerState, done: u64, total: u64) {
        let p = LayerProgress {
            image: self.image.clone(),
            digest: digest.to_string(),
            state,
            done,
            total,
        };
        if let Some(tx) = &self.tx {
            let _ = tx.send(p.clone());
        }
        self.engine.emit(EngineEvent::Layer(p));
    }

    /// A progress callback that reports at most every 1% or 256 KiB.
    fn throttled(&self, digest: &str, state: LayerState, total: u64) -> impl FnMut(u64) + Send {
        let me = self.clone();
        let digest = digest.to_string();
        let step = (total / 100).max(256 << 10);
        let mut last: Option<u64> = None;
        move |done| {
            if last.is_none_or(|l| done >= l + step || done == total) {
                last = Some(done);
                me.send(&digest, state, done, total);
            }
        }
    }
}

/// What every layer task shares.
struct Shared {
    engine: Engine,
    store: ContentStore,
    registry: RegistryClient,
    reporter: Reporter,
    cancel: AtomicBool,
    downloads: Semaphore,
    unpacks: Semaphore,
}

fn join_error(e: tokio::task::JoinError) -> EngineError {
    EngineError::caused(ErrorKind::Registry, "pull task failed", e)
}

impl Engine {
    /// Pulls `r` into the store and records it. Layer progress goes to `progress` (and to the
    /// engine's events). Emits `PullStarted`, `Layer`, `PullFinished` and `ImagesChanged`.
    pub async fn pull(
        &self,
        r: &ImageRef,
        opts: &PullOptions,
        progress: Option<UnboundedSender<LayerProgress>>,
    ) -> Result<PullResult> {
        let reporter = Reporter {
            engine: self.clone(),
            image: r.to_string(),
            tx: progress,
        };
        let result = self.pull_inner(r, opts, reporter).await;
        self.emit(EngineEvent::PullFinished {
            image: r.to_string(),
            image_id: result.as_ref().ok().map(|p| p.image.id.clone()),
            error: result.as_ref().err().map(|e| e.to_string()),
        });
        if result.is_ok() {
            self.emit(EngineEvent::ImagesChanged);
        }
        result
    }

    async fn pull_inner(
        &self,
        r: &ImageRef,
        opts: &PullOptions,
        reporter: Reporter,
    ) -> Result<PullResult> {
        let layout = self.layout().clone();
        let gc_lock = gc_lock_path(&layout);
        let _gc = tokio::task::spawn_blocking(move || {
            staging::sweep(&layout);
            FileLock::acquire_shared(&gc_lock)
        })
        .await
        .map_err(join_error)??;

        let what = r.to_string();
        let store = ContentStore::new(self.layout());
        let mut registry = RegistryClient::new(r, opts.tls_verify)?;
        let (bytes, top_digest) = registry.fetch_manifest(r.reference()).await?;
        let (manifest, manifest_digest) = match manifest::parse(&bytes, &what)? {
            Fetched::Manifest(m) => {
                store.put(&top_digest, &bytes)?;
                (m, top_digest.clone())
            }
            Fetched::Index(index) => {
                store.put(&top_digest, &bytes)?;
                let want = opts.platform.clone().unwrap_or_else(Platform::host);
                let entry = manifest::select(&index, &want, &what)?;
                let (bytes, digest) = registry.fetch_manifest(&entry.digest).await?;
                match manifest::parse(&bytes, &what)? {
                    Fetched::Manifest(m) => {
                        store.put(&digest, &bytes)?;
                        (m, digest)
                    }
                    Fetched::Index(_) => {
                        return Err(EngineError::Registry(format!(
                            "{what}: the index entry for {want} is another index, which is not \
                             supported"
                        )))
                    }
                }
            }
        };

        let never = AtomicBool::new(false);
        fetch_blob(
            &store,
            &registry,
            &manifest.config,
            &what,
            &never,
            &mut |_| {},
        )
        .await?;
        let config_bytes = store.read(&manifest.config.digest)?;
        let config = ConfigBlob::parse(
            &config_bytes,
            manifest.layers.len(),
            &what,
            EngineError::Registry,
        )?;
        let diff_ids = &config.rootfs.diff_ids;
        if let Some(want) = &opts.platform {
            let have = config.platform();
            if !want.matches(&have) {
                return Err(EngineError::NotFound(format!(
                    "image {what} was found but its platform {have} does not match the \
                     requested platform {want}"
                )));
            }
        }
        let chains = chain_ids(diff_ids);

        self.emit(EngineEvent::PullStarted {
            image: what.clone(),
            layers: manifest.layers.iter().map(|l| l.digest.clone()).collect(),
        });
        let shared = Arc::new(Shared {
            engine: self.clone(),
            store,
            registry,
            reporter: reporter.clone(),
            cancel: AtomicBool::new(false),
            downloads: Semaphore::new(PARALLEL_DOWNLOADS),
            unpacks: Semaphore::new(PARALLEL_UNPACKS),
        });
        let mut staged: Vec<Option<StagedDir>> = (0..chains.len()).map(|_| None).collect();
        let mut unpacked_sizes = vec![0u64; chains.len()];
        let mut tasks = JoinSet::new();
        for (i, desc) in manifest.layers.iter().enumerate() {
            let dest = self.layout().layer_dir(&chains[i])?;
            if dest.is_dir() {
                reporter.send(
                    &desc.digest,
                    LayerState::AlreadyExists,
                    desc.size,
                    desc.size,
                );
                continue;
            }
            reporter.send(&desc.digest, LayerState::Waiting, 0, desc.size);
            let shared = shared.clone();
            let desc = desc.clone();
            let diff_id = diff_ids[i].clone();
            tasks.spawn(async move { (i, layer_task(shared, desc, diff_id).await) });
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, Ok((dir, size)))) => {
                    staged[i] = Some(dir);
                    unpacked_sizes[i] = size;
                }
                Ok((_, Err(e))) => {
                    shared.cancel.store(true, Ordering::Relaxed);
                    // Keep the root cause, not the cancellations it caused.
                    if first_error
                        .as_ref()
                        .is_none_or(|f: &EngineError| f.is(ErrorKind::Cancelled))
                    {
                        first_error = Some(e);
                    }
                }
                Err(e) => {
                    shared.cancel.store(true, Ordering::Relaxed);
                    first_error.get_or_insert(join_error(e));
                }
            }
        }
        if let Some(e) = first_error {
            drop(staged);
            return Err(e);
        }

        let layout = self.layout().clone();
        let chains_c = chains.clone();
        let unpacked_sizes = tokio::task::spawn_blocking(move || {
            commit_layers(&layout, &chains_c, staged, unpacked_sizes)
        })
        .await
        .map_err(join_error)??;

        let stored = StoredImage {
            what,
            manifest_digest: top_digest.clone(),
            platform_manifest_digest: manifest_digest,
            repo_tags: r.tagged().into_iter().collect(),
            repo_digests: vec![r.with_digest(&top_digest)],
            manifest,
            config,
        };
        let engine = self.clone();
        let (record, updated) = tokio::task::spawn_blocking(move || {
            engine.record_image(&stored, &unpacked_sizes, "pull")
        })
        .await
        .map_err(join_error)??;
        Ok(PullResult {
            image: record.summary(),
            digest: top_digest,
            updated,
        })
    }
}

/// Downloads one layer and unpacks it into a staging dir while it arrives; returns the dir and
/// its size. When the stream could not carry the whole blob (a blob already stored, a download
/// that started over), the layer is unpacked from the verified blob instead.
async fn layer_task(
    shared: Arc<Shared>,
    desc: Descriptor,
    diff_id: String,
) -> Result<(StagedDir, u64)> {
    let rep = &shared.reporter;
    let streamed = {
        let _permit =
            shared.downloads.acquire().await.map_err(|e| {
                EngineError::caused(ErrorKind::Registry, "download queue closed", e)
            })?;
        download_and_unpack(&shared, &desc, &diff_id).await?
    };
    if let Some(result) = streamed {
        rep.send(&desc.digest, LayerState::Done, desc.size, desc.size);
        return result;
    }
    tracing::debug!("layer {}: unpacking from the stored blob", desc.digest);
    let _permit = shared
        .unpacks
        .acquire()
        .await
        .map_err(|e| EngineError::caused(ErrorKind::Registry, "unpack queue closed", e))?;
    if shared.cancel.load(Ordering::Relaxed) {
        return Err(EngineError::Cancelled(
            "unpack cancelled because another layer failed".into(),
        ));
    }
    let blob = shared.store.path(&desc.digest)?;
    let layout = shared.engine.layout().clone();
    let rep2 = rep.clone();
    let desc2 = desc.clone();
    let image = rep.image.clone();
    let (dir, size) = tokio::task::spawn_blocking(move || -> Result<(StagedDir, u64)> {
        let mut report = rep2.throttled(&desc2.digest, LayerState::Extracting, 0);
        unpack_staged(
            &layout,
            &blob,
            &desc2.media_type,
            &desc2.digest,
            &diff_id,
            &image,
            &mut report,
        )
    })
    .await
    .map_err(join_error)??;
    rep.send(&desc.digest, LayerState::Done, desc.size, desc.size);
    Ok((dir, size))
}

/// Downloads `desc` into the store, unpacking it on the way. `None` when the layer still has to
/// be unpacked from the stored blob; else the unpack's result, which holds a layer only when the
/// whole verified blob went through it. Whatever fails, the unpacker has stopped and its
/// directory is gone when this returns.
async fn download_and_unpack(
    shared: &Shared,
    desc: &Descriptor,
    diff_id: &str,
) -> Result<Option<Result<(StagedDir, u64)>>> {
    let rep = &shared.reporter;
    let mut cb = rep.throttled(&desc.digest, LayerState::Downloading, desc.size);
    if shared.store.has(&desc.digest)? {
        fetch_blob(
            &shared.store,
            &shared.registry,
            desc,
            &rep.image,
            &shared.cancel,
            &mut cb,
        )
        .await?;
        rep.send(&desc.digest, LayerState::Verifying, desc.size, desc.size);
        return Ok(None);
    }
    let (tee, input) = stream::tee(desc.size);
    let layout = shared.engine.layout().clone();
    let (mt, digest, diff) = (
        desc.media_type.clone(),
        desc.digest.clone(),
        diff_id.to_string(),
    );
    let image = rep.image.clone();
    let unpacker = tokio::task::spawn_blocking(move || {
        unpack_staged_stream(&layout, input, &mt, &digest, &diff, &image, &mut |_| {})
    });
    let fetched = fetch_blob_tee(
        &shared.store,
        &shared.registry,
        desc,
        &rep.image,
        &shared.cancel,
        &mut cb,
        Some(tee),
    )
    .await;
    if fetched.is_ok() {
        rep.send(&desc.digest, LayerState::Verifying, desc.size, desc.size);
        rep.send(&desc.digest, LayerState::Extracting, 0, 0);
    }
    let unpacked = unpacker.await.map_err(join_error).and_then(|r| r);
    let (_, whole) = fetched?;
    Ok(whole.then_some(unpacked))
}
