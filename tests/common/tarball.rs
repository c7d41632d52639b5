//! A byte-exact tar writer for test layers.
//!
//! Every header is a ustar header written field by field: fixed mtime, owner 0:0 unless given,
//! and names copied raw, so hostile names (`..`, absolute paths) can be written exactly as an
//! attacker would (the `tar` crate's builder refuses them, rightly).

use tar::{EntryType, Header};

/// The mtime of every entry in every test layer (2024-01-01T00:00:00Z).
pub const FIXED_MTIME: u64 = 1_704_067_200;

/// Builds an uncompressed tar archive in memory.
#[derive(Default)]
pub struct TarBuilder {
    buf: Vec<u8>,
}

impl TarBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A directory (the name gets a trailing `/`, as docker writes it).
    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        self.dir_owned(path, mode, 0, 0)
    }

    pub fn dir_owned(&mut self, path: &str, mode: u32, uid: u64, gid: u64) -> &mut Self {
        let name = format!("{}/", path.trim_end_matches('/'));
        self.entry(&name, EntryType::Directory, mode, uid, gid, "", &[])
    }

    /// A regular file.
    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> &mut Self {
        self.entry(path, EntryType::Regular, mode, 0, 0, "", data)
    }

    pub fn file_owned(
        &mut self,
        path: &str,
        mode: u32,
        uid: u64,
        gid: u64,
        data: &[u8],
    ) -> &mut Self {
        self.entry(path, EntryType::Regular, mode, uid, gid, "", data)
    }

    /// A symbolic link `path` -> `target` (target written raw).
    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.entry(path, EntryType::Symlink, 0o777, 0, 0, target, &[])
    }

    /// A hard link `path` to the archive member `target` (target written raw).
    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.entry(path, EntryType::Link, 0o644, 0, 0, target, &[])
    }

    /// One entry with raw name and link name. Panics on names that do not fit a ustar header
    /// (harness inputs are fixed, so that is a bug in the harness).
    #[allow(clippy::too_many_arguments)]
    pub fn entry(
        &mut self,
        path: &str,
        kind: EntryType,
        mode: u32,
        uid: u64,
        gid: u64,
        link: &str,
        data: &[u8],
    ) -> &mut Self {
        let mut header = Header::new_ustar();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(uid);
        header.set_gid(gid);
        header.set_mtime(FIXED_MTIME);
        header.set_size(data.len() as u64);
        set_raw_name(&mut header, path);
        assert!(link.len() <= 100, "tar link name too long: {link}");
        let old = header.as_old_mut();
        old.linkname = [0; 100];
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        header.set_cksum();
        self.buf.extend_from_slice(header.as_bytes());
        self.buf.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.buf.resize(self.buf.len() + pad, 0);
        self
    }

    /// The archive with its two zero end-of-archive blocks.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.resize(self.buf.len() + 1024, 0);
        self.buf
    }

    /// The archive without end-of-archive blocks (as umoci 0.4.7 writes them).
    pub fn finish_truncated(self) -> Vec<u8> {
        self.buf
    }
}

/// Writes `path` into the ustar name (100 bytes) and prefix (155 bytes) fields, byte for byte.
fn set_raw_name(header: &mut Header, path: &str) {
    let bytes = path.as_bytes();
    let ustar = header.as_ustar_mut().expect("ustar header");
    ustar.name = [0; 100];
    ustar.prefix = [0; 155];
    if bytes.len() <= 100 {
        ustar.name[..bytes.len()].copy_from_slice(bytes);
        return;
    }
    // Split at a '/' so that the prefix and the rest both fit.
    let split = (0..bytes.len())
        .rev()
        .find(|&i| bytes[i] == b'/' && i <= 155 && bytes.len() - i - 1 <= 100)
        .unwrap_or_else(|| panic!("tar name too long for ustar: {path}"));
    ustar.prefix[..split].copy_from_slice(&bytes[..split]);
    ustar.name[..bytes.len() - split - 1].copy_from_slice(&bytes[split + 1..]);
}

/// gzip with a fixed header (mtime 0), so the same tar always gives the same blob.
pub fn gzip(data: &[u8], level: flate2::Compression) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::with_capacity(data.len() / 2 + 1024), level);
    enc.write_all(data).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

/// Inflates a gzip blob (for checks in tests).
pub fn gunzip(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}
