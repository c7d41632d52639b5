//! Extraction of tar entries into the staging directory, one entry at a time, in overlay form.

use std::ffi::{OsStr, OsString};
use std::fmt::Display;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{
    fchmod, fchmodat, futimens, makedev, mknodat, utimensat, FchmodatFlags, Mode, SFlag,
    UtimensatFlags,
};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, fchownat, linkat, symlinkat, Gid, Uid};
use tar::EntryType;

use super::fsops::{self, kind, lstat_at};
use crate::engine::error::{EngineError, Result};

/// The overlayfs opaque-directory marker.
const OPAQUE: &[u8] = b".wh..wh..opq";
/// Prefix of AUFS metadata names (`.wh..wh.plnk`, `.wh..wh.aufs`, `.wh..wh.orph`).
const WH_META: &[u8] = b".wh..wh.";
/// Prefix of a whiteout.
const WH: &[u8] = b".wh.";

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

/// `a/b/c` for showing a path made of components.
fn shown(comps: &[OsString]) -> String {
    let parts: Vec<_> = comps.iter().map(|c| c.to_string_lossy()).collect();
    parts.join("/")
}

/// Splits a tar name into components: leading `/`, empty and `.` parts dropped, `..` resolved
/// lexically. Climbing above the layer root is refused.
fn clean(raw: &[u8]) -> std::result::Result<Vec<OsString>, String> {
    if raw.contains(&0) {
        return Err("the name contains a NUL byte".into());
    }
    let mut out: Vec<OsString> = Vec::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if out.pop().is_none() {
                    return Err("the name climbs out of the layer with `..`".into());
                }
            }
            _ => out.push(OsStr::from_bytes(part).to_os_string()),
        }
    }
    Ok(out)
}

/// What an entry's name asks for, whiteouts decided.
enum Role<'a> {
    Normal,
    /// `.wh..wh..opq`: the containing directory hides the layers below it.
    Opaque,
    /// `.wh.NAME`: NAME is deleted from the layers below.
    Whiteout(&'a OsStr),
    /// AUFS metadata. The OCI image spec reserves names starting with `.wh.` for whiteouts, so a
    /// `.wh..wh.X` entry would whiteout a name that cannot exist; these are the AUFS driver's
    /// hard-link and bookkeeping directories that old Docker layers carry. Skipping them (as
    /// docker and containerd do) keeps such images pullable and loses nothing.
    Skip,
}

fn role(comps: &[OsString]) -> std::result::Result<Role<'_>, String> {
    let Some((last, parents)) = comps.split_last() else {
        return Ok(Role::Normal);
    };
    for p in parents {
        let p = p.as_bytes();
        if p.starts_with(WH_META) {
            return Ok(Role::Skip);
        }
        if p.starts_with(WH) {
            return Err(format!(
                "parent {:?} is a whiteout name, and a whiteout cannot have children",
                String::from_utf8_lossy(p)
            ));
        }
    }
    let l = last.as_bytes();
    if l == OPAQUE {
        Ok(Role::Opaque)
    } else if l.starts_with(WH_META) {
        Ok(Role::Skip)
    } else if let Some(target) = l.strip_prefix(WH) {
        if target.is_empty() || target == b"." || target == b".." {
            return Err(format!(
                "malformed whiteout {:?}: it must name a file in its directory",
                last.to_string_lossy()
            ));
        }
        Ok(Role::Whiteout(OsStr::from_bytes(target)))
    } else {
        Ok(Role::Normal)
    }
}

/// Ownership, mode, times and xattrs of an entry.
struct Meta {
    uid: u32,
    gid: u32,
    mode: u32,
    atime: TimeSpec,
    mtime: TimeSpec,
    xattrs: Vec<(OsString, Vec<u8>)>,
}

impl Meta {
    fn read<R: Read>(entry: &mut tar::Entry<'_, R>) -> std::result::Result<Meta, String> {
        let h = entry.header();
        let uid = h.uid().map_err(|e| format!("bad uid field: {e}"))?;
        let gid = h.gid().map_err(|e| format!("bad gid field: {e}"))?;
        let uid = u32::try_from(uid).map_err(|_| format!("uid {uid} is out of range"))?;
        let gid = u32::try_from(gid).map_err(|_| format!("gid {gid} is out of range"))?;
        let mode = h.mode().map_err(|e| format!("bad mode field: {e}"))? & 0o7777;
        let secs = h.mtime().map_err(|e| format!("bad mtime field: {e}"))?;
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

/// overlayfs reads its own `trusted.overlay.*` (with `userxattr`, `user.overlay.*`) attributes
/// from lower layers: `redirect`, `metacopy`, `origin` (a raw file handle) and more. A layer that
/// carried them could steer overlayfs to other files or inodes, so they are dropped; only
/// `opaque`, which means the same as `.wh..wh..opq`, is kept.
fn keep_xattr(name: &[u8]) -> bool {
    for prefix in [&b"trusted.overlay."[..], &b"user.overlay."[..]] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest == b"opaque";
        }
    }
    true
}

