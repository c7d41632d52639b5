//! The entries that are not plain files, directories, symlinks or nodes: hard links, and the
//! overlay forms of whiteouts and opaque directories.

use std::ffi::{OsStr, OsString};
use std::fs::File;

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{makedev, mknodat, Mode, SFlag};
use nix::unistd::{fchownat, linkat, Gid, Uid};

use super::dirs::walk_existing;
use super::entry::{fresh, Extractor};
use super::fsops::{kind, lstat_at};
use super::meta::Meta;
use super::names::clean;
use super::{refuse, sys};
use crate::engine::error::{EngineError, Result};

impl Extractor {
    pub(super) fn hard_link(
        &mut self,
        comps: &[OsString],
        target: &[u8],
        name: &str,
    ) -> Result<()> {
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
        // The target's directory is walked on its own: the cache holds the link's parents.
        let tdir = walk_existing(self.dirs.root(), tparents, name, &target_what)?;
        let troot = std::os::fd::AsRawFd::as_raw_fd(self.dirs.root());
        let tdir_raw = tdir.as_ref().map_or(troot, std::os::fd::AsRawFd::as_raw_fd);
        // Checked before anything is replaced, so a bad link leaves the tree as it was.
        match lstat_at(tdir_raw, tlast).map_err(|e| sys(name, "inspecting link target", e))? {
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
        let dir = self.dirs.parent(parents, true, name, "")?;
        // Flags 0: a symlink target is linked itself, never followed.
        fresh(dir.raw(), last, name, || {
            linkat(
                Some(tdir_raw),
                tlast.as_os_str(),
                Some(dir.raw()),
                last.as_os_str(),
                AtFlags::empty(),
            )
        })?
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
    pub(super) fn whiteout(
        &mut self,
        comps: &[OsString],
        target: &OsStr,
        meta: &Meta,
        name: &str,
    ) -> Result<()> {
        let dir = self
            .dirs
            .parent(&comps[..comps.len() - 1], true, name, "")?;
        fresh(dir.raw(), target, name, || {
            mknodat(
                Some(dir.raw()),
                target,
                SFlag::S_IFCHR,
                Mode::empty(),
                makedev(0, 0),
            )
        })?
        .map_err(|e| sys(name, "creating whiteout device", e))?;
        if meta.uid == self.dirs.creator.euid && meta.gid == dir.inherit.gid {
            return Ok(());
        }
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
    pub(super) fn opaque(&mut self, dir_comps: &[OsString], name: &str) -> Result<()> {
        use xattr::FileExt;
        let dir = self.dirs.parent(dir_comps, true, name, "")?;
        let dup = nix::unistd::dup(dir.raw())
            .map_err(|e| sys(name, "duplicating the directory's descriptor", e))?;
        // SAFETY: `dup` just returned this descriptor and nothing else owns it.
        let dir = File::from(unsafe {
            <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(dup)
        });
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
}
