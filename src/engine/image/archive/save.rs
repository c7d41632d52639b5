//! `save`: stored images to a docker-archive (also an OCI layout), an oci-archive or an OCI
//! layout directory. Every blob is hashed while it is copied out of the store; one whose bytes
//! no longer match its digest fails the save, and a file or directory being written is removed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::media::oci_manifest;
use super::{ArchiveFormat, SaveOutput};
use crate::engine::compat::archive::{
    ArchiveManifestEntry, OciIndex, OciIndexEntry, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME,
    OCI_LAYOUT,
};
use crate::engine::content::{sha256_digest, ContentStore};
use crate::engine::distribution::manifest::{self, Fetched, Manifest, OCI_INDEX, OCI_MANIFEST};
use crate::engine::distribution::reference::ImageRef;
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::image::record::{familiar, ImageRecord};
use crate::engine::Engine;

/// One image to write: its OCI manifest and the names it goes under.
struct Planned {
    /// Normalised `domain/path:tag` names.
    tags: Vec<String>,
    manifest: Manifest,
    manifest_bytes: Vec<u8>,
    manifest_digest: String,
}

/// Where the entries of an archive go.
trait Sink {
    fn dir(&mut self, name: &str) -> Result<()>;
    fn file(&mut self, name: &str, size: u64, data: &mut dyn Read) -> Result<()>;
}

struct TarSink<W: Write>(tar::Builder<W>);

fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

impl<W: Write> Sink for TarSink<W> {
    fn dir(&mut self, name: &str) -> Result<()> {
        let mut h = header(tar::EntryType::Directory, 0, 0o755);
        self.0
            .append_data(&mut h, name, std::io::empty())
            .map_err(|e| EngineError::io(format!("cannot write {name} to the archive"), e))
    }

    fn file(&mut self, name: &str, size: u64, data: &mut dyn Read) -> Result<()> {
        let mut h = header(tar::EntryType::Regular, size, 0o644);
        self.0
            .append_data(&mut h, name, data)
            .map_err(|e| EngineError::io(format!("cannot write {name} to the archive"), e))
    }
}

struct DirSink(PathBuf);

impl Sink for DirSink {
    fn dir(&mut self, name: &str) -> Result<()> {
        let p = self.0.join(name);
        std::fs::create_dir_all(&p).ctx("cannot create", &p)
    }