/// Parses a PAX time `SECONDS[.FRACTION]` (possibly negative).
fn pax_time(v: &[u8]) -> Option<TimeSpec> {
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
        Some(TimeSpec::new(secs - 1, 1_000_000_000 - nanos))
    } else {
        Some(TimeSpec::new(secs, nanos))
    }
}

/// A directory reached by a safe walk: the staging root itself or a descriptor below it.
struct DirFd<'r> {
    root: &'r OwnedFd,
    owned: Option<OwnedFd>,
}

impl DirFd<'_> {
    fn raw(&self) -> RawFd {
        self.owned.as_ref().unwrap_or(self.root).as_raw_fd()
    }

    /// The directory as a `File`, for fd-based metadata calls.
    fn into_file(self, entry: &str) -> Result<File> {
        match self.owned {
            Some(fd) => Ok(File::from(fd)),
            None => self
                .root
                .try_clone()
                .map(File::from)
                .map_err(|e| EngineError::io(format!("entry {entry:?}: duplicating fd"), e)),
        }
    }
}

/// Walks `comps` from the root without following symlinks. With `create`, missing directories
/// are made (0755, as docker does for parents a layer does not list); without, a missing one is
/// refused, its message prefixed with `what` (e.g. which hard link target).
fn walk<'r>(
    root: &'r OwnedFd,
    comps: &[OsString],
    create: bool,
    entry: &str,
    what: &str,
) -> Result<DirFd<'r>> {
    let mut dir = DirFd { root, owned: None };
    for (i, c) in comps.iter().enumerate() {
        let at = dir.raw();
        let here = || shown(&comps[..=i]);
        let next = match fsops::open_dir_at(at, c) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if create => {
                match fsops::mkdir_at(at, c, 0o755) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(sys(entry, format_args!("creating {}", here()), e)),
                }
                fsops::open_dir_at(at, c)
                    .map_err(|e| sys(entry, format_args!("opening {}", here()), e))?
            }
            Err(Errno::ENOENT) => {
                return Err(refuse(
                    entry,
                    format_args!("{what}{} does not exist in the layer", here()),
                ))
            }
            Err(Errno::ELOOP | Errno::ENOTDIR) => {
                let is_link =
                    matches!(lstat_at(at, c), Ok(Some(st)) if kind(&st) == SFlag::S_IFLNK);
                let kind = if is_link {
                    "is a symlink, and writing through a symlink is refused"
                } else {
                    "is not a directory"
                };
                return Err(refuse(
                    entry,
                    format_args!("{what}parent {} {kind}", here()),
                ));
            }
            Err(e) => return Err(sys(entry, format_args!("opening {}", here()), e)),
        };
        dir.owned = Some(next);
    }
    Ok(dir)
}

/// Clears `name` in `dir` for a new entry: an existing directory stays when the entry is a
/// directory too (tars list directories more than once); anything else is removed, never followed.
/// Returns whether a directory was kept.
fn make_room(dir: RawFd, name: &OsStr, keep_dir: bool, entry: &str) -> Result<bool> {
    match lstat_at(dir, name).map_err(|e| sys(entry, "inspecting the existing path", e))? {
        None => Ok(false),
        Some(st) if keep_dir && kind(&st) == SFlag::S_IFDIR => Ok(true),
        Some(_) => {
            fsops::remove_at(dir, name)
                .map_err(|e| sys(entry, "replacing the existing path", e))?;
            Ok(false)
        }
    }
}

/// Extracts entries below one root descriptor.
pub(super) struct Extractor {
    root: OwnedFd,
    /// Directory times, applied once everything is written (writing a child changes them).
    dir_times: Vec<(Vec<OsString>, TimeSpec, TimeSpec)>,
    buf: Vec<u8>,
}

impl Extractor {
    pub(super) fn new(root: OwnedFd) -> Extractor {
        Extractor {
            root,
            dir_times: Vec::new(),
            buf: vec![0; 128 * 1024],
        }
    }

