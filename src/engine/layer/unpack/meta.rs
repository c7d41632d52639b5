//! Entry metadata: reading ownership, mode, times and xattrs from the tar header and its PAX
//! records, and applying them without following symlinks.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::fcntl::AtFlags;
use nix::sys::stat::{fchmod, fchmodat, utimensat, FchmodatFlags, Mode, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, fchownat, Gid, Uid};

use super::dirs::{Creator, Inherit};
use super::{fsops, sys};
use crate::engine::error::{EngineError, Result};

/// Ownership, mode, times and xattrs of an entry.
pub(super) struct Meta {
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) mode: u32,
    pub(super) atime: TimeSpec,
    pub(super) mtime: TimeSpec,
    pub(super) xattrs: Vec<(OsString, Vec<u8>)>,
}

impl Meta {
    pub(super) fn read<R: Read>(
        entry: &mut tar::Entry<'_, R>,
    ) -> std::result::Result<Meta, String> {
        let h = entry.header();
        let old = h.as_old();
        let uid = field(h.uid(), &old.uid, "uid")?;
        let gid = field(h.gid(), &old.gid, "gid")?;
        let uid = u32::try_from(uid).map_err(|_| format!("uid {uid} is out of range"))?;
        let gid = u32::try_from(gid).map_err(|_| format!("gid {gid} is out of range"))?;
        let mode = field(h.mode().map(u64::from), &old.mode, "mode")? as u32 & 0o7777;
        let secs = field(h.mtime(), &old.mtime, "mtime")?;
        let secs = i64::try_from(secs).map_err(|_| format!("mtime {secs} is out of range"))?;
        let mut mtime = TimeSpec::new(secs, 0);
        let mut atime = None;
        let mut xattrs = Vec::new();
        if let Some(exts) = entry
            .pax_extensions()
            .map_err(|e| format!("bad PAX header: {e}"))?
        {
            for ext in exts {
                let ext = ext.map_err(|e| format!("bad PAX record: {e}"))?;
                let key = ext.key_bytes();
                if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                    if name.is_empty() {
                        return Err("PAX xattr record without a name".into());
                    }
                    if keep_xattr(name) {
                        let name = OsStr::from_bytes(name).to_os_string();
                        xattrs.push((name, ext.value_bytes().to_vec()));
                    }
                } else if key == b"mtime" {
                    mtime = pax_time(ext.value_bytes()).unwrap_or(mtime);
                } else if key == b"atime" {
                    atime = pax_time(ext.value_bytes());
                } else if key.starts_with(b"GNU.sparse.") {
                    return Err("PAX-format sparse files (GNU.sparse.*) are not supported".into());
                }
            }
        }
        Ok(Meta {
            uid,
            gid,
            mode,
            atime: atime.unwrap_or(mtime),
            mtime,
            xattrs,
        })
    }
}

/// A numeric header field. An empty one (all NUL or spaces) reads as 0, as in Go's archive/tar,
/// which wrote most layers in the wild.
fn field(value: io::Result<u64>, raw: &[u8], what: &str) -> std::result::Result<u64, String> {
    match value {
        Ok(v) => Ok(v),
        Err(_) if raw.iter().all(|b| *b == 0 || *b == b' ') => Ok(0),
        Err(e) => Err(format!("bad {what} field: {e}")),
    }
}

/// overlayfs reads its own `trusted.overlay.*` (with `userxattr`, `user.overlay.*`) attributes
/// from lower layers: `redirect`, `metacopy`, `origin` (a raw file handle) and more. A layer that
/// carried them could steer overlayfs to other files or inodes, so they are dropped; only
/// `opaque`, which means the same as `.wh..wh..opq`, is kept.
pub(super) fn keep_xattr(name: &[u8]) -> bool {
    for prefix in [&b"trusted.overlay."[..], &b"user.overlay."[..]] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest == b"opaque";
        }
    }
    true
}

/// Parses a PAX time `SECONDS[.FRACTION]` (possibly negative).
pub(super) fn pax_time(v: &[u8]) -> Option<TimeSpec> {
    let s = std::str::from_utf8(v).ok()?;
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let negative = whole.starts_with('-');
    let secs: i64 = whole.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = &frac[..frac.len().min(9)];
    let mut nanos: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    nanos *= 10i64.pow(9 - digits.len() as u32);
    if negative && nanos > 0 {
        // The fraction borrows a second, which the smallest i64 does not have: such a time is
        // ignored like any other unparsable one.
        Some(TimeSpec::new(secs.checked_sub(1)?, 1_000_000_000 - nanos))
    } else {
        Some(TimeSpec::new(secs, nanos))
    }
}
/// Owner, then mode (chown clears setuid), then xattrs (chown clears file capabilities).
pub(super) fn apply_fd(file: &File, meta: &Meta, name: &str) -> Result<()> {
    let fd = file.as_raw_fd();
    fchown(
        fd,
        Some(Uid::from_raw(meta.uid)),
        Some(Gid::from_raw(meta.gid)),
    )
    .map_err(|e| sys(name, "setting owner", e))?;
    fchmod(fd, Mode::from_bits_truncate(meta.mode)).map_err(|e| sys(name, "setting mode", e))?;
    for (key, value) in &meta.xattrs {
        set_xattr(file, key, value, name)?;
    }
    Ok(())
}

