//! Layers of an archive unpacked while `load` reads it: a `blobs/sha256/<hex>` entry whose first
//! bytes are gzip, zstd or tar goes into the content ingest and, at the same time, into the
//! unpacker ([`crate::engine::distribution::stream`]). What it made is a [`Prestaged`] layer,
//! used by the import only when the ingest verified the blob, the stream carried all of it, and
//! the diff id it computed is the one the image's config names; any other is dropped (which
//! removes it) and the layer is unpacked from the store as before.

use std::collections::BTreeMap;
use std::io::{self, Read};

use crate::engine::content::ContentStore;
use crate::engine::distribution::stream;
use crate::engine::error::Result;
use crate::engine::image::import::unpack_staged_unchecked;
use crate::engine::staging::StagedDir;

/// A layer unpacked from an archive's blob before the image was planned.
pub struct Prestaged {
    /// The staging dir holding it.
    pub dir: StagedDir,
    /// Its unpacked size.
    pub size: u64,
    /// The diff id it turned out to have.
    pub diff_id: String,
}

impl std::fmt::Debug for Prestaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prestaged")
            .field("dir", &self.dir.path())
            .field("diff_id", &self.diff_id)
            .finish()
    }
}

/// Prestaged layers by blob digest.
pub type PrestagedLayers = BTreeMap<String, Prestaged>;

/// True when a blob starting with `head` may be a layer (gzip, zstd or a tar header).
fn looks_like_layer(head: &[u8]) -> bool {
    use crate::engine::compression::{looks_like_archive, Compression};
    // Layers are never xz or bzip2.
    looks_like_archive(head)
        && !matches!(
            Compression::sniff(head),
            Compression::Xz | Compression::Bzip2
        )
}

/// Stores `data` (the blob `digest` of `size` bytes) through the ingest, unpacking it on the way
/// when it looks like a layer. Returns whether the blob was new in the store and the layer, when
/// one was made from the whole verified blob. The error is the ingest's.
pub fn ingest_unpacking(
    store: &ContentStore,
    data: &mut dyn Read,
    digest: &str,
    size: u64,
) -> Result<(bool, Option<Prestaged>)> {
    let mut head = Vec::with_capacity(512);
    data.take(512.min(size))
        .read_to_end(&mut head)
        .map_err(|e| crate::engine::EngineError::io("cannot read the archive", e))?;
    let mut whole = io::Cursor::new(head.clone()).chain(data);
    if !looks_like_layer(&head) || store.has(digest)? {
        return Ok((store.ingest(&mut whole, digest, size)?, None));
    }
    let layout = store.layout().clone();
    let (tee, input) = stream::tee(size);
    std::thread::scope(|s| {
        let unpacker = s.spawn(|| unpack_staged_unchecked(&layout, input, digest));
        let mut teed = Teed {
            inner: &mut whole,
            tee,
            offset: 0,
        };
        let stored = store.ingest(&mut teed, digest, size);
        let complete = teed.tee.complete();
        teed.tee.finish_blocking();
        let unpacked = unpacker.join();
        let stored = stored?;
        let layer = match unpacked {
            Ok(Ok((dir, size, diff_id))) if complete => Some(Prestaged { dir, size, diff_id }),
            _ => None,
        };
        Ok((stored, layer))
    })
}

/// A reader that also sends what it reads to a tee.
struct Teed<'r> {
    inner: &'r mut dyn Read,
    tee: stream::Tee,
    offset: u64,
}

impl Read for Teed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tee.send_blocking(self.offset, &buf[..n]);
        self.offset += n as u64;
        Ok(n)
    }
}