    fn file(&mut self, name: &str, _size: u64, data: &mut dyn Read) -> Result<()> {
        let p = self.0.join(name);
        let mut f = BufWriter::new(File::create(&p).ctx("cannot create", &p)?);
        std::io::copy(data, &mut f).ctx("cannot write", &p)?;
        f.into_inner()
            .map_err(|e| EngineError::io_path("cannot write", &p, e.into_error()))?
            .sync_all()
            .ctx("cannot sync", &p)
    }
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

fn blob_name(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

/// Copies the stored blob `digest` into the sink, refusing it if its bytes changed.
fn copy_blob(store: &ContentStore, sink: &mut dyn Sink, digest: &str) -> Result<()> {
    let path = store.path(digest)?;
    let file = File::open(&path).map_err(|e| {
        EngineError::io_path(
            "a blob of the image is missing from the store (pull the image again)",
            &path,
            e,
        )
    })?;
    let size = file.metadata().ctx("cannot stat", &path)?.len();
    let mut reader = Hashing {
        inner: std::io::BufReader::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
    };
    sink.file(&blob_name(digest), size, &mut reader)?;
    let got = format!("sha256:{}", hex::encode(reader.hasher.finalize()));
    if got != digest {
        return Err(EngineError::Digest(format!(
            "blob {digest} in the store is corrupt (its content hashes to {got}); remove the \
             image and pull it again"
        )));
    }
    Ok(())
}

impl Engine {
    /// Writes the images `names` (references, ids or id prefixes) to `output` in `format`.
    /// Blocking. A file output is written beside its name and renamed into place when complete;
    /// nothing is left of it on failure.
    pub fn save_images(
        &self,
        names: &[String],
        format: ArchiveFormat,
        output: SaveOutput,
    ) -> Result<()> {
        if names.is_empty() {
            return Err(EngineError::InvalidInput(
                "save needs at least one image".into(),
            ));
        }
        let _gc = self.lock_images_shared()?;
        let planned = self.plan_save(names)?;
        let store = ContentStore::new(self.layout());
        match (format, output) {
            (ArchiveFormat::OciDir, SaveOutput::File(dir)) => {
                write_to_new_path(&dir, true, |tmp| {
                    std::fs::create_dir(tmp).ctx("cannot create", tmp)?;
                    write_archive(&store, &planned, format, &mut DirSink(tmp.to_path_buf()))
                })
            }
            (ArchiveFormat::OciDir, SaveOutput::Stream(_)) => Err(EngineError::InvalidInput(
                "the oci-dir format writes a directory: name it with -o DIR".into(),
            )),
            (_, SaveOutput::File(path)) => write_to_new_path(&path, false, |tmp| {
                let file = File::create(tmp).ctx("cannot create", tmp)?;
                let mut sink = TarSink(tar::Builder::new(BufWriter::with_capacity(1 << 20, file)));
                write_archive(&store, &planned, format, &mut sink)?;
                let file = sink
                    .0
                    .into_inner()
                    .map_err(|e| EngineError::io_path("cannot write", tmp, e))?
                    .into_inner()
                    .map_err(|e| EngineError::io_path("cannot write", tmp, e.into_error()))?;
                file.sync_all().ctx("cannot sync", tmp)
            }),
            (_, SaveOutput::Stream(w)) => {
                let mut sink = TarSink(tar::Builder::new(BufWriter::with_capacity(1 << 20, w)));
                write_archive(&store, &planned, format, &mut sink)?;
                sink.0
                    .into_inner()
                    .and_then(|mut w| w.flush())
                    .map_err(|e| EngineError::io("cannot write the archive", e))
            }
        }
    }

    /// The images to save, one entry per image with the names the user gave for it.
    fn plan_save(&self, names: &[String]) -> Result<Vec<Planned>> {
        let store = ContentStore::new(self.layout());
        let mut by_id: BTreeMap<String, Planned> = BTreeMap::new();
        let mut order = Vec::new();
        for name in names {
            let record = self.image(name)?;
            let tags = tags_named(name, &record);
            if let Some(p) = by_id.get_mut(&record.id) {
                for t in tags {
                    if !p.tags.contains(&t) {
                        p.tags.push(t);
                    }
                }
                continue;
            }
            let stored = store.read(&record.platform_manifest_digest).map_err(|e| {
                EngineError::NotFound(format!(
                    "the manifest of image {name} is missing from the store ({e}); pull it again"
                ))
            })?;
            if sha256_digest(&stored) != record.platform_manifest_digest {
                return Err(EngineError::Digest(format!(
                    "the manifest {} of image {name} in the store is corrupt; pull it again",
                    record.platform_manifest_digest
                )));
            }
            let manifest_bytes = oci_manifest(&stored)?.unwrap_or(stored);
            let manifest = match manifest::parse(&manifest_bytes, name)? {
                Fetched::Manifest(m) => m,
                Fetched::Index(_) => {
                    return Err(EngineError::InvalidState(format!(
                        "image {name}: its platform manifest is an index"
                    )))
                }
            };
            order.push(record.id.clone());
            by_id.insert(
                record.id.clone(),
                Planned {
                    manifest_digest: sha256_digest(&manifest_bytes),
                    tags,
                    manifest,
                    manifest_bytes,
                },
            );
        }
        Ok(order
            .into_iter()
            .filter_map(|id| by_id.remove(&id))
            .collect())
    }
}

/// The tags of `record` that `name` asks for: the tag it names; every tag of the repository
/// when it names a repository without a tag (as docker does); none when it is an id.
fn tags_named(name: &str, record: &ImageRecord) -> Vec<String> {
    let Ok(r) = ImageRef::parse(name) else {
        return Vec::new();
    };
    if r.digest.is_some() {
        return Vec::new();
    }
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') {
        return r.tagged().into_iter().collect();
    }
    let prefix = format!("{}:", r.repository());
    let all: Vec<String> = record
        .repo_tags
        .iter()
        .filter(|t| t.starts_with(&prefix))
        .cloned()
        .collect();
    // An id prefix that also parses as a repository name names no tag.
    if all.is_empty() {
        r.tagged()
            .filter(|t| record.repo_tags.contains(t))
            .into_iter()
            .collect()
    } else {
        all
    }
}

/// Writes every entry of the archive into `sink`.
fn write_archive(
    store: &ContentStore,
    images: &[Planned],
    format: ArchiveFormat,
    sink: &mut dyn Sink,
) -> Result<()> {
    sink.dir("blobs")?;
    sink.dir("blobs/sha256")?;
    let mut written = BTreeSet::new();
    for p in images {
        for d in std::iter::once(&p.manifest.config.digest)
            .chain(p.manifest.layers.iter().map(|l| &l.digest))
        {
            if written.insert(d.clone()) {
                copy_blob(store, sink, d)?;
            }
        }
        if written.insert(p.manifest_digest.clone()) {
            let bytes = &p.manifest_bytes;
            sink.file(
                &blob_name(&p.manifest_digest),
                bytes.len() as u64,
                &mut bytes.as_slice(),
            )?;
        }
    }
    let docker = format == ArchiveFormat::DockerArchive;
    let index = oci_index(images, docker);
    let bytes = serde_json::to_vec(&index)
        .map_err(|e| EngineError::io("cannot encode index.json", e.into()))?;
    sink.file("index.json", bytes.len() as u64, &mut bytes.as_slice())?;
    if docker {
        let entries: Vec<ArchiveManifestEntry> = images
            .iter()
            .map(|p| ArchiveManifestEntry {
                config: blob_name(&p.manifest.config.digest),
                repo_tags: (!p.tags.is_empty())
                    .then(|| p.tags.iter().map(|t| familiar(t)).collect()),
                layers: p
                    .manifest
                    .layers
                    .iter()
                    .map(|l| blob_name(&l.digest))
                    .collect(),
            })
            .collect();
        let bytes = serde_json::to_vec(&entries)
            .map_err(|e| EngineError::io("cannot encode manifest.json", e.into()))?;
        sink.file("manifest.json", bytes.len() as u64, &mut bytes.as_slice())?;
    }
    sink.file(
        "oci-layout",
        OCI_LAYOUT.len() as u64,
        &mut OCI_LAYOUT.as_bytes(),
    )?;
    if docker {
        let repos = repositories(images);
        if !repos.is_empty() {
            let bytes = serde_json::to_vec(&repos)
                .map_err(|e| EngineError::io("cannot encode repositories", e.into()))?;
            sink.file("repositories", bytes.len() as u64, &mut bytes.as_slice())?;
        }
    }
    Ok(())
}

/// `index.json`: one entry per name (docker's annotations; an oci-archive's `ref.name` is the
/// whole name, docker's the tag), one without names for an image saved by id.
fn oci_index(images: &[Planned], docker: bool) -> OciIndex {
    let mut manifests = Vec::new();
    for p in images {
        let entry = |annotations| OciIndexEntry {
            media_type: OCI_MANIFEST.to_string(),
            digest: p.manifest_digest.clone(),
            size: p.manifest_bytes.len() as u64,
            annotations,
        };
        if p.tags.is_empty() {
            manifests.push(entry(BTreeMap::new()));
        }
        for t in &p.tags {
            let tag = t.rsplit(':').next().unwrap_or(t).to_string();
            let mut a = BTreeMap::new();
            a.insert(ANNOTATION_IMAGE_NAME.to_string(), t.clone());
            a.insert(
                ANNOTATION_REF_NAME.to_string(),
                if docker { tag } else { t.clone() },
            );
            manifests.push(entry(a));
        }
    }
    OciIndex {
        schema_version: 2,
        media_type: Some(OCI_INDEX.to_string()),
        manifests,
    }
}

/// `repositories`: familiar repository → tag → the top layer's hex (docker's legacy file).
fn repositories(images: &[Planned]) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for p in images {
        let Some(top) = p.manifest.layers.last() else {
            continue;
        };
        for t in &p.tags {
            if let Ok(r) = ImageRef::parse(t) {
                if let Some(tag) = r.tag.clone() {
                    out.entry(r.familiar_repository())
                        .or_default()
                        .insert(tag, top.digest.trim_start_matches("sha256:").to_string());
                }
            }
        }
    }
    out
}

