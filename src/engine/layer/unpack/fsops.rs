//! Directory-fd primitives for layer extraction. Every call names one path component relative to a
//! directory file descriptor that extraction opened itself, and none of them follows a symlink, so
//! nothing the archive puts on disk can redirect a later write outside the layer directory.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

/// Opens the directory `name` inside `parent` for reading, refusing to follow a symlink (ELOOP or
/// ENOTDIR then) and refusing anything that is not a directory (ENOTDIR).
pub(in crate::engine::layer) fn open_dir_at(parent: RawFd, name: &OsStr) -> nix::Result<OwnedFd> {
    let fd = openat(
        Some(parent),
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    // SAFETY: `openat` just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens `path` (the layer's staging directory) itself, without following a symlink.
pub(in crate::engine::layer) fn open_root(path: &std::path::Path) -> nix::Result<OwnedFd> {
    let fd = nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    // SAFETY: `open` just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `lstat` of `name` inside `parent`; `None` if it does not exist.
pub(in crate::engine::layer) fn lstat_at(
    parent: RawFd,
    name: &OsStr,
) -> nix::Result<Option<FileStat>> {
    match fstatat(Some(parent), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The file type bits of a stat result.
pub(in crate::engine::layer) fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// Removes `name` inside `parent`: a directory with everything below it, anything else by unlink.
/// Symlinks are removed, never followed.
pub(super) fn remove_at(parent: RawFd, name: &OsStr) -> nix::Result<()> {
    let Some(st) = lstat_at(parent, name)? else {
        return Ok(());
    };
    if kind(&st) != SFlag::S_IFDIR {
        return unlinkat(Some(parent), name, UnlinkatFlags::NoRemoveDir);
    }
    let mut dir = Dir::openat(
        Some(parent),
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut children: Vec<OsString> = Vec::new();
    for item in dir.iter() {
        let item = item?;
        let child = OsStr::from_bytes(item.file_name().to_bytes());
        if child != "." && child != ".." {
            children.push(child.to_os_string());
        }
    }
    for child in &children {
        remove_at(dir.as_raw_fd(), child)?;
    }
    unlinkat(Some(parent), name, UnlinkatFlags::RemoveDir)
}

/// Creates directory `name` inside `parent` with `mode`.
pub(super) fn mkdir_at(parent: RawFd, name: &OsStr, mode: u32) -> nix::Result<()> {
    mkdirat(Some(parent), name, Mode::from_bits_truncate(mode))
}

/// A path through `/proc/self/fd` that names `name` inside the directory `parent` without any
/// symlink between them, for calls that only take paths (lsetxattr on symlinks, fifos, devices).
pub(super) fn proc_path(parent: RawFd, name: &OsStr) -> PathBuf {
    let mut p = PathBuf::from(format!("/proc/self/fd/{parent}"));
    p.push(name);
    p
}
