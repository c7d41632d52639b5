//! Reading an archive for `load`: a tar (plain, gzip or zstd, from a file or a stream) or a
//! directory (an OCI layout, an extracted archive). Nothing is extracted to disk as a tree:
//!
//! - `blobs/sha256/<hex>` goes straight into the content store through the ingest, which
//!   verifies it against its name (a wrong digest fails the load), and a layer among them into
//!   the unpacker at the same time ([`super::prestage`]);
//! - small other files (`manifest.json`, `index.json`, `repositories`, `<hex>.json`) are kept
//!   in memory;
//! - big other files (the `<id>/layer.tar` of older docker archives) are hashed while staged in
//!   `tmp/`, then ingested under the digest they turned out to have;
//! - links (older docker archives link repeated layers) are kept as aliases of archive paths.
//!
//! Every blob this read added to the store is listed, so a failed load can remove them.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::prestage::{ingest_unpacking, PrestagedLayers};
use crate::engine::content::ContentStore;
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::staging::StagedDir;

/// Files at most this big (and not named `*.tar`) are held in memory.
const SMALL_FILE: u64 = 4 << 20;
/// Bytes of small files held in memory at most.
const SMALL_TOTAL: u64 = 256 << 20;

/// What an archive held.
#[derive(Debug, Default)]
pub struct Collected {
    /// Small files that are not blobs, by archive path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Files now in the content store: archive path → (digest, size).
    pub blobs: BTreeMap<String, (String, u64)>,
    /// Links: archive path → the archive path it names.
    pub links: BTreeMap<String, String>,
    /// Blobs this read stored that were not in the store before.
    pub new_blobs: Vec<String>,
    /// Layers unpacked while their blobs were read, by blob digest.
    pub unpacked: PrestagedLayers,
    small_total: u64,
}

impl Collected {
    /// Follows links from `path` (at most 16).
    pub fn resolve(&self, path: &str) -> String {
        let mut p = normalize(path).unwrap_or_default();
        for _ in 0..16 {
            match self.links.get(&p) {
                Some(t) => p = t.clone(),
                None => break,
            }
        }
        p
    }

    /// The bytes of a small file or stored blob at `path`.
    pub fn read(&self, store: &ContentStore, path: &str) -> Result<Option<Vec<u8>>> {
        let p = self.resolve(path);
        if let Some(b) = self.files.get(&p) {
            return Ok(Some(b.clone()));
        }
        match self.blobs.get(&p) {
            Some((digest, _)) => store.read(digest).map(Some),
            None => Ok(None),
        }
    }
}

/// Lexically normalises an archive path: no leading `./` or `/`, no `.` components; `None` for
/// a path that climbs out with `..` or is empty.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The digest a `blobs/<alg>/<hex>` path names, `None` for other paths.
fn blob_digest(path: &str) -> Result<Option<String>> {
    let mut it = path.split('/');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some("blobs"), Some("sha256"), Some(hex), None)
            if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            Ok(Some(format!("sha256:{hex}")))
        }
        (Some("blobs"), Some(alg), Some(_), None) if alg != "sha256" => {
            Err(EngineError::InvalidInput(format!(
                "the archive holds {path}: digest algorithm {alg} is not supported (only sha256)"
            )))
        }
        _ => Ok(None),
    }
}

/// Reads archives into the store of one engine root.
pub struct Reader<'a> {
    store: &'a ContentStore,
    staging: StagedDir,
    out: Collected,
}

