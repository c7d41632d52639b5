//! Pushing an image: every layer blob and the config into the target repository (skipped when
//! the registry has it, mounted from another repository of the same registry when the image
//! came from one, uploaded otherwise; several at once), then the image's own manifest bytes under
//! the tag, in the media type the image has. Every blob is hashed before any is sent; one whose bytes no
//! longer match its digest fails the push before any upload. The pushed `repo@digest` is added
//! to the image's RepoDigests, as docker does.

use futures::{StreamExt, TryStreamExt};
use tokio::sync::mpsc::UnboundedSender;

use super::manifest::{self, Descriptor, Fetched};
use super::reference::ImageRef;
use super::upload::{Placed, Uploader};
use crate::engine::content::{sha256_digest, ContentStore};
use crate::engine::error::{EngineError, Result};
use crate::engine::image::record::ImageRecord;
use crate::engine::image::store::ImageStore;
use crate::engine::Engine;

/// Blobs uploaded at the same time (dockerd's `max-concurrent-uploads` defaults to 5).
const PARALLEL_UPLOADS: usize = 5;

/// What is happening to one blob of a push (docker's words in [`PushState::label`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushState {
    /// Being checked.
    Preparing,
    /// Bytes going up (`done` of `total`).
    Pushing,
    /// Uploaded.
    Pushed,
    /// The registry had it.
    AlreadyExists,
    /// Mounted from this repository.
    Mounted(String),
}

impl PushState {
    /// Docker's wording.
    pub fn label(&self) -> String {
        match self {
            PushState::Preparing => "Preparing".into(),
            PushState::Pushing => "Pushing".into(),
            PushState::Pushed => "Pushed".into(),
            PushState::AlreadyExists => "Layer already exists".into(),
            PushState::Mounted(from) => format!("Mounted from {from}"),
        }
    }
}

/// Progress of one layer of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushProgress {
    /// Layer blob digest.
    pub digest: String,
    /// What happens to it.
    pub state: PushState,
    /// Bytes sent.
    pub done: u64,
    /// Blob size.
    pub total: u64,
}

/// How to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Verify TLS certificates (false also allows plain http).
    pub tls_verify: bool,
}

/// What one tag's push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushResult {
    /// The tag pushed.
    pub tag: String,
    /// Digest of the manifest the registry now has under the tag.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
}

impl Engine {
    /// Pushes the image `r` names (`domain/path:tag`) to its registry. Layer progress goes to
    /// `progress`.
    pub async fn push(
        &self,
        r: &ImageRef,
        opts: &PushOptions,
        progress: Option<UnboundedSender<PushProgress>>,
    ) -> Result<PushResult> {
        let tag = r.tag.clone().ok_or_else(|| {
            EngineError::InvalidInput(format!("push needs a tag, not a digest: {r}"))
        })?;
        let name = r.tagged().unwrap_or_else(|| r.to_string());
        let engine = self.clone();
        let lookup = name.clone();
        let (record, _gc) = crate::engine::blocking(self, move |_| {
            let gc = engine.lock_images_shared()?;
            let rec = engine
                .state()
                .read(|tx| ImageStore::of(tx).resolve(&lookup))?;
            Ok((rec, gc))
        })
        .await
        .map_err(|e| match e {
            EngineError::NotFound(_) => EngineError::NotFound(format!(
                "an image does not exist locally with the tag: {}",
                r.familiar()
            )),
            other => other,
        })?;
        let store = ContentStore::new(self.layout());
        let manifest_bytes = store.read(&record.platform_manifest_digest)?;
        let digest = sha256_digest(&manifest_bytes);
        if digest != record.platform_manifest_digest {
            return Err(EngineError::Digest(format!(
                "the manifest of {name} in the store is corrupt; pull or load the image again"
            )));
        }
        let media_type = media_type_of(&manifest_bytes)?;
        let m = match manifest::parse(&manifest_bytes, &name)? {
            Fetched::Manifest(m) => m,
            Fetched::Index(_) => {
                return Err(EngineError::InvalidState(format!(
                    "{name}: its platform manifest is an index"
                )))
            }
        };
        let send = |p: PushProgress| {
            if let Some(tx) = &progress {
                let _ = tx.send(p);
            }
        };
        // Refuse any blob whose bytes changed before a single byte goes up.
        let mut blobs = m.layers.clone();
        blobs.push(m.config.clone());
        for b in &m.layers {
            send(PushProgress {
                digest: b.digest.clone(),
                state: PushState::Preparing,
                done: 0,
                total: b.size,
            });
        }
        // Hashed on as many threads as there are cores, the biggest blobs spread first.
        let mut check: Vec<(String, u64)> =
            blobs.iter().map(|b| (b.digest.clone(), b.size)).collect();
        check.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut shares: Vec<Vec<(String, u64)>> = vec![Vec::new(); threads.min(check.len())];
        for (i, blob) in check.into_iter().enumerate() {
            let n = shares.len();
            shares[i % n].push(blob);
        }
        let hashing: Vec<_> = shares
            .into_iter()
            .map(|share| {
                let store = store.clone();
                tokio::task::spawn_blocking(move || verify_blobs(&store, &share))
            })
            .collect();
        for task in hashing {
            task.await
                .map_err(|e| EngineError::io("push task failed", std::io::Error::other(e)))??;
        }

        let sources = mount_sources(&record, r);
        let up = Uploader::connect(r, opts.tls_verify, &sources).await?;
        // Up to PARALLEL_UPLOADS blobs at once; the first failure stops the others.
        let mut uploads = Vec::new();
        for b in &blobs {
            let is_layer = b.digest != m.config.digest;
            uploads.push(push_blob(&up, &store, b, is_layer, &sources, &progress));
        }
        futures::stream::iter(uploads)
            .buffer_unordered(PARALLEL_UPLOADS)
            .try_collect::<Vec<()>>()
            .await?;
        let size = manifest_bytes.len() as u64;
        up.put_manifest(&tag, &media_type, manifest_bytes).await?;
        let repo_digest = r.with_digest(&digest);
        let id = record.id.clone();
        let engine = self.clone();
        // Docker's push event: the pushed name is the actor.
        let pushed = r.familiar();
        crate::engine::blocking(self, move |_| {
            engine.state().write(|tx| {
                if let Some(mut rec) = ImageStore::of(tx).get(&id)? {
                    if !rec.repo_digests.contains(&repo_digest) {
                        rec.repo_digests.push(repo_digest.clone());
                        ImageStore::of(tx).save(&rec)?;
                    }
                }
                let event = crate::engine::journal::Event::new(
                    crate::engine::journal::EventType::Image,
                    "push",
                    pushed.clone(),
                )
                .with("name", &pushed);
                crate::engine::journal::record(tx, &event)
            })
        })
        .await?;
        self.emit(crate::engine::EngineEvent::ImagesChanged);
        Ok(PushResult { tag, digest, size })
    }
}

