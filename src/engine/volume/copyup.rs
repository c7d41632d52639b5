//! Copy-up: a new, empty volume first receives what the image has at its mount point, keeping
//! owners, modes, extended attributes, timestamps, symlinks, hard links and special files, as
//! docker does. The image path is resolved inside the container's root (symlinks in the image
//! never lead out of it).

use std::collections::HashMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use filetime::FileTime;
use nix::sys::stat::{Mode, SFlag};

use super::is_empty_dir;
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::inroot;

/// Resolves the absolute container path `path` inside `root` the way the kernel would inside a
/// chroot (through [`inroot::canonical`]: `..` stops at `root`, absolute symlink targets start
/// again at `root`). Returns the host path, or `None` when it does not exist.
pub fn resolve_in_root(root: &Path, path: &Path) -> Result<Option<PathBuf>> {
    let host = inroot::host_path(root, &path.to_string_lossy())?;
    match std::fs::symlink_metadata(&host) {
        Ok(_) => Ok(Some(host)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EngineError::io_path("cannot stat", &host, e)),
    }
}

/// Copies the image's content at `container_path` (inside the mounted `rootfs`) into the volume
/// directory `data` when `data` is empty and the image has a directory there. Returns whether
/// anything was copied.
pub fn copy_up_if_empty(rootfs: &Path, container_path: &Path, data: &Path) -> Result<bool> {
    if !is_empty_dir(data)? {
        return Ok(false);
    }
    let Some(src) = resolve_in_root(rootfs, container_path)? else {
        return Ok(false);
    };
    let meta = std::fs::symlink_metadata(&src).ctx("cannot stat", &src)?;
    if !meta.is_dir() {
        return Ok(false);
    }
    let mut links = HashMap::new();
    copy_dir_contents(&src, data, &mut links)?;
    copy_metadata(&src, data, &meta)?;
    Ok(true)
}

/// Copies everything inside `src` into the existing directory `dst`.
fn copy_dir_contents(
    src: &Path,
    dst: &Path,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<()> {
    for entry in std::fs::read_dir(src).ctx("cannot read directory", src)? {
        let entry = entry.ctx("cannot read directory", src)?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let meta = std::fs::symlink_metadata(&from).ctx("cannot stat", &from)?;
        copy_entry(&from, &to, &meta, links)?;
    }
    Ok(())
}

fn copy_entry(
    from: &Path,
    to: &Path,
    meta: &std::fs::Metadata,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<()> {
    let ft = meta.file_type();
    if !ft.is_dir() && meta.nlink() > 1 {
        if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
            return std::fs::hard_link(first, to).ctx("cannot create hard link", to);
        }
        links.insert((meta.dev(), meta.ino()), to.to_path_buf());
    }
    if ft.is_dir() {
        std::fs::create_dir(to).ctx("cannot create directory", to)?;
        copy_dir_contents(from, to, links)?;
    } else if ft.is_file() {
        std::fs::copy(from, to).ctx("cannot copy file to", to)?;
    } else if ft.is_symlink() {
        let target = std::fs::read_link(from).ctx("cannot read symlink", from)?;
        std::os::unix::fs::symlink(&target, to).ctx("cannot create symlink", to)?;
    } else {
        let kind = if ft.is_char_device() {
            SFlag::S_IFCHR
        } else if ft.is_block_device() {
            SFlag::S_IFBLK
        } else if ft.is_fifo() {
            SFlag::S_IFIFO
        } else {
            SFlag::S_IFSOCK
        };
        nix::sys::stat::mknod(to, kind, Mode::from_bits_truncate(0o600), meta.rdev())
            .map_err(|e| EngineError::io_path("cannot create", to, e.into()))?;
    }
    copy_metadata(from, to, meta)
}

/// Owner, then mode (chown clears set-id bits), extended attributes, then times.
fn copy_metadata(from: &Path, to: &Path, meta: &std::fs::Metadata) -> Result<()> {
    std::os::unix::fs::lchown(to, Some(meta.uid()), Some(meta.gid()))
        .ctx("cannot set owner of", to)?;
    let is_link = meta.file_type().is_symlink();
    if !is_link {
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(meta.mode() & 0o7777))
            .ctx("cannot set mode of", to)?;
    }
    copy_xattrs(from, to)?;
    filetime::set_symlink_file_times(
        to,
        FileTime::from_last_access_time(meta),
        FileTime::from_last_modification_time(meta),
    )
    .ctx("cannot set times of", to)
}