/// Whether an entry this extraction just created, in a directory whose children get `inherit`,
/// needs a chown (it is owned by the creator and the directory's group) and a chmod (it was
/// created with `mode & 0o777` less the umask, unless the directory changes that).
fn needed(meta: &Meta, inherit: &Inherit, creator: &Creator) -> (bool, bool) {
    let chown = meta.uid != creator.euid || meta.gid != inherit.gid;
    let chmod =
        meta.mode & 0o7000 != 0 || !inherit.plain_mode || meta.mode & creator.umask & 0o777 != 0;
    (chown, chmod)
}

/// [`apply_fd`] for an entry just created: only the calls that change something.
pub(super) fn apply_new_fd(
    file: &File,
    meta: &Meta,
    inherit: &Inherit,
    creator: &Creator,
    name: &str,
) -> Result<()> {
    let fd = file.as_raw_fd();
    let (chown, chmod) = needed(meta, inherit, creator);
    if chown {
        fchown(
            fd,
            Some(Uid::from_raw(meta.uid)),
            Some(Gid::from_raw(meta.gid)),
        )
        .map_err(|e| sys(name, "setting owner", e))?;
    }
    if chmod {
        fchmod(fd, Mode::from_bits_truncate(meta.mode))
            .map_err(|e| sys(name, "setting mode", e))?;
    }
    for (key, value) in &meta.xattrs {
        set_xattr(file, key, value, name)?;
    }
    Ok(())
}

/// [`apply_at`] for a symlink just created: owner only when it differs, xattrs, times.
pub(super) fn apply_new_at(
    dir: RawFd,
    last: &OsStr,
    meta: &Meta,
    inherit: &Inherit,
    creator: &Creator,
    name: &str,
) -> Result<()> {
    if needed(meta, inherit, creator).0 {
        return apply_at(dir, last, meta, false, name);
    }
    xattrs_and_times_at(dir, last, meta, name)
}

/// The xattrs, then the times (last, so nothing after them moves the mtime), of `last` in
/// `dir`, without following it.
fn xattrs_and_times_at(dir: RawFd, last: &OsStr, meta: &Meta, name: &str) -> Result<()> {
    set_xattrs_at(dir, last, meta, name)?;
    utimensat(
        Some(dir),
        last,
        &meta.atime,
        &meta.mtime,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(|e| sys(name, "setting times", e))
}

/// Metadata for entries that cannot be opened (symlinks, devices, fifos), by name in `dir`.
pub(super) fn apply_at(
    dir: RawFd,
    last: &OsStr,
    meta: &Meta,
    chmod: bool,
    name: &str,
) -> Result<()> {
    let (uid, gid) = (Uid::from_raw(meta.uid), Gid::from_raw(meta.gid));
    fchownat(
        Some(dir),
        last,
        Some(uid),
        Some(gid),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(|e| sys(name, "setting owner", e))?;
    if chmod {
        let mode = Mode::from_bits_truncate(meta.mode);
        fchmodat(Some(dir), last, mode, FchmodatFlags::NoFollowSymlink)
            .map_err(|e| sys(name, "setting mode", e))?;
    }
    xattrs_and_times_at(dir, last, meta, name)
}

/// The xattrs of `meta` on `last` in `dir`, without following it.
fn set_xattrs_at(dir: RawFd, last: &OsStr, meta: &Meta, name: &str) -> Result<()> {
    if meta.xattrs.is_empty() {
        return Ok(());
    }
    let path = fsops::proc_path(dir, last);
    for (key, value) in &meta.xattrs {
        if let Err(e) = xattr::set(&path, key, value) {
            xattr_failed(key, e, name)?;
        }
    }
    Ok(())
}

fn set_xattr(file: &File, key: &OsStr, value: &[u8], name: &str) -> Result<()> {
    use xattr::FileExt;
    match file.set_xattr(key, value) {
        Ok(()) => Ok(()),
        Err(e) => xattr_failed(key, e, name),
    }
}

/// A filesystem without support for an xattr namespace loses that xattr with a warning (as
/// containerd does); any other failure is an error.
pub(super) fn xattr_failed(key: &OsStr, e: io::Error, name: &str) -> Result<()> {
    if e.raw_os_error() == Some(libc::EOPNOTSUPP) {
        tracing::warn!(entry = name, xattr = ?key, "filesystem does not support this xattr; skipped");
        return Ok(());
    }
    Err(EngineError::io(
        format!("entry {name:?}: setting xattr {}", key.to_string_lossy()),
        e,
    ))
}
