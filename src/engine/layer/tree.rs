//! A deterministic, no-follow walk of a layer directory in overlay form (a container's `upper/`
//! or a staging directory): what the layer writer and the diff read.
//!
//! Every entry is reached from a directory descriptor by one `openat`/`fstatat` of one name with
//! `O_NOFOLLOW`/`AT_SYMLINK_NOFOLLOW`, so a symlink a container planted is read as a symlink and
//! never followed. Children are visited in byte order of their names, a directory before its
//! children. A character device 0:0 is an overlay whiteout; a directory whose
//! `trusted.overlay.opaque` is `y` is opaque. overlayfs's own `trusted.overlay.*`/`user.overlay.*`
//! attributes are not reported as the entry's xattrs.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::{fstat, FileStat, Mode, SFlag};

use super::unpack::fsops::{kind, lstat_at, open_dir_at, open_root};
use crate::engine::error::{EngineError, Result};

/// What an entry is.
#[derive(Debug)]
pub enum NodeKind {
    /// A directory; `opaque` hides everything below it in lower layers.
    Dir { opaque: bool },
    /// A regular file, opened read-only (its size is `stat.st_size`).
    File(File),
    /// A symlink and its target.
    Symlink(OsString),
    /// A character device (not 0:0).
    Char,
    /// A block device.
    Block,
    /// A named pipe.
    Fifo,
    /// An overlay whiteout: the path is deleted.
    Whiteout,
}

/// One entry below the walked root.
#[derive(Debug)]
pub struct Node {
    /// Path relative to the root, components joined by `/`, no leading or trailing slash.
    pub path: Vec<u8>,
    /// `lstat` (for files, `fstat` of the opened file).
    pub stat: FileStat,
    /// What it is.
    pub kind: NodeKind,
    /// Extended attributes (overlayfs's own left out), sorted by name.
    pub xattrs: Vec<(OsString, Vec<u8>)>,
}

/// Whether an xattr belongs to overlayfs rather than to the file.
pub fn is_overlay_xattr(name: &[u8]) -> bool {
    name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.")
}

fn io_err(path: &[u8], what: &str, e: impl Into<std::io::Error>) -> EngineError {
    EngineError::io(
        format!("{what} {:?} in the layer", String::from_utf8_lossy(path)),
        e.into(),
    )
}

/// Walks `root` (not reported itself), calling `visit` for every entry. `skip` names relative
/// paths left out with everything below them. Sockets are left out (a tar cannot hold them).
pub fn walk(
    root: &Path,
    skip: &dyn Fn(&[u8]) -> bool,
    visit: &mut dyn FnMut(Node) -> Result<()>,
) -> Result<()> {
    let fd = open_root(root)
        .map_err(|e| EngineError::io_path("cannot open layer directory", root, e.into()))?;
    walk_dir(&fd, &mut Vec::new(), skip, visit)
}

