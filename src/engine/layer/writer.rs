//! Layer writer: a directory in overlay form (a container's `upper/`, a build step's staging
//! directory) to an OCI layer archive in the content store.
//!
//! Overlay whiteouts (character devices 0:0) become `.wh.NAME` entries and an opaque directory
//! (`trusted.overlay.opaque=y`) gets a `.wh..wh..opq` entry right after its own; owners, modes,
//! mtimes (whole seconds), xattrs (`security.capability` included, overlayfs's own left out),
//! devices, fifos, symlinks and hard links within the layer are kept. A name longer than 100
//! bytes or not plain ASCII, a link target likewise, and ids or sizes too big for the ustar
//! fields go in a PAX extended header (raw bytes, as Go's archive/tar writes them). Entries come
//! in byte order of their paths, a directory before its children, and the gzip header carries no
//! time or name, so the same tree always gives the same bytes.
//!
//! The tar stream is hashed (the diff id) and compressed while the compressed stream is hashed
//! (the blob digest) and written into the store by a [`BlobWriter`]: one pass, no temporary
//! archive. Blocking.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use sha2::{Digest, Sha256};
use tar::{EntryType, Header};

use super::tree::{self, Node, NodeKind};
use crate::engine::content::{BlobWriter, ContentStore};
use crate::engine::error::{EngineError, Result};

/// OCI media type of an uncompressed layer.
pub const MEDIA_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI media type of a gzip layer.
pub const MEDIA_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI media type of a zstd layer.
pub const MEDIA_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// How the archive is compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LayerCompression {
    /// Plain tar.
    None,
    /// gzip (what registries and docker expect).
    #[default]
    Gzip,
    /// zstd.
    Zstd,
}

/// Decides whether a relative path is left out of a layer.
pub type SkipFn<'a> = &'a dyn Fn(&[u8]) -> bool;

/// How to write a layer.
#[derive(Default)]
pub struct LayerOptions<'a> {
    /// Compression of the blob.
    pub compression: LayerCompression,
    /// Mtimes later than this (seconds since the epoch, e.g. `SOURCE_DATE_EPOCH`) are set to it.
    pub clamp_mtime: Option<i64>,
    /// Relative paths (`etc/hosts`) left out with everything below them.
    pub skip: Option<SkipFn<'a>>,
}

/// A layer written into the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenLayer {
    /// Digest of the blob (compressed).
    pub digest: String,
    /// Size of the blob.
    pub size: u64,
    /// Digest of the uncompressed tar: the config's `rootfs.diff_ids` entry.
    pub diff_id: String,
    /// Size of the uncompressed tar.
    pub tar_size: u64,
    /// The blob's media type.
    pub media_type: &'static str,
    /// Entries written.
    pub entries: u64,
}

/// Writes the tree at `dir` as a layer blob into `store`. Nothing is stored on failure.
pub fn write_layer(store: &ContentStore, dir: &Path, opts: &LayerOptions) -> Result<WrittenLayer> {
    let sink = Sink::new(store.writer()?, opts.compression)?;
    let mut tar = TarOut {
        out: Hashing {
            inner: sink,
            hasher: Sha256::new(),
            count: 0,
        },
        links: HashMap::new(),
        clamp: opts.clamp_mtime,
        entries: 0,
    };
    let no_skip = |_: &[u8]| false;
    let skip = opts.skip.unwrap_or(&no_skip);
    tree::walk(dir, skip, &mut |node| tar.entry(node))?;
    // End of archive: two zero records, as Go's archive/tar and GNU tar write.
    tar.out
        .write_all(&[0u8; 1024])
        .map_err(|e| EngineError::io("cannot write the layer", e))?;
    let diff_id = format!("sha256:{}", hex::encode(tar.out.hasher.finalize()));
    let tar_size = tar.out.count;
    let blob = tar
        .out
        .inner
        .finish()
        .map_err(|e| EngineError::io("cannot finish the layer's compression", e))?
        .commit()?;
    Ok(WrittenLayer {
        digest: blob.digest,
        size: blob.size,
        diff_id,
        tar_size,
        media_type: match opts.compression {
            LayerCompression::None => MEDIA_TAR,
            LayerCompression::Gzip => MEDIA_GZIP,
            LayerCompression::Zstd => MEDIA_ZSTD,
        },
        entries: tar.entries,
    })
}

