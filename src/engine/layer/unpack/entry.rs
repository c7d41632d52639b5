//! Extraction of tar entries into the staging directory, one entry at a time, in overlay form.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, futimens, makedev, mknodat, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchownat, linkat, symlinkat, Gid, Uid};
use tar::EntryType;

use super::fsops::{self, kind, lstat_at};
use super::meta::{apply_at, apply_fd, Meta};
use super::names::{clean, role, shown, Role};
use super::{refuse, sys};
use crate::engine::error::{EngineError, Result};

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
                let fd = fsops::open_dir_at(at, c)
                    .map_err(|e| sys(entry, format_args!("opening {}", here()), e))?;
                // Exactly 0755 whatever the process umask is.
                fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(0o755))
                    .map_err(|e| sys(entry, format_args!("setting mode of {}", here()), e))?;
                fd
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
    /// Layer semantics: `.wh.` names are whiteouts and opaque markers. Off for plain archives
    /// (`cp`, ADD, build contexts), where such a name is an ordinary file.
    layer: bool,
    /// Directory times, applied once everything is written (writing a child changes them).
    dir_times: Vec<(Vec<OsString>, TimeSpec, TimeSpec)>,
    buf: Vec<u8>,
}

impl Extractor {
    pub(super) fn new(root: OwnedFd, layer: bool) -> Extractor {
        Extractor {
            root,
            layer,
            dir_times: Vec::new(),
            buf: vec![0; 128 * 1024],
        }
    }

    /// Extracts every entry of `archive`, then sets the directories' times.
    pub(super) fn extract_all<R: Read>(&mut self, archive: &mut tar::Archive<R>) -> Result<()> {
        let mut last = String::new();
        let bad = |e: io::Error, last: &str| {
            let at = if last.is_empty() {
                "at its start".to_string()
            } else {
                format!("after entry {last:?}")
            };
            EngineError::Layer(format!("the archive is malformed {at}: {e}"))
        };
        for entry in archive.entries().map_err(|e| bad(e, &last))? {
            let mut entry = entry.map_err(|e| bad(e, &last))?;
            self.entry(&mut entry)?;
            last = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
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
        let role = if self.layer {
            role(&comps).map_err(|m| refuse(&name, m))?
        } else {
            Role::Normal
        };
        match role {
            Role::Skip => return Ok(()),
            Role::Opaque => return self.opaque(&comps[..comps.len() - 1], &name),
            Role::Whiteout(target) => return self.whiteout(&comps, target, &meta, &name),
            Role::Normal => {}
        }
        // Pre-POSIX archives (type flag NUL) mark directories only by a trailing slash.
        let old_style_dir = entry.header().as_old().linkflag[0] == 0 && raw.ends_with(b"/");
        if ty.is_dir() || old_style_dir {
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
                if target.is_empty() || target.contains(&0) {
                    return Err(refuse(&name, "symlink without a valid target"));
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

    /// `.wh.NAME` → a 0/0 character device NAME, overlayfs's whiteout. The OCI spec says a
    /// whiteout hides only lower layers, but overlay form cannot hold both a whiteout and a file
    /// of the same name, so, as for any two entries of one name, the later one wins.
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
        use xattr::FileExt;
        let dir = walk(&self.root, dir_comps, true, name, "")?.into_file(name)?;
        // Unlike a layer's own xattrs this one cannot be skipped: without it the directory would
        // show the lower layers' content.
        dir.set_xattr("trusted.overlay.opaque", b"y").map_err(|e| {
            EngineError::io(
                format!(
                    "entry {name:?}: marking the directory opaque (the layer store needs a \
                     filesystem with trusted xattrs, e.g. ext4 or xfs, and root)"
                ),
                e,
            )
        })
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