fn copy_xattrs(from: &Path, to: &Path) -> Result<()> {
    let names = match xattr::list(from) {
        Ok(n) => n,
        Err(e) if is_unsupported(&e) => return Ok(()),
        Err(e) => return Err(EngineError::io_path("cannot list xattrs of", from, e)),
    };
    for name in names {
        let value = match xattr::get(from, &name) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(e) => return Err(EngineError::io_path("cannot read xattrs of", from, e)),
        };
        match xattr::set(to, &name, &value) {
            Ok(()) => {}
            Err(e) if is_unsupported(&e) => {
                tracing::debug!("xattr {name:?} not supported on {}", to.display());
            }
            Err(e) => {
                return Err(EngineError::io_path(
                    &format!("cannot set xattr {} on", name.to_string_lossy()),
                    to,
                    e,
                ))
            }
        }
    }
    Ok(())
}

fn is_unsupported(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::EOPNOTSUPP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn resolves_symlinks_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("real/data")).unwrap();
        symlink("/real", root.join("abs")).unwrap();
        symlink("../../real", root.join("real/up")).unwrap();
        symlink("/../../../etc", root.join("escape")).unwrap();
        let r = |p: &str| resolve_in_root(root, Path::new(p)).unwrap();
        assert_eq!(r("/abs/data"), Some(root.join("real/data")));
        assert_eq!(r("/real/up/data"), Some(root.join("real/data")));
        assert_eq!(r("/../real/./data"), Some(root.join("real/data")));
        // `/etc` inside the root does not exist: the link never reaches the host's /etc.
        assert_eq!(r("/escape/passwd"), None);
        assert_eq!(r("/missing/x"), None);
        symlink("loop", root.join("loop")).unwrap();
        assert!(resolve_in_root(root, Path::new("/loop")).is_err());
    }

    #[test]
    fn copies_tree_with_metadata_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("rootfs");
        let src = root.join("var/lib/db");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("a"), b"hello").unwrap();
        std::fs::hard_link(src.join("a"), src.join("a2")).unwrap();
        symlink("a", src.join("link")).unwrap();
        nix::unistd::mkfifo(&src.join("fifo"), Mode::from_bits_truncate(0o640)).unwrap();
        std::os::unix::fs::lchown(src.join("a"), Some(1000), Some(1000)).unwrap();
        std::fs::set_permissions(src.join("a"), std::fs::Permissions::from_mode(0o4750)).unwrap();
        std::os::unix::fs::lchown(&src, Some(999), Some(998)).unwrap();
        std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o700)).unwrap();
        let xattrs_ok = xattr::set(src.join("sub"), "user.berth", b"v").is_ok();
        let old = FileTime::from_unix_time(1_000_000, 0);
        filetime::set_file_times(src.join("sub"), old, old).unwrap();

        let data = dir.path().join("vol/_data");
        std::fs::create_dir_all(&data).unwrap();
        assert!(copy_up_if_empty(&root, Path::new("/var/lib/db"), &data).unwrap());

        assert_eq!(std::fs::read(data.join("a")).unwrap(), b"hello");
        let a = std::fs::metadata(data.join("a")).unwrap();
        assert_eq!((a.uid(), a.gid(), a.mode() & 0o7777), (1000, 1000, 0o4750));
        assert_eq!(a.ino(), std::fs::metadata(data.join("a2")).unwrap().ino());
        assert_eq!(
            std::fs::read_link(data.join("link")).unwrap(),
            Path::new("a")
        );
        assert!(std::fs::symlink_metadata(data.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
        let top = std::fs::metadata(&data).unwrap();
        assert_eq!(
            (top.uid(), top.gid(), top.mode() & 0o7777),
            (999, 998, 0o700)
        );
        let sub = std::fs::metadata(data.join("sub")).unwrap();
        assert_eq!(FileTime::from_last_modification_time(&sub), old);
        if xattrs_ok {
            assert_eq!(
                xattr::get(data.join("sub"), "user.berth").unwrap(),
                Some(b"v".to_vec())
            );
        }

        // Not empty any more: nothing is copied again.
        std::fs::write(src.join("new"), b"x").unwrap();
        assert!(!copy_up_if_empty(&root, Path::new("/var/lib/db"), &data).unwrap());
        assert!(!data.join("new").exists());
    }

    #[test]
    fn nothing_to_copy_when_image_lacks_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::write(dir.path().join("file"), b"x").unwrap();
        assert!(!copy_up_if_empty(dir.path(), Path::new("/nope"), &data).unwrap());
        assert!(!copy_up_if_empty(dir.path(), Path::new("/file"), &data).unwrap());
    }
}