fn children(dir: &OwnedFd, path: &[u8]) -> Result<Vec<OsString>> {
    let dup = nix::unistd::dup(dir.as_raw_fd()).map_err(|e| io_err(path, "cannot list", e))?;
    let mut d = Dir::from_fd(dup).map_err(|e| io_err(path, "cannot list", e))?;
    let mut names = Vec::new();
    for item in d.iter() {
        let item = item.map_err(|e| io_err(path, "cannot list", e))?;
        let name = OsStr::from_bytes(item.file_name().to_bytes());
        if name != "." && name != ".." {
            names.push(name.to_os_string());
        }
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

fn walk_dir(
    dir: &OwnedFd,
    prefix: &mut Vec<u8>,
    skip: &dyn Fn(&[u8]) -> bool,
    visit: &mut dyn FnMut(Node) -> Result<()>,
) -> Result<()> {
    for name in children(dir, prefix)? {
        let base = prefix.len();
        if base > 0 {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(name.as_bytes());
        if !skip(prefix) {
            visit_one(dir.as_raw_fd(), &name, prefix, skip, visit)?;
        }
        prefix.truncate(base);
    }
    Ok(())
}

fn visit_one(
    dir: RawFd,
    name: &OsStr,
    path: &mut Vec<u8>,
    skip: &dyn Fn(&[u8]) -> bool,
    visit: &mut dyn FnMut(Node) -> Result<()>,
) -> Result<()> {
    let Some(stat) = lstat_at(dir, name).map_err(|e| io_err(path, "cannot stat", e))? else {
        return Ok(()); // removed while we walked
    };
    let node = |stat, kind, xattrs| Node {
        path: path.clone(),
        stat,
        kind,
        xattrs,
    };
    match kind(&stat) {
        SFlag::S_IFDIR => {
            let fd = open_dir_at(dir, name).map_err(|e| io_err(path, "cannot open", e))?;
            let all = fd_xattrs(fd.as_raw_fd(), path)?;
            let opaque = all
                .iter()
                .any(|(k, v)| k.as_bytes() == b"trusted.overlay.opaque" && v == b"y");
            let xattrs = all
                .into_iter()
                .filter(|(k, _)| !is_overlay_xattr(k.as_bytes()))
                .collect();
            visit(node(stat, NodeKind::Dir { opaque }, xattrs))?;
            walk_dir(&fd, path, skip, visit)
        }
        SFlag::S_IFREG => {
            let raw = openat(
                Some(dir),
                name,
                OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
                Mode::empty(),
            )
            .map_err(|e| io_err(path, "cannot open", e))?;
            // SAFETY: `openat` just returned this descriptor and nothing else owns it.
            let file = File::from(unsafe { OwnedFd::from_raw_fd(raw) });
            let stat = fstat(file.as_raw_fd()).map_err(|e| io_err(path, "cannot stat", e))?;
            if kind(&stat) != SFlag::S_IFREG {
                return Err(io_err(path, "replaced while reading", Errno::EAGAIN));
            }
            let xattrs = clean(fd_xattrs(file.as_raw_fd(), path)?);
            visit(node(stat, NodeKind::File(file), xattrs))
        }
        SFlag::S_IFLNK => {
            let target = readlinkat(Some(dir), name).map_err(|e| io_err(path, "cannot read", e))?;
            let xattrs = clean(path_xattrs(dir, name, path)?);
            visit(node(stat, NodeKind::Symlink(target), xattrs))
        }
        SFlag::S_IFCHR if stat.st_rdev == 0 => visit(node(stat, NodeKind::Whiteout, vec![])),
        t @ (SFlag::S_IFCHR | SFlag::S_IFBLK | SFlag::S_IFIFO) => {
            let k = match t {
                SFlag::S_IFCHR => NodeKind::Char,
                SFlag::S_IFBLK => NodeKind::Block,
                _ => NodeKind::Fifo,
            };
            let xattrs = clean(path_xattrs(dir, name, path)?);
            visit(node(stat, k, xattrs))
        }
        _ => Ok(()), // sockets
    }
}

fn clean(all: Vec<(OsString, Vec<u8>)>) -> Vec<(OsString, Vec<u8>)> {
    all.into_iter()
        .filter(|(k, _)| !is_overlay_xattr(k.as_bytes()))
        .collect()
}

fn fd_xattrs(fd: RawFd, path: &[u8]) -> Result<Vec<(OsString, Vec<u8>)>> {
    // The descriptor's /proc path reaches the open file itself, never a path that could change.
    read_xattrs(Path::new(&format!("/proc/self/fd/{fd}")), true, path)
}

fn path_xattrs(dir: RawFd, name: &OsStr, path: &[u8]) -> Result<Vec<(OsString, Vec<u8>)>> {
    // The directory's descriptor pins the parent; the last component is read with the l*xattr
    // calls, which do not follow it.
    let mut p = std::path::PathBuf::from(format!("/proc/self/fd/{dir}"));
    p.push(name);
    read_xattrs(&p, false, path)
}

fn read_xattrs(p: &Path, follow: bool, path: &[u8]) -> Result<Vec<(OsString, Vec<u8>)>> {
    let names = if follow {
        xattr::list_deref(p)
    } else {
        xattr::list(p)
    };
    let names = match names {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => return Ok(vec![]),
        Err(e) => return Err(io_err(path, "cannot list xattrs of", e)),
    };
    let mut out = Vec::new();
    for key in names {
        let value = if follow {
            xattr::get_deref(p, &key)
        } else {
            xattr::get(p, &key)
        };
        match value {
            Ok(Some(v)) => out.push((key, v)),
            Ok(None) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENODATA) => {}
            Err(e) => return Err(io_err(path, "cannot read xattrs of", e)),
        }
    }
    out.sort();
    Ok(out)
}
