//! Layer unpack: one verified layer blob (plain tar, gzip or zstd) into a fresh staging directory,
//! in overlayfs form, computing the layer's diff id on the way.
//!
//! Safety model: extraction holds a descriptor on the staging directory and reaches every entry by
//! walking its path one component at a time with `openat(O_DIRECTORY | O_NOFOLLOW)`. A name that
//! climbs out with `..`, a parent that is a symlink or not a directory, a hard link whose target
//! is outside or missing, and a malformed whiteout are refused with [`EngineError::Layer`] naming
//! the entry. Leading `/` is stripped (as docker and containerd do); a `..` that stays inside the
//! layer is resolved lexically. Nothing is ever created through a symlink: the final component is
//! created with `O_EXCL`/`mknodat`/`symlinkat`/`linkat` and changed with the no-follow variants.
//!
//! On error the staging directory holds a partial tree; the caller owns it and removes it.

mod dirs;
mod entry;
pub(in crate::engine::layer) mod fsops;
#[cfg(test)]
mod interop_tests;
mod meta;
#[cfg(test)]
mod meta_tests;
mod names;
#[cfg(test)]
mod order_tests;
mod pipe;
mod pool;
mod special;
#[cfg(test)]
mod tests;

use std::fmt::Display;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use nix::errno::Errno;

use crate::engine::error::{EngineError, IoContext, Result};

/// How often, in uncompressed bytes, `progress` is called at most.
const PROGRESS_STEP: u64 = 256 * 1024;
/// Read buffer between the decompressor and the tar parser.
const READ_BUF: usize = 256 * 1024;

/// Unpacks the verified layer `blob` of `media_type` into the empty directory `dest` and returns
/// its diff id (`sha256:<hex>` of the uncompressed tar stream, trailing bytes included).
/// `progress` receives the running count of uncompressed bytes, at most every 256 KiB and once at
/// the end. On error `dest` may hold part of the layer; the caller removes it.
pub fn unpack_layer(
    blob: &Path,
    media_type: &str,
    dest: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<String> {
    let file = File::open(blob).ctx("opening layer blob", blob)?;
    unpack_stream(
        file,
        media_type,
        dest,
        progress,
        &blob.display().to_string(),
    )
}

/// [`unpack_layer`] from a stream of the blob's bytes (a download still arriving); `name`
/// names the layer in errors. A stream that fails (its download broke) fails the unpack.
pub fn unpack_stream(
    input: impl Read + Send,
    media_type: &str,
    dest: &Path,
    progress: &mut dyn FnMut(u64),
    name: &str,
) -> Result<String> {
    unpack_inner(input, media_type, dest, progress).map_err(|e| match e {
        EngineError::Layer(m) => EngineError::Layer(format!("layer {name}: {m}")),
        EngineError::Io { context, source } => EngineError::Io {
            context: format!("layer {name}: {context}"),
            source,
        },
        other => other,
    })
}

fn unpack_inner(
    mut input: impl Read + Send,
    media_type: &str,
    dest: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<String> {
    let mut head = Vec::with_capacity(512);
    (&mut input)
        .take(512)
        .read_to_end(&mut head)
        .map_err(|e| EngineError::io("reading the layer blob", e))?;
    let compression = choose_compression(media_type, &head)?;
    let raw = io::Cursor::new(head).chain(input);
    let decoded: Box<dyn Read + Send + '_> = match compression {
        Compression::None => Box::new(raw),
        Compression::Gzip => Box::new(MultiGzDecoder::new(raw)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(raw)
                .map_err(|e| EngineError::io("starting the zstd decoder", e))?,
        ),
    };
    let root = fsops::open_root(dest)
        .map_err(|e| EngineError::io_path("opening layer staging directory", dest, e.into()))?;
    let ((tx, spare), chunks) = pipe::channel();
    std::thread::scope(|s| {
        let producer = std::thread::Builder::new()
            .name("layer-decode".into())
            .spawn_scoped(s, move || pipe::produce(decoded, tx, spare))
            .map_err(|e| EngineError::io("starting the layer decompression thread", e))?;
        let counting = Counting {
            inner: chunks,
            total: 0,
            reported: 0,
            progress,
        };
        // Returns (and drops the channel) before the join, so a failed extraction stops the
        // producer instead of leaving it blocked on a full channel.
        let extracted = extract_stream(counting, root);
        producer
            .join()
            .map_err(|_| EngineError::Layer("the decompression thread panicked".into()))?;
        extracted
    })
}

/// Extracts the decompressed stream, then reads what follows the end-of-archive marker too (zero
/// padding up to the record size), so the digest it returns covers the whole stream as the
/// image config's diff ids do; for gzip this also reaches and checks the trailer's CRC.
fn extract_stream(input: Counting<'_>, root: std::os::fd::OwnedFd) -> Result<String> {
    let mut archive = tar::Archive::new(input);
    entry::Extractor::new(root, true)
        .parallel()
        .extract_all(&mut archive)?;
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| {
        EngineError::Layer(format!(
            "reading the data after the end of the archive: {e}"
        ))
    })?;
    (rest.progress)(rest.total);
    Ok(rest.inner.digest())
}