impl<'a> Reader<'a> {
    /// A reader staging big files in `staging`.
    pub fn new(store: &'a ContentStore, staging: StagedDir) -> Reader<'a> {
        Reader {
            store,
            staging,
            out: Collected::default(),
        }
    }

    /// What was read so far (also after a failure: its `new_blobs` are what to remove).
    pub fn finish(self) -> Collected {
        self.out
    }

    /// The blobs stored so far.
    pub fn new_blobs(&self) -> &[String] {
        &self.out.new_blobs
    }

    /// Reads a tar stream, decompressing gzip, zstd, xz or bzip2.
    pub fn read_stream(&mut self, input: impl Read) -> Result<()> {
        let decoded = crate::engine::compression::decompressed(input, "the archive").map_err(
            |e| match e {
                EngineError::InvalidInput(_) => EngineError::InvalidInput(
                    "the archive is empty: give a file saved by berth, docker or podman save"
                        .into(),
                ),
                e => e,
            },
        )?;
        let mut archive = tar::Archive::new(decoded);
        let bad = |e: std::io::Error| {
            EngineError::InvalidInput(format!(
                "the archive is not a valid tar (truncated or corrupt?): {e}"
            ))
        };
        let mut seen = 0usize;
        for entry in archive.entries().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            seen += 1;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(path) = normalize(&raw) else {
                continue;
            };
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let size = entry.size();
                    self.add_file(&path, size, &mut entry)?;
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    let symlink = entry.header().entry_type() == tar::EntryType::Symlink;
                    self.add_link(&path, &target, symlink);
                }
                _ => {}
            }
        }
        if seen == 0 {
            return Err(EngineError::InvalidInput(
                "the input is not a tar archive (or it is empty)".into(),
            ));
        }
        Ok(())
    }

    /// Reads a directory (an OCI layout or an extracted archive).
    pub fn read_dir(&mut self, dir: &Path) -> Result<()> {
        let mut stack = vec![(dir.to_path_buf(), String::new())];
        while let Some((path, rel)) = stack.pop() {
            let rd = std::fs::read_dir(&path).ctx("cannot read", &path)?;
            for entry in rd {
                let entry = entry.ctx("cannot read", &path)?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let rel = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                let full: PathBuf = entry.path();
                let meta = std::fs::symlink_metadata(&full).ctx("cannot stat", &full)?;
                if meta.is_dir() {
                    stack.push((full, rel));
                } else if meta.file_type().is_symlink() {
                    let target = std::fs::read_link(&full).ctx("cannot read link", &full)?;
                    self.add_link(&rel, &target.to_string_lossy(), true);
                } else if meta.is_file() {
                    let mut f = File::open(&full).ctx("cannot open", &full)?;
                    self.add_file(&rel, meta.len(), &mut f)?;
                }
            }
        }
        Ok(())
    }

    fn add_link(&mut self, path: &str, target: &str, symlink: bool) {
        // A symlink is relative to its directory; a hard link names an archive path.
        let joined = match (symlink, path.rsplit_once('/')) {
            (true, Some((dir, _))) if !target.starts_with('/') => format!("{dir}/{target}"),
            _ => target.to_string(),
        };
        if let Some(t) = normalize(&joined) {
            self.out.links.insert(path.to_string(), t);
        }
    }

    fn add_file(&mut self, path: &str, size: u64, data: &mut dyn Read) -> Result<()> {
        if let Some(digest) = blob_digest(path)? {
            let mut counted = Counting { inner: data, n: 0 };
            let stored = ingest_unpacking(self.store, &mut counted, &digest, size);
            let (stored, layer) = match stored {
                Err(_) if counted.n > 0 && counted.n < size => {
                    return Err(truncated(path, std::io::ErrorKind::UnexpectedEof.into()))
                }
                other => other.map_err(|e| blob_error(path, e))?,
            };
            if let Some(layer) = layer {
                self.out.unpacked.insert(digest.clone(), layer);
            }
            if stored {
                self.out.new_blobs.push(digest.clone());
            }
            self.out.blobs.insert(path.to_string(), (digest, size));
            return Ok(());
        }
        if size <= SMALL_FILE && !path.ends_with(".tar") {
            self.out.small_total += size;
            if self.out.small_total > SMALL_TOTAL {
                return Err(EngineError::InvalidInput(
                    "the archive holds too many small files to be an image archive".into(),
                ));
            }
            let mut buf = Vec::with_capacity(size as usize);
            data.take(size)
                .read_to_end(&mut buf)
                .map_err(|e| truncated(path, e))?;
            if (buf.len() as u64) < size {
                return Err(truncated(path, std::io::ErrorKind::UnexpectedEof.into()));
            }
            self.out.files.insert(path.to_string(), buf);
            return Ok(());
        }
        // Hash while staging, then store under the digest it has.
        let staged = self
            .staging
            .path()
            .join(hex::encode(rand::random::<[u8; 8]>()));
        let result = (|| {
            let mut f = std::io::BufWriter::with_capacity(
                1 << 20,
                File::create(&staged).ctx("cannot create", &staged)?,
            );
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            let mut left = size;
            while left > 0 {
                let want = buf.len().min(left as usize);
                let n = data
                    .read(&mut buf[..want])
                    .map_err(|e| truncated(path, e))?;
                if n == 0 {
                    return Err(truncated(path, std::io::ErrorKind::UnexpectedEof.into()));
                }
                hasher.update(&buf[..n]);
                f.write_all(&buf[..n]).ctx("cannot write", &staged)?;
                left -= n as u64;
            }
            f.flush().ctx("cannot write", &staged)?;
            let digest = format!("sha256:{}", hex::encode(hasher.finalize()));
            let file = File::open(&staged).ctx("cannot open", &staged)?;
            if self.store.ingest(file, &digest, size)? {
                self.out.new_blobs.push(digest.clone());
            }
            self.out.blobs.insert(path.to_string(), (digest, size));
            Ok(())
        })();
        let _ = std::fs::remove_file(&staged);
        result
    }
}

/// Counts the bytes read through it.
struct Counting<'r> {
    inner: &'r mut dyn Read,
    n: u64,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

fn truncated(path: &str, e: std::io::Error) -> EngineError {
    EngineError::InvalidInput(format!(
        "the archive ends inside {path} (truncated or corrupt): {e}"
    ))
}

fn blob_error(path: &str, e: EngineError) -> EngineError {
    match e {
        EngineError::Digest(m) => EngineError::Digest(format!("the archive's {path}: {m}")),
        EngineError::Io { context, source }
            if source.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            truncated(path, std::io::Error::new(source.kind(), context))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_never_climb_out() {
        assert_eq!(
            normalize("./manifest.json").as_deref(),
            Some("manifest.json")
        );
        assert_eq!(normalize("/a/./b/").as_deref(), Some("a/b"));
        assert_eq!(normalize("a/../b").as_deref(), Some("b"));
        assert_eq!(normalize("../etc/passwd"), None);
        assert_eq!(normalize("./"), None);
    }

    #[test]
    fn blob_paths_name_their_digest() {
        let hex = "a".repeat(64);
        assert_eq!(
            blob_digest(&format!("blobs/sha256/{hex}")).unwrap(),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(blob_digest("blobs/sha256/xyz").unwrap(), None);
        assert_eq!(blob_digest("manifest.json").unwrap(), None);
        assert!(blob_digest("blobs/sha512/abc").is_err());
    }
}
