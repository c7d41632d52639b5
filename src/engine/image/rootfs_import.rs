//! `import`: a root filesystem tar (plain, gzip, zstd, xz or bzip2; a file, a stream or an
//! http(s) URL)
//! into a one-layer image. The tar is hashed (the diff id) while it is gzip-compressed into a
//! staging file, which then enters the store through the content ingest; the config (with the
//! `-c` changes) and an OCI manifest are stored next to it, and the import pipeline unpacks and
//! records the image. Nothing of a failed import stays.

use std::fs::File;
use std::io::{Read, Write};

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::archive::media::OCI_CONFIG;
use super::archive::LoadInput;
use super::import::{ConfigBlob, StoredImage};
use super::record::{ImageConfig, ImageSummary};
use crate::engine::content::{sha256_digest, ContentStore};
use crate::engine::distribution::manifest::{self, Descriptor, Fetched, Platform, OCI_MANIFEST};
use crate::engine::distribution::reference::ImageRef;
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::staging::StagedDir;
use crate::engine::Engine;

/// What to import.
pub struct ImportOptions {
    /// Dockerfile instructions for the config (`-c`).
    pub changes: Vec<String>,
    /// The history comment (`-m`).
    pub message: Option<String>,
    /// `REPO[:TAG]` to name the image.
    pub reference: Option<String>,
}

#[derive(Serialize)]
struct History {
    created: String,
    created_by: String,
    comment: String,
}

#[derive(Serialize)]
struct RootFs {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: Vec<String>,
}

#[derive(Serialize)]
struct Config {
    architecture: String,
    os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
    created: String,
    config: ImageConfig,
    rootfs: RootFs,
    history: Vec<History>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OciManifest {
    schema_version: u32,
    media_type: &'static str,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    n: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Compresses the tar `input` into `out`; returns (diff id, blob digest, blob size).
fn compress(input: impl Read, out: &std::path::Path) -> Result<(String, String, u64)> {
    let mut reader = crate::engine::compression::decompressed(input, "the input")?;
    let file = File::create(out).ctx("cannot create", out)?;
    let hashing = HashingWriter {
        inner: std::io::BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        n: 0,
    };
    let mut gz = flate2::write::GzEncoder::new(hashing, flate2::Compression::fast());
    let mut diff = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|e| {
            EngineError::InvalidInput(format!("cannot read the input archive: {e}"))
        })?;
        if n == 0 {
            break;
        }
        total += n as u64;
        diff.update(&buf[..n]);
        gz.write_all(&buf[..n]).ctx("cannot write", out)?;
    }
    if total < 512 {
        return Err(EngineError::InvalidInput(
            "the input is not a tar archive (it is shorter than one tar header)".into(),
        ));
    }
    let mut hashing = gz.finish().ctx("cannot write", out)?;
    hashing.flush().ctx("cannot write", out)?;
    let digest = format!("sha256:{}", hex::encode(hashing.hasher.finalize()));
    let diff_id = format!("sha256:{}", hex::encode(diff.finalize()));
    Ok((diff_id, digest, hashing.n))
}

impl Engine {
    /// `import URL`: fetches the tar at the http(s) `url` into a staging file with the engine's
    /// HTTP client, then imports it as [`Engine::import_rootfs`] does. The download goes with
    /// the staging directory whatever happens.
    pub async fn import_url(&self, url: &str, opts: ImportOptions) -> Result<ImageSummary> {
        crate::engine::distribution::remote_file::parse_url(url)?;
        let staged =
            crate::engine::blocking(self, |e| StagedDir::create(e.layout(), "import-url")).await?;
        let path = staged.path().join("download");
        let result = match crate::engine::distribution::remote_file::fetch(url, &path, None).await {
            Ok(_) => self.import_rootfs(LoadInput::Path(path), url, opts).await,
            Err(e) => Err(e),
        };
        let _ = tokio::task::spawn_blocking(move || drop(staged)).await;
        result
    }

