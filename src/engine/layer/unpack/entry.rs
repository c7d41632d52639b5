//! Extraction of tar entries into the staging directory, one entry at a time, in overlay form.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{futimens, makedev, mknodat, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::symlinkat;
use tar::EntryType;

use super::dirs::{Creator, DirCache, Inherit};
use super::fsops::{self, kind, lstat_at};
use super::meta::{apply_at, apply_fd, apply_new_at, apply_new_fd, Meta};
use super::names::{clean, role, shown, Role};
use super::pool::{self, Job, Pool, What};
use super::{refuse, sys};
use crate::engine::error::{EngineError, Result};

/// Clears `name` in `dir` for a new entry: an existing directory stays when the entry is a
/// directory too (tars list directories more than once); anything else is removed, never followed.
/// Returns whether a directory was kept.
pub(super) fn make_room(dir: RawFd, name: &OsStr, keep_dir: bool, entry: &str) -> Result<bool> {
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

/// Runs `create` (a call that fails with EEXIST when `name` is taken in `dir`); when taken,
/// clears `name` and runs it once more. Trying first saves a lookup for every new entry.
pub(super) fn fresh<T>(
    dir: RawFd,
    name: &OsStr,
    entry: &str,
    mut create: impl FnMut() -> nix::Result<T>,
) -> Result<nix::Result<T>> {
    match create() {
        Err(Errno::EEXIST) => {
            make_room(dir, name, false, entry)?;
            Ok(create())
        }
        other => Ok(other),
    }
}

/// Extracts entries below one root descriptor.
pub(super) struct Extractor {
    pub(super) dirs: DirCache,
    /// Layer semantics: `.wh.` names are whiteouts and opaque markers. Off for plain archives
    /// (`cp`, ADD, build contexts), where such a name is an ordinary file.
    layer: bool,
    /// Directory times, applied once everything is written (writing a child changes them).
    dir_times: Vec<(Vec<OsString>, TimeSpec, TimeSpec)>,
    buf: Vec<u8>,
    /// Whether files and symlinks are made by worker threads ([`super::pool`]).
    parallel: bool,
    pool: Option<Pool>,
}

impl Extractor {
    pub(super) fn new(root: OwnedFd, layer: bool) -> Extractor {
        Extractor {
            dirs: DirCache::new(root),
            layer,
            dir_times: Vec::new(),
            buf: vec![0; 128 * 1024],
            parallel: false,
            pool: None,
        }
    }

    /// Files and symlinks are created by worker threads while the archive is read.
    pub(super) fn parallel(mut self) -> Extractor {
        self.parallel = true;
        self
    }

    /// Extracts every entry of `archive`, then sets the directories' times.
    pub(super) fn extract_all<R: Read>(&mut self, archive: &mut tar::Archive<R>) -> Result<()> {
        if !self.parallel {
            self.extract_entries(archive)?;
            self.apply_dir_times();
            return Ok(());
        }
        std::thread::scope(|s| {
            self.pool = Some(Pool::start(s, pool::workers(), self.dirs.creator)?);
            let read = self.extract_entries(archive);
            // On an error the pool is dropped: its workers skip what is queued and end.
            let pool = self.pool.take();
            read?;
            pool.map_or(Ok(()), Pool::finish)?;
            self.apply_dir_times();
            Ok(())
        })
    }

    fn extract_entries<R: Read>(&mut self, archive: &mut tar::Archive<R>) -> Result<()> {
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
            last.clear();
            last.push_str(&String::from_utf8_lossy(&entry.path_bytes()));
        }
        Ok(())
    }

    /// With workers: waits for those in flight when this entry (at `comps`, of `role`, linking
    /// to `link` if a hard link) depends on what they make.
    fn order<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        comps: &[OsString],
        role: &Role<'_>,
    ) -> Result<()> {
        let Some(pool) = &mut self.pool else {
            return Ok(());
        };
        let wait = match role {
            Role::Skip => false,
            Role::Whiteout(target) => {
                let mut at = comps[..comps.len() - 1].to_vec();
                at.push(target.to_os_string());
                pool.conflicts(&at)
            }
            Role::Opaque | Role::Normal => {
                pool.conflicts(comps)
                    || (entry.header().entry_type() == EntryType::Link
                        && entry
                            .link_name_bytes()
                            .and_then(|t| clean(&t).ok())
                            .is_some_and(|t| pool.conflicts(&t)))
            }
        };
        if wait {
            pool.settle()?;
        }
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
        self.order(entry, &comps, &role)?;
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
                self.file(entry, &comps, meta, &name)
            }
            EntryType::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                if target.is_empty() || target.contains(&0) {
                    return Err(refuse(&name, "symlink without a valid target"));
                }
                let dir = self.dirs.parent(parents, true, &name, "")?;
                let target = OsStr::from_bytes(&target);
                if let Some(pool) = &mut self.pool {
                    let job = Job {
                        dir: dir.shared(),
                        inherit: dir.inherit,
                        last: last.clone(),
                        name,
                        meta,
                        what: What::Symlink(target.to_os_string()),
                    };
                    return pool.submit(job, &comps);
                }
                let creator = self.dirs.creator;
                new_symlink(
                    dir.raw(),
                    last,
                    target,
                    &meta,
                    &dir.inherit,
                    &creator,
                    &name,
                )
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
                let dir = self.dirs.parent(parents, true, &name, "")?;
                fresh(dir.raw(), last, &name, || {
                    mknodat(Some(dir.raw()), last.as_os_str(), kind, Mode::empty(), dev)
                })?
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
        comps: &[OsString],
        meta: Meta,
        name: &str,
    ) -> Result<()> {
        let (last, parents) = comps.split_last().expect("a file entry names a file");
        let dir = self.dirs.parent(parents, true, name, "")?;
        let sparse = entry.header().entry_type() == EntryType::GNUSparse;
        if let Some(pool) = self.pool.as_mut().filter(|_| !sparse) {
            if entry.size() <= pool::JOB_DATA_MAX {
                let mut data = Vec::with_capacity(entry.size() as usize);
                entry
                    .read_to_end(&mut data)
                    .map_err(|e| refuse(name, format_args!("reading its data: {e}")))?;
                let job = Job {
                    dir: dir.shared(),
                    inherit: dir.inherit,
                    last: last.clone(),
                    name: name.to_string(),
                    meta,
                    what: What::File(data),
                };
                return pool.submit(job, comps);
            }
        }
        let mut file = new_file(dir.raw(), last, &meta, name)?;
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
        finish_file(&file, &meta, &dir.inherit, &self.dirs.creator, name)
    }

    fn directory(&mut self, comps: &[OsString], meta: &Meta, name: &str) -> Result<()> {
        self.dir_times
            .push((comps.to_vec(), meta.atime, meta.mtime));
        let Some((last, parents)) = comps.split_last() else {
            let root = self
                .dirs
                .root()
                .try_clone()
                .map_err(|e| EngineError::io(format!("entry {name:?}: duplicating fd"), e))?;
            return apply_fd(&File::from(root), meta, name);
        };
        let parent = self.dirs.parent(parents, true, name, "")?;
        let created = match fsops::mkdir_at(parent.raw(), last, meta.mode & 0o777) {
            Ok(()) => true,
            Err(Errno::EEXIST) => {
                if !make_room(parent.raw(), last, true, name)? {
                    fsops::mkdir_at(parent.raw(), last, meta.mode & 0o777)
                        .map_err(|e| sys(name, "creating directory", e))?;
                    true
                } else {
                    false
                }
            }
            Err(e) => return Err(sys(name, "creating directory", e)),
        };
        let fd = fsops::open_dir_at(parent.raw(), last)
            .map_err(|e| sys(name, "opening directory", e))?;
        let file = File::from(fd);
        if created {
            apply_new_fd(&file, meta, &parent.inherit, &self.dirs.creator, name)?;
        } else {
            // A directory listed again: nothing is known of what it has now.
            apply_fd(&file, meta, name)?;
        }
        let inherit = Inherit::of_new_dir(meta.gid, meta.mode, &meta.xattrs, &self.dirs.creator);
        self.dirs.push(&parent, last, OwnedFd::from(file), inherit);
        Ok(())
    }

    /// Sets every directory's recorded times, in archive order so the last listing wins. A
    /// directory a later entry replaced is skipped.
    fn apply_dir_times(&mut self) {
        let times = std::mem::take(&mut self.dir_times);
        for (comps, atime, mtime) in &times {
            let result = match comps.split_last() {
                None => futimens(self.dirs.root().as_raw_fd(), atime, mtime),
                Some((last, parents)) => match self.dirs.parent(parents, false, "", "") {
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

/// Creates the regular file `last` in `dir` for an entry with `meta`, replacing what is there,
/// with the permission bits it keeps (special bits come after the data and the owner: writing
/// or chown would clear them).
pub(super) fn new_file(dir: RawFd, last: &OsStr, meta: &Meta, name: &str) -> Result<File> {
    let flags =
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mode = Mode::from_bits_truncate(meta.mode & 0o777);
    let fd = fresh(dir, last, name, || openat(Some(dir), last, flags, mode))?
        .map_err(|e| sys(name, "creating file", e))?;
    // SAFETY: `openat` just returned this descriptor and nothing else owns it.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Owner, mode and xattrs where needed, then the times, of a file [`new_file`] made and the
/// caller wrote.
pub(super) fn finish_file(
    file: &File,
    meta: &Meta,
    inherit: &Inherit,
    creator: &Creator,
    name: &str,
) -> Result<()> {
    apply_new_fd(file, meta, inherit, creator, name)?;
    futimens(file.as_raw_fd(), &meta.atime, &meta.mtime).map_err(|e| sys(name, "setting times", e))
}

/// Creates the symlink `last` to `target` in `dir`, replacing what is there, with `meta`.
pub(super) fn new_symlink(
    dir: RawFd,
    last: &OsStr,
    target: &OsStr,
    meta: &Meta,
    inherit: &Inherit,
    creator: &Creator,
    name: &str,
) -> Result<()> {
    fresh(dir, last, name, || symlinkat(target, Some(dir), last))?
        .map_err(|e| sys(name, "creating symlink", e))?;
    apply_new_at(dir, last, meta, inherit, creator, name)
}