/// The compressor in front of the store.
enum Sink {
    Plain(BlobWriter),
    Gzip(flate2::write::GzEncoder<BlobWriter>),
    Zstd(zstd::stream::write::Encoder<'static, BlobWriter>),
}

impl Sink {
    fn new(w: BlobWriter, c: LayerCompression) -> Result<Sink> {
        Ok(match c {
            LayerCompression::None => Sink::Plain(w),
            // No name, mtime 0: reproducible. Level 6 is gzip's and docker's default.
            LayerCompression::Gzip => {
                Sink::Gzip(flate2::GzBuilder::new().write(w, flate2::Compression::default()))
            }
            LayerCompression::Zstd => Sink::Zstd(
                zstd::stream::write::Encoder::new(w, 3)
                    .map_err(|e| EngineError::io("cannot start zstd", e))?,
            ),
        })
    }

    fn finish(self) -> io::Result<BlobWriter> {
        match self {
            Sink::Plain(w) => Ok(w),
            Sink::Gzip(g) => g.finish(),
            Sink::Zstd(z) => z.finish(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
            Sink::Zstd(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
            Sink::Zstd(w) => w.flush(),
        }
    }
}

/// Hashes and counts the uncompressed tar stream.
struct Hashing {
    inner: Sink,
    hasher: Sha256,
    count: u64,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Largest value of an 8-byte octal ustar field (uid, gid, mode).
const MAX_ID: u64 = 0o7_777_777;
/// Largest value of the 12-byte octal size field.
const MAX_SIZE: u64 = 0o77_777_777_777;

struct TarOut {
    out: Hashing,
    /// First path of every multiply-linked inode, by (dev, ino).
    links: HashMap<(u64, u64), Vec<u8>>,
    clamp: Option<i64>,
    entries: u64,
}

impl TarOut {
    fn entry(&mut self, node: Node) -> Result<()> {
        let shown = String::from_utf8_lossy(&node.path).into_owned();
        self.write_node(node)
            .map_err(|e| EngineError::io(format!("cannot write {shown:?} into the layer"), e))
    }

    fn write_node(&mut self, node: Node) -> io::Result<()> {
        let st = &node.stat;
        let mut h = Header::new_ustar();
        let mut pax: Vec<(&str, Vec<u8>)> = Vec::new();
        let mtime = match self.clamp {
            Some(c) if st.st_mtime > c => c,
            _ => st.st_mtime,
        }
        .max(0) as u64;
        h.set_mtime(mtime);
        h.set_mode(st.st_mode & 0o7777);
        for (key, id, set) in [
            (
                "uid",
                st.st_uid as u64,
                Header::set_uid as fn(&mut Header, u64),
            ),
            ("gid", st.st_gid as u64, Header::set_gid),
        ] {
            if id > MAX_ID {
                pax.push((key, id.to_string().into_bytes()));
                set(&mut h, 0);
            } else {
                set(&mut h, id);
            }
        }
        h.set_size(0);
        let mut name = node.path.clone();
        let mut data: Option<(std::fs::File, u64)> = None;
        if let Some(first) = self.hard_link_target(&node) {
            h.set_entry_type(EntryType::Link);
            link_name(&mut h, &mut pax, &first);
        } else {
            match node.kind {
                NodeKind::Dir { opaque } => {
                    h.set_entry_type(EntryType::Directory);
                    name.push(b'/');
                    self.write_header(&mut h, &name, pax, &node.xattrs, None)?;
                    if opaque {
                        let mut wh = Header::new_ustar();
                        wh.set_entry_type(EntryType::Regular);
                        wh.set_mode(st.st_mode & 0o777);
                        wh.set_uid(h.uid()?);
                        wh.set_gid(h.gid()?);
                        wh.set_mtime(mtime);
                        wh.set_size(0);
                        let mut path = node.path.clone();
                        path.extend_from_slice(b"/.wh..wh..opq");
                        self.write_header(&mut wh, &path, vec![], &[], None)?;
                    }
                    return Ok(());
                }
                NodeKind::Whiteout => {
                    h.set_entry_type(EntryType::Regular);
                    h.set_mode(0o600);
                    let (dir, base) = match node.path.iter().rposition(|b| *b == b'/') {
                        Some(i) => (&node.path[..=i], &node.path[i + 1..]),
                        None => (&b""[..], &node.path[..]),
                    };
                    name = [dir, b".wh.", base].concat();
                    return self.write_header(&mut h, &name, pax, &[], None);
                }
                NodeKind::File(file) => {
                    h.set_entry_type(EntryType::Regular);
                    let size = st.st_size as u64;
                    if size > MAX_SIZE {
                        pax.push(("size", size.to_string().into_bytes()));
                    } else {
                        h.set_size(size);
                    }
                    data = Some((file, size));
                }
                NodeKind::Symlink(ref target) => {
                    h.set_entry_type(EntryType::Symlink);
                    link_name(&mut h, &mut pax, target.as_bytes());
                }
                NodeKind::Char | NodeKind::Block => {
                    h.set_entry_type(if matches!(node.kind, NodeKind::Char) {
                        EntryType::Char
                    } else {
                        EntryType::Block
                    });
                    let dev = st.st_rdev;
                    h.set_device_major(libc::major(dev))?;
                    h.set_device_minor(libc::minor(dev))?;
                }
                NodeKind::Fifo => h.set_entry_type(EntryType::Fifo),
            }
        }
        self.write_header(&mut h, &name, pax, &node.xattrs, data)
    }

    /// For a second path of a multiply-linked inode, the first one.
    fn hard_link_target(&mut self, node: &Node) -> Option<Vec<u8>> {
        if matches!(node.kind, NodeKind::Dir { .. } | NodeKind::Whiteout) || node.stat.st_nlink < 2
        {
            return None;
        }
        let key = (node.stat.st_dev, node.stat.st_ino);
        match self.links.get(&key) {
            Some(first) => Some(first.clone()),
            None => {
                self.links.insert(key, node.path.clone());
                None
            }
        }
    }

    /// Writes the PAX header (if any), the header and the data.
    fn write_header(
        &mut self,
        h: &mut Header,
        name: &[u8],
        mut pax: Vec<(&str, Vec<u8>)>,
        xattrs: &[(std::ffi::OsString, Vec<u8>)],
        data: Option<(std::fs::File, u64)>,
    ) -> io::Result<()> {
        let plain = |b: &[u8]| b.iter().all(|c| (0x20..0x7f).contains(c));
        if name.len() > 100 || !plain(name) {
            pax.push(("path", name.to_vec()));
        }
        let raw = h.as_old_mut();
        let shown: Vec<u8> = name
            .iter()
            .map(|c| if (0x20..0x7f).contains(c) { *c } else { b'_' })
            .collect();
        let keep = shown.len().min(100);
        raw.name = [0; 100];
        raw.name[..keep].copy_from_slice(&shown[shown.len() - keep..]);
        let mut records = Vec::new();
        for (k, v) in &pax {
            pax_record(&mut records, k.as_bytes(), v);
        }
        for (k, v) in xattrs {
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(k.as_bytes());
            pax_record(&mut records, &key, v);
        }
        if !records.is_empty() {
            let mut x = Header::new_ustar();
            x.set_entry_type(EntryType::XHeader);
            x.set_mode(0o644);
            x.set_mtime(h.mtime()?);
            x.set_size(records.len() as u64);
            let xname = b"PaxHeaders/entry";
            x.as_old_mut().name[..xname.len()].copy_from_slice(xname);
            x.set_cksum();
            self.out.write_all(x.as_bytes())?;
            self.out.write_all(&records)?;
            pad(&mut self.out, records.len() as u64)?;
        }
        h.set_cksum();
        self.out.write_all(h.as_bytes())?;
        self.entries += 1;
        if let Some((file, size)) = data {
            let copied = io::copy(&mut file.take(size), &mut self.out)?;
            if copied != size {
                return Err(io::Error::other(format!(
                    "the file shrank from {size} to {copied} bytes while it was read; stop or \
                     pause the container and try again"
                )));
            }
            pad(&mut self.out, size)?;
        }
        Ok(())
    }
}

/// Puts a link target in the header, or in a PAX `linkpath` when it does not fit.
fn link_name(h: &mut Header, pax: &mut Vec<(&str, Vec<u8>)>, target: &[u8]) {
    let plain = target.iter().all(|c| (0x20..0x7f).contains(c));
    let raw = h.as_old_mut();
    raw.linkname = [0; 100];
    if target.len() <= 100 && plain {
        raw.linkname[..target.len()].copy_from_slice(target);
    } else {
        pax.push(("linkpath", target.to_vec()));
    }
}

/// Appends one `LEN KEY=VALUE\n` record; LEN counts itself.
fn pax_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let body = key.len() + value.len() + 3; // space, '=', newline
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

fn pad(out: &mut impl Write, size: u64) -> io::Result<()> {
    let rem = (size % 512) as usize;
    if rem != 0 {
        out.write_all(&[0u8; 512][..512 - rem])?;
    }
    Ok(())
}