    /// Extracts every entry of `archive`, then sets the directories' times.
    pub(super) fn extract_all<R: Read>(&mut self, archive: &mut tar::Archive<R>) -> Result<()> {
        let bad = |e: io::Error| EngineError::Layer(format!("reading the archive: {e}"));
        for entry in archive.entries().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            self.entry(&mut entry)?;
        }
        self.apply_dir_times();
        Ok(())
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        let ty = entry.header().entry_type();
        if ty.is_pax_global_extensions() {
            return Ok(());
        }
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let comps = clean(&raw).map_err(|m| refuse(&name, m))?;
        let meta = Meta::read(entry).map_err(|m| refuse(&name, m))?;
        match role(&comps).map_err(|m| refuse(&name, m))? {
            Role::Skip => return Ok(()),
            Role::Opaque => return self.opaque(&comps[..comps.len() - 1], &name),
            Role::Whiteout(target) => return self.whiteout(&comps, target, &meta, &name),
            Role::Normal => {}
        }
        if ty.is_dir() {
            return self.directory(&comps, &meta, &name);
        }
        let Some((last, parents)) = comps.split_last() else {
            return Err(refuse(&name, "only a directory can name the layer root"));
        };
        match ty {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.file(entry, parents, last, &meta, &name)
            }
            EntryType::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                if target.is_empty() {
                    return Err(refuse(&name, "symlink without a target"));
                }
                let dir = walk(&self.root, parents, true, &name, "")?;
                make_room(dir.raw(), last, false, &name)?;
                symlinkat(
                    OsStr::from_bytes(&target),
                    Some(dir.raw()),
                    last.as_os_str(),
                )
                .map_err(|e| sys(&name, "creating symlink", e))?;
                apply_at(dir.raw(), last, &meta, false, &name)
            }
            EntryType::Link => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                self.hard_link(&comps, &target, &name)
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let h = entry.header();
                let (kind, dev) = if ty == EntryType::Fifo {
                    (SFlag::S_IFIFO, 0)
                } else {
                    let num = |v: io::Result<Option<u32>>| v.ok().flatten();
                    let (Some(major), Some(minor)) = (num(h.device_major()), num(h.device_minor()))
                    else {
                        return Err(refuse(&name, "device entry without valid device numbers"));
                    };
                    let kind = if ty == EntryType::Char {
                        SFlag::S_IFCHR
                    } else {
                        SFlag::S_IFBLK
                    };
                    (kind, makedev(major.into(), minor.into()))
                };
                let dir = walk(&self.root, parents, true, &name, "")?;
                make_room(dir.raw(), last, false, &name)?;
                mknodat(Some(dir.raw()), last.as_os_str(), kind, Mode::empty(), dev)
                    .map_err(|e| sys(&name, "creating device node or fifo", e))?;
                apply_at(dir.raw(), last, &meta, true, &name)
            }
            other => Err(refuse(
                &name,
                format_args!("unsupported entry type {other:?}"),
            )),
        }
    }

    fn file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        parents: &[OsString],
        last: &OsStr,
        meta: &Meta,
        name: &str,
    ) -> Result<()> {
        let dir = walk(&self.root, parents, true, name, "")?;
        make_room(dir.raw(), last, false, name)?;
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = openat(
            Some(dir.raw()),
            last,
            flags,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| sys(name, "creating file", e))?;
        // SAFETY: `openat` just returned this descriptor and nothing else owns it.
        let mut file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        loop {
            let n = match entry.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(refuse(name, format_args!("reading its data: {e}"))),
            };
            file.write_all(&self.buf[..n])
                .map_err(|e| EngineError::io(format!("entry {name:?}: writing"), e))?;
        }
        apply_fd(&file, meta, name)?;
        futimens(file.as_raw_fd(), &meta.atime, &meta.mtime)
            .map_err(|e| sys(name, "setting times", e))
    }

    fn directory(&mut self, comps: &[OsString], meta: &Meta, name: &str) -> Result<()> {
        let dir = match comps.split_last() {
            None => DirFd {
                root: &self.root,
                owned: None,
            },
            Some((last, parents)) => {
                let parent = walk(&self.root, parents, true, name, "")?;
                if !make_room(parent.raw(), last, true, name)? {
                    fsops::mkdir_at(parent.raw(), last, 0o700)
                        .map_err(|e| sys(name, "creating directory", e))?;
                }
                let fd = fsops::open_dir_at(parent.raw(), last)
                    .map_err(|e| sys(name, "opening directory", e))?;
                DirFd {
                    root: &self.root,
                    owned: Some(fd),
                }
            }
        };
        apply_fd(&dir.into_file(name)?, meta, name)?;
        self.dir_times
            .push((comps.to_vec(), meta.atime, meta.mtime));
        Ok(())
    }

    fn hard_link(&mut self, comps: &[OsString], target: &[u8], name: &str) -> Result<()> {
        let shown_target = String::from_utf8_lossy(target);
        let tcomps = clean(target)
            .map_err(|m| refuse(name, format_args!("hard link target {shown_target:?}: {m}")))?;
        let Some((tlast, tparents)) = tcomps.split_last() else {
            return Err(refuse(name, "hard link to the layer root"));
        };
        let Some((last, parents)) = comps.split_last() else {
            return Err(refuse(name, "hard link naming the layer root"));
        };
        if tcomps == comps {
            return Ok(());
        }
        let target_what = format!("hard link target {shown_target:?}: ");
        let tdir = walk(&self.root, tparents, false, name, &target_what)?;
        match lstat_at(tdir.raw(), tlast).map_err(|e| sys(name, "inspecting link target", e))? {
            None => {
                return Err(refuse(
                    name,
                    format_args!("hard link target {shown_target:?} does not exist in the layer"),
                ))
            }
            Some(st) if kind(&st) == SFlag::S_IFDIR => {
                return Err(refuse(
                    name,
                    format_args!("hard link target {shown_target:?} is a directory"),
                ))
            }
            Some(_) => {}
        }
        let dir = walk(&self.root, parents, true, name, "")?;
        make_room(dir.raw(), last, false, name)?;
        // Flags 0: a symlink target is linked itself, never followed.
        linkat(
            Some(tdir.raw()),
            tlast.as_os_str(),
            Some(dir.raw()),
            last.as_os_str(),
            AtFlags::empty(),
        )
        .map_err(|e| match e {
            Errno::ENOENT => refuse(
                name,
                format_args!("hard link target {shown_target:?} vanished while linking"),
            ),
            e => sys(name, format_args!("linking to {shown_target:?}"), e),
        })
    }

    /// `.wh.NAME` → a 0/0 character device NAME, overlayfs's whiteout.
    fn whiteout(
        &mut self,
        comps: &[OsString],
        target: &OsStr,
        meta: &Meta,
        name: &str,
    ) -> Result<()> {
        let dir = walk(&self.root, &comps[..comps.len() - 1], true, name, "")?;
        make_room(dir.raw(), target, false, name)?;
        mknodat(
            Some(dir.raw()),
            target,
            SFlag::S_IFCHR,
            Mode::empty(),
            makedev(0, 0),
        )
        .map_err(|e| sys(name, "creating whiteout device", e))?;
        fchownat(
            Some(dir.raw()),
            target,
            Some(Uid::from_raw(meta.uid)),
            Some(Gid::from_raw(meta.gid)),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|e| sys(name, "setting whiteout owner", e))
    }

    /// `.wh..wh..opq` → `trusted.overlay.opaque=y` on the containing directory.
    fn opaque(&mut self, dir_comps: &[OsString], name: &str) -> Result<()> {
        let dir = walk(&self.root, dir_comps, true, name, "")?.into_file(name)?;
        set_xattr(&dir, OsStr::new("trusted.overlay.opaque"), b"y", name)
    }

    /// Sets every directory's recorded times, in archive order so the last listing wins. A
    /// directory a later entry replaced is skipped.
    fn apply_dir_times(&mut self) {
        for (comps, atime, mtime) in &self.dir_times {
            let result = match comps.split_last() {
                None => futimens(self.root.as_raw_fd(), atime, mtime),
                Some((last, parents)) => match walk(&self.root, parents, false, "", "") {
                    Ok(dir) => match lstat_at(dir.raw(), last) {
                        Ok(Some(st)) if kind(&st) == SFlag::S_IFDIR => utimensat(
                            Some(dir.raw()),
                            last.as_os_str(),
                            atime,
                            mtime,
                            UtimensatFlags::NoFollowSymlink,
                        ),
                        _ => Ok(()),
                    },
                    Err(_) => Ok(()),
                },
            };
            if let Err(e) = result {
                tracing::warn!(path = %shown(comps), error = %e, "could not set directory times");
            }
        }
    }
}

/// Owner, then mode (chown clears setuid), then xattrs (chown clears file capabilities).
fn apply_fd(file: &File, meta: &Meta, name: &str) -> Result<()> {
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

/// Metadata for entries that cannot be opened (symlinks, devices, fifos), by name in `dir`.
fn apply_at(dir: RawFd, last: &OsStr, meta: &Meta, chmod: bool, name: &str) -> Result<()> {
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
    if !meta.xattrs.is_empty() {
        let path = fsops::proc_path(dir, last);
        for (key, value) in &meta.xattrs {
            if let Err(e) = xattr::set(&path, key, value) {
                xattr_failed(key, e, name)?;
            }
        }
    }
    utimensat(
        Some(dir),
        last,
        &meta.atime,
        &meta.mtime,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(|e| sys(name, "setting times", e))
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
fn xattr_failed(key: &OsStr, e: io::Error, name: &str) -> Result<()> {
    if e.raw_os_error() == Some(libc::EOPNOTSUPP) {
        tracing::warn!(entry = name, xattr = ?key, "filesystem does not support this xattr; skipped");
        return Ok(());
    }
    Err(EngineError::io(
        format!("entry {name:?}: setting xattr {}", key.to_string_lossy()),
        e,
    ))
}