/// Runs `write` on a temporary sibling of `dest` and renames it to `dest` when it succeeds;
/// removes it otherwise. A directory `dest` must not exist or be empty.
pub(crate) fn write_to_new_path(
    dest: &Path,
    dir: bool,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    if dir {
        if let Ok(mut rd) = std::fs::read_dir(dest) {
            if rd.next().is_some() {
                return Err(EngineError::Conflict(format!(
                    "{} exists and is not empty: choose a new directory",
                    dest.display()
                )));
            }
        }
    } else if dest.is_dir() {
        return Err(EngineError::InvalidInput(format!(
            "{} is a directory: name a file to write the archive to",
            dest.display()
        )));
    }
    let name = dest.file_name().ok_or_else(|| {
        EngineError::InvalidInput(format!("{} does not name a file", dest.display()))
    })?;
    let tmp = dest.with_file_name(format!(
        ".{}.berth-{}",
        name.to_string_lossy(),
        hex::encode(rand::random::<[u8; 6]>())
    ));
    let result = write(&tmp).and_then(|()| {
        if dir {
            let _ = std::fs::remove_dir(dest);
        }
        std::fs::rename(&tmp, dest).ctx("cannot move the archive into place at", dest)
    });
    if result.is_err() {
        if dir {
            let _ = std::fs::remove_dir_all(&tmp);
        } else {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    result
}