/// Extracts the tar stream `input` into the existing directory `dir` with the same walk as a
/// layer (every component opened without following symlinks, existing entries replaced, owners,
/// modes and times kept): what `cp` uses to write into a container or onto the host, and a
/// build's ADD and context archives. It is a plain archive, not a layer: a `.wh.*` name is an
/// ordinary file, never a whiteout.
pub fn extract_into(dir: std::os::fd::OwnedFd, input: impl Read) -> Result<()> {
    let mut archive = tar::Archive::new(BufReader::with_capacity(READ_BUF, input));
    entry::Extractor::new(dir, false).extract_all(&mut archive)
}

/// [`extract_into`] the directory at `path` (not followed if it is a symlink) from an archive
/// compressed by any of [`crate::engine::compression::Compression`]; `what` names the archive
/// in errors.
pub fn extract_archive_into(path: &Path, input: impl Read, what: &str) -> Result<()> {
    let dir =
        fsops::open_root(path).map_err(|e| EngineError::io_path("cannot open", path, e.into()))?;
    let mut decoded = crate::engine::compression::decompressed(input, what)?;
    extract_into(dir, &mut decoded).map_err(|e| match e {
        EngineError::Layer(m) => EngineError::InvalidInput(format!("{what}: {m}")),
        other => other,
    })?;
    // The rest (padding after the end-of-archive marker) must decompress too: a compressed
    // archive cut short is refused even when its entries came through.
    io::copy(&mut decoded, &mut io::sink())
        .map(|_| ())
        .map_err(|e| EngineError::InvalidInput(format!("{what} is truncated or corrupt: {e}")))
}

/// The decompression a blob needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Picks the decompression from the media type and the blob's first bytes. The magic bytes win
/// when they are unambiguous (a mislabelled gzip or zstd blob still unpacks); a blob labelled
/// compressed whose bytes are not is refused rather than fed to the tar parser.
fn choose_compression(media_type: &str, head: &[u8]) -> Result<Compression> {
    let mt = media_type.trim().to_ascii_lowercase();
    if mt.contains("encrypted") {
        return Err(EngineError::Layer(format!(
            "media type {media_type} is an encrypted layer; berth cannot decrypt layers, pull an \
             unencrypted image"
        )));
    }
    let declared = if mt.ends_with("gzip") || mt.ends_with("+gz") {
        Some(Compression::Gzip)
    } else if mt.ends_with("zstd") {
        Some(Compression::Zstd)
    } else if mt.ends_with("tar") {
        Some(Compression::None)
    } else {
        None
    };
    let sniffed = if head.starts_with(&[0x1f, 0x8b]) {
        Some(Compression::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Compression::Zstd)
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Some(Compression::None)
    } else if head.starts_with(b"BZh") || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Err(EngineError::Layer(format!(
            "blob is bzip2 or xz compressed (media type {media_type}); OCI layers are plain tar, \
             gzip or zstd"
        )));
    } else {
        None
    };
    match (declared, sniffed) {
        (_, Some(found)) => {
            if declared.is_some_and(|d| d != found) {
                tracing::warn!(
                    media_type,
                    ?found,
                    "layer blob's bytes disagree with its media type"
                );
            }
            Ok(found)
        }
        (Some(Compression::Gzip | Compression::Zstd), None) => {
            let shown: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
            Err(EngineError::Layer(format!(
                "media type {media_type} says compressed, but the blob does not start with gzip \
                 or zstd magic bytes (it starts with [{}]); the image is malformed",
                shown.join(" ")
            )))
        }
        // Plain tar, or a media type we do not know (foreign/nondistributable layers, vendor
        // types): let the tar parser decide, it names what is wrong if this is not a tar.
        _ => Ok(Compression::None),
    }
}

/// Counts the uncompressed stream as the tar parser reads it, for `progress`.
struct Counting<'p> {
    inner: pipe::Chunks,
    total: u64,
    reported: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        if self.total - self.reported >= PROGRESS_STEP {
            self.reported = self.total;
            (self.progress)(self.total);
        }
        Ok(n)
    }
}

/// A refused entry: the archive is hostile or malformed.
fn refuse(entry: &str, why: impl Display) -> EngineError {
    EngineError::Layer(format!(
        "entry {entry:?}: {why}; the layer cannot be unpacked"
    ))
}

/// A system call failed on an entry for a reason that is not the archive's fault.
fn sys(entry: &str, what: impl Display, e: Errno) -> EngineError {
    EngineError::Io {
        context: format!("entry {entry:?}: {what}"),
        source: io::Error::from(e),
    }
}