    /// Imports the root filesystem tar `input` as a one-layer image; returns it.
    pub async fn import_rootfs(
        &self,
        input: LoadInput,
        source_name: &str,
        opts: ImportOptions,
    ) -> Result<ImageSummary> {
        let mut config = ImageConfig::default();
        let changes = crate::engine::build::config_ops::parse_changes(&opts.changes)?;
        crate::engine::build::config_ops::apply_changes(&mut config, &mut None, &changes)?;
        let tag = match &opts.reference {
            Some(r) => {
                let parsed = ImageRef::parse(r)?;
                if parsed.digest.is_some() {
                    return Err(EngineError::InvalidInput(format!(
                        "cannot import as \"{r}\": the name must not contain a digest"
                    )));
                }
                parsed.tagged()
            }
            None => None,
        };
        let gc = crate::engine::blocking(self, |e| e.begin_import()).await?;
        let engine = self.clone();
        let comment = opts
            .message
            .clone()
            .unwrap_or_else(|| format!("Imported from {source_name}"));
        let planned = tokio::task::spawn_blocking(move || {
            let mut new_blobs = Vec::new();
            let r = engine.store_rootfs(input, config, comment, tag, &mut new_blobs);
            (r, new_blobs)
        })
        .await
        .map_err(|e| EngineError::io("import task failed", std::io::Error::other(e)))?;
        let (planned, new_blobs) = planned;
        let result = match planned {
            Ok(image) => self.import_stored(image, "import").await.map(|(s, _)| s),
            Err(e) => Err(e),
        };
        drop(gc);
        if result.is_err() {
            let engine = self.clone();
            let _ =
                tokio::task::spawn_blocking(move || engine.discard_unreferenced(&new_blobs, &[]))
                    .await;
        }
        result
    }

    fn store_rootfs(
        &self,
        input: LoadInput,
        image_config: ImageConfig,
        comment: String,
        tag: Option<String>,
        new_blobs: &mut Vec<String>,
    ) -> Result<StoredImage> {
        let store = ContentStore::new(self.layout());
        let staged = StagedDir::create(self.layout(), "import")?;
        let layer_path = staged.path().join("layer.tar.gz");
        let (diff_id, digest, size) = match input {
            LoadInput::Path(p) => {
                let f = File::open(&p).ctx("cannot open", &p)?;
                compress(f, &layer_path)?
            }
            LoadInput::Stream(s) => compress(s, &layer_path)?,
        };
        let f = File::open(&layer_path).ctx("cannot open", &layer_path)?;
        if store.ingest(f, &digest, size)? {
            new_blobs.push(digest.clone());
        }
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let host = Platform::host();
        let config = Config {
            architecture: host.architecture.clone(),
            os: host.os.clone(),
            variant: host.variant.clone(),
            created: now.clone(),
            config: image_config,
            rootfs: RootFs {
                kind: "layers",
                diff_ids: vec![diff_id],
            },
            history: vec![History {
                created: now,
                created_by: "berth import".into(),
                comment,
            }],
        };
        let config_bytes = serde_json::to_vec(&config)
            .map_err(|e| EngineError::InvalidInput(format!("cannot encode the config: {e}")))?;
        let config_digest = sha256_digest(&config_bytes);
        let manifest = OciManifest {
            schema_version: 2,
            media_type: OCI_MANIFEST,
            config: Descriptor {
                media_type: OCI_CONFIG.into(),
                digest: config_digest.clone(),
                size: config_bytes.len() as u64,
                platform: None,
            },
            layers: vec![Descriptor {
                media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                digest,
                size,
                platform: None,
            }],
        };
        let manifest_bytes = serde_json::to_vec(&manifest)
            .map_err(|e| EngineError::InvalidInput(format!("cannot encode the manifest: {e}")))?;
        let manifest_digest = sha256_digest(&manifest_bytes);
        for (d, b) in [
            (&config_digest, &config_bytes),
            (&manifest_digest, &manifest_bytes),
        ] {
            if !store.has(d)? {
                store.put(d, b)?;
                new_blobs.push(d.clone());
            }
        }
        let what = "the imported image";
        let parsed = match manifest::parse(&manifest_bytes, what)? {
            Fetched::Manifest(m) => m,
            Fetched::Index(_) => return Err(EngineError::InvalidInput("not an image".into())),
        };
        let config = ConfigBlob::parse(&config_bytes, 1, what, EngineError::InvalidInput)?;
        Ok(StoredImage {
            what: what.into(),
            manifest_digest: manifest_digest.clone(),
            platform_manifest_digest: manifest_digest,
            manifest: parsed,
            config,
            repo_tags: tag.into_iter().collect(),
            repo_digests: Vec::new(),
        })
    }
}