/// Puts one blob into the target repository, reporting a layer's progress.
async fn push_blob(
    up: &Uploader,
    store: &ContentStore,
    b: &Descriptor,
    is_layer: bool,
    sources: &[String],
    progress: &Option<UnboundedSender<PushProgress>>,
) -> Result<()> {
    let send = |state: PushState, done: u64| {
        if let (true, Some(tx)) = (is_layer, progress) {
            let _ = tx.send(PushProgress {
                digest: b.digest.clone(),
                state,
                done,
                total: b.size,
            });
        }
    };
    let path = store.path(&b.digest)?;
    let report = |done: u64| send(PushState::Pushing, done);
    let placed = place_blob(up, &b.digest, &path, b.size, sources, &report).await?;
    let state = match placed {
        Placed::Exists => PushState::AlreadyExists,
        Placed::Mounted(from) => PushState::Mounted(from),
        Placed::Uploaded => PushState::Pushed,
    };
    send(state, b.size);
    Ok(())
}

/// Checks that every blob is stored with its size and still hashes to its digest.
fn verify_blobs(store: &ContentStore, blobs: &[(String, u64)]) -> Result<()> {
    use sha2::{Digest as _, Sha256};
    use std::io::Read;
    for (digest, size) in blobs {
        let path = store.path(digest)?;
        let mut f = std::fs::File::open(&path).map_err(|e| {
            EngineError::io_path("a blob of the image is missing from the store", &path, e)
        })?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut n_total = 0u64;
        loop {
            let n = f
                .read(&mut buf)
                .map_err(|e| EngineError::io_path("cannot read blob", &path, e))?;
            if n == 0 {
                break;
            }
            n_total += n as u64;
            hasher.update(&buf[..n]);
        }
        let got = format!("sha256:{}", hex::encode(hasher.finalize()));
        if got != *digest || n_total != *size {
            return Err(EngineError::Digest(format!(
                "blob {digest} in the store no longer matches its digest (it hashes to {got}, \
                 {n_total} bytes); nothing was pushed: remove the image and pull or load it \
                 again"
            )));
        }
    }
    Ok(())
}

/// Repositories of the target's registry the image is known under (other than the target).
fn mount_sources(record: &ImageRecord, target: &ImageRef) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in record.repo_tags.iter().chain(&record.repo_digests) {
        if let Ok(r) = ImageRef::parse(name) {
            if r.domain == target.domain && r.path != target.path && !out.contains(&r.path) {
                out.push(r.path);
            }
        }
    }
    out
}

async fn place_blob(
    up: &Uploader,
    digest: &str,
    path: &std::path::Path,
    size: u64,
    sources: &[String],
    report: &(dyn Fn(u64) + Send + Sync),
) -> Result<Placed> {
    if up.has_blob(digest).await? {
        return Ok(Placed::Exists);
    }
    // A mount the registry cannot do opens an upload session instead: upload into that one.
    let location = match sources.first() {
        Some(from) => match up.mount(digest, from).await? {
            None => return Ok(Placed::Mounted(from.clone())),
            Some(location) => location,
        },
        None => up.start_upload().await?,
    };
    up.upload(location, path, digest, size, report).await?;
    Ok(Placed::Uploaded)
}

/// The media type a manifest declares (OCI manifests without `mediaType` are OCI).
fn media_type_of(bytes: &[u8]) -> Result<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        #[serde(default)]
        media_type: Option<String>,
    }
    let p: Probe = serde_json::from_slice(bytes)
        .map_err(|e| EngineError::InvalidState(format!("a stored manifest is malformed: {e}")))?;
    Ok(p.media_type
        .unwrap_or_else(|| manifest::OCI_MANIFEST.to_string()))
}
