//! A directory tree into a tar stream, walked by descriptors (`openat` with `O_NOFOLLOW` from
//! the parent's descriptor, `fstatat` without following), so a running container that swaps a
//! directory for a symlink while it is read can never make the walk leave the tree.
//!
//! Entries: directories, regular files (hard links within the tree as links), symlinks, devices
//! and FIFOs, with owner, mode and mtime; `security.capability` is kept as a PAX xattr record.
//! Sockets are skipped, as docker does. Paths are relative, without a leading `./`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, FileStat, Mode, SFlag};

use crate::engine::error::{EngineError, Result};

/// Writes tar entries for a tree into a [`tar::Builder`].
pub struct TreeTar<'w, W: Write> {
    out: &'w mut tar::Builder<W>,
    /// (dev, ino) → first path, for hard links.
    links: HashMap<(u64, u64), String>,
    /// Owner written for every entry instead of the file's own (`cp` without `-a`).
    owner: Option<(u32, u32)>,
}

fn io(what: &str, path: &str, e: impl Into<std::io::Error>) -> EngineError {
    EngineError::io(format!("{what} {path}"), e.into())
}

fn open_at(dir: &File, name: &std::ffi::OsStr, flags: OFlag) -> nix::Result<File> {
    let fd = nix::fcntl::openat(
        Some(dir.as_raw_fd()),
        name,
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    // SAFETY: openat just returned this descriptor and nothing else owns it.
    Ok(unsafe { File::from_raw_fd(fd) })
}

impl<'w, W: Write> TreeTar<'w, W> {
    /// A writer into `out`.
    pub fn new(out: &'w mut tar::Builder<W>) -> Self {
        TreeTar {
            out,
            links: HashMap::new(),
            owner: None,
        }
    }

    /// Writes `uid:gid` as every entry's owner.
    pub fn with_owner(mut self, uid: u32, gid: u32) -> Self {
        self.owner = Some((uid, gid));
        self
    }

    /// Adds the object `path` opened with `O_PATH` (a symlink itself when opened with
    /// `O_NOFOLLOW`) under the name `as_name`, a directory with everything below it.
    pub fn add_path_fd(&mut self, path: &File, as_name: &str) -> Result<()> {
        let st =
            nix::sys::stat::fstat(path.as_raw_fd()).map_err(|e| io("cannot stat", as_name, e))?;
        let kind = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
        match kind {
            SFlag::S_IFDIR => {
                let dir = open_at(
                    path,
                    std::ffi::OsStr::new("."),
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                )
                .map_err(|e| io("cannot open", as_name, e))?;
                let mut h = self.header(&st, tar::EntryType::Directory);
                self.out
                    .append_data(&mut h, format!("{as_name}/"), std::io::empty())
                    .map_err(|e| io("cannot write the archive entry", as_name, e))?;
                self.add_dir(&dir, &format!("{as_name}/"))
            }
            SFlag::S_IFREG => {
                let proc = format!("/proc/self/fd/{}", path.as_raw_fd());
                let file = File::open(&proc).map_err(|e| io("cannot open", as_name, e))?;
                self.add_regular(file, &st, as_name)
            }
            SFlag::S_IFLNK => {
                let target = nix::fcntl::readlinkat(Some(path.as_raw_fd()), "")
                    .map_err(|e| io("cannot read link", as_name, e))?;
                self.add_symlink(&st, as_name, &target)
            }
            _ => self.add_special(&st, kind, as_name),
        }
    }

    /// Adds everything under the open directory `dir`, its paths prefixed by `prefix` (empty
    /// for the tree's root, else `name/`).
    pub fn add_dir(&mut self, dir: &File, prefix: &str) -> Result<()> {
        let dup = dir
            .try_clone()
            .map_err(|e| io("cannot read directory", prefix, e))?;
        let mut names: Vec<std::ffi::OsString> = Vec::new();
        let mut d = nix::dir::Dir::from_fd(std::os::fd::IntoRawFd::into_raw_fd(dup))
            .map_err(|e| io("cannot read directory", prefix, e))?;
        for entry in d.iter() {
            let entry = entry.map_err(|e| io("cannot read directory", prefix, e))?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(std::ffi::OsStr::from_bytes(name).to_os_string());
            }
        }
        names.sort();
        for name in names {
            let path = format!("{prefix}{}", name.to_string_lossy());
            let st = match fstatat(
                Some(dir.as_raw_fd()),
                name.as_os_str(),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            ) {
                Ok(st) => st,
                // Gone while we walked (a running container): nothing to write.
                Err(nix::errno::Errno::ENOENT) => continue,
                Err(e) => return Err(io("cannot stat", &path, e)),
            };
            self.add_entry(dir, &name, &path, &st)?;
        }
        Ok(())
    }

    fn header(&self, st: &FileStat, kind: tar::EntryType) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(st.st_mode & 0o7777);
        let (uid, gid) = self.owner.unwrap_or((st.st_uid, st.st_gid));
        h.set_uid(uid as u64);
        h.set_gid(gid as u64);
        h.set_mtime(st.st_mtime.max(0) as u64);
        h.set_size(0);
        h
    }

    fn add_entry(
        &mut self,
        dir: &File,
        name: &std::ffi::OsStr,
        path: &str,
        st: &FileStat,
    ) -> Result<()> {
        let kind = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
        let write_err = |e: std::io::Error| io("cannot write the archive entry", path, e);
        match kind {
            SFlag::S_IFDIR => {
                let sub = match open_at(dir, name, OFlag::O_RDONLY | OFlag::O_DIRECTORY) {
                    Ok(f) => f,
                    Err(nix::errno::Errno::ENOENT) => return Ok(()),
                    Err(e) => return Err(io("cannot open", path, e)),
                };
                let mut h = self.header(st, tar::EntryType::Directory);
                self.out
                    .append_data(&mut h, format!("{path}/"), std::io::empty())
                    .map_err(write_err)?;
                self.add_dir(&sub, &format!("{path}/"))
            }
            SFlag::S_IFREG => {
                let key = (st.st_dev, st.st_ino);
                if st.st_nlink > 1 {
                    if let Some(first) = self.links.get(&key) {
                        let mut h = self.header(st, tar::EntryType::Link);
                        let first = first.clone();
                        return self.out.append_link(&mut h, path, first).map_err(write_err);
                    }
                    self.links.insert(key, path.to_string());
                }
                let file = match open_at(dir, name, OFlag::O_RDONLY) {
                    Ok(f) => f,
                    Err(nix::errno::Errno::ENOENT) => return Ok(()),
                    Err(e) => return Err(io("cannot open", path, e)),
                };
                self.add_regular(file, st, path)
            }
            SFlag::S_IFLNK => {
                let target = match nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name) {
                    Ok(t) => t,
                    Err(nix::errno::Errno::ENOENT) => return Ok(()),
                    Err(e) => return Err(io("cannot read link", path, e)),
                };
                self.add_symlink(st, path, &target)
            }
            SFlag::S_IFCHR | SFlag::S_IFBLK | SFlag::S_IFIFO => self.add_special(st, kind, path),
            _ => Ok(()),
        }
    }

    fn add_regular(&mut self, file: File, st: &FileStat, path: &str) -> Result<()> {
        let write_err = |e: std::io::Error| io("cannot write the archive entry", path, e);
        let meta = file.metadata().map_err(|e| io("cannot stat", path, e))?;
        if !meta.is_file() {
            return Ok(());
        }
        let size = meta.len();
        if let Ok(Some(cap)) = xattr::FileExt::get_xattr(&file, "security.capability") {
            self.out
                .append_pax_extensions([("SCHILY.xattr.security.capability", cap.as_slice())])
                .map_err(write_err)?;
        }
        let mut h = self.header(st, tar::EntryType::Regular);
        h.set_size(size);
        // A file that shrank while read is padded, one that grew is cut: the entry always has
        // the size its header says.
        let data = file.take(size).chain(std::io::repeat(0)).take(size);
        self.out.append_data(&mut h, path, data).map_err(write_err)
    }

    fn add_symlink(&mut self, st: &FileStat, path: &str, target: &std::ffi::OsStr) -> Result<()> {
        let write_err = |e: std::io::Error| io("cannot write the archive entry", path, e);
        let mut h = self.header(st, tar::EntryType::Symlink);
        let raw = target.as_bytes();
        if raw.len() <= 100 {
            // Verbatim: the builder's path handling turns a target of `/` into `//`.
            h.set_link_name_literal(raw).map_err(write_err)?;
            self.out
                .append_data(&mut h, path, std::io::empty())
                .map_err(write_err)
        } else {
            self.out
                .append_link(&mut h, path, std::path::Path::new(target))
                .map_err(write_err)
        }
    }

    fn add_special(&mut self, st: &FileStat, kind: SFlag, path: &str) -> Result<()> {
        let write_err = |e: std::io::Error| io("cannot write the archive entry", path, e);
        let t = match kind {
            SFlag::S_IFCHR => tar::EntryType::Char,
            SFlag::S_IFBLK => tar::EntryType::Block,
            SFlag::S_IFIFO => tar::EntryType::Fifo,
            // Sockets are skipped, as docker does.
            _ => return Ok(()),
        };
        let mut h = self.header(st, t);
        if kind != SFlag::S_IFIFO {
            let rdev = st.st_rdev;
            h.set_device_major(nix::sys::stat::major(rdev) as u32)
                .map_err(write_err)?;
            h.set_device_minor(nix::sys::stat::minor(rdev) as u32)
                .map_err(write_err)?;
        }
        self.out
            .append_data(&mut h, path, std::io::empty())
            .map_err(write_err)
    }
}
