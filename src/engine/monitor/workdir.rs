//! The container's working directory, created in its rootfs before the start when missing, as
//! docker does (mode 0755, new directories owned by the container's user: root unless `-u` or
//! the image says otherwise). Every component is resolved with `openat2(RESOLVE_IN_ROOT)`, so a
//! symlink in the image (`/app -> /../../etc`) resolves inside the rootfs, never on the host,
//! and each new directory is made relative to its parent's descriptor.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Component, Path};

use nix::errno::Errno;
use nix::sys::stat::{mkdirat, Mode};
use nix::unistd::{fchownat, Gid, Uid};

use crate::engine::error::{EngineError, Result};
use crate::engine::inroot;

/// Opens the directory `path` (absolute inside the container) under the open root `root`.
fn open_dir_in_root(root: &File, path: &str) -> nix::Result<File> {
    inroot::open_at(root, path.as_ref(), libc::O_PATH | libc::O_DIRECTORY)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}

/// Lexically cleaned components of an absolute container path (`..` at the top stays there).
fn clean(path: &str) -> Vec<&std::ffi::OsStr> {
    let mut parts = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts
}

/// Makes sure `workdir` exists as a directory in the container, creating what is missing owned
/// by `uid`:`gid`. `binds` are the container's bind mounts (destination, host directory): a
/// workdir inside one is created in its source, as the container will see it there (runc makes
/// it after mounting; we must before).
pub fn ensure(
    rootfs: &Path,
    binds: &[(String, std::path::PathBuf)],
    workdir: &str,
    uid: u32,
    gid: u32,
) -> Result<()> {
    if workdir.is_empty() {
        return Ok(());
    }
    let wanted = clean(workdir);
    let inside = binds
        .iter()
        .map(|(dest, src)| (clean(dest), src))
        .filter(|(dest, _)| wanted.starts_with(dest))
        .max_by_key(|(dest, _)| dest.len());
    match inside {
        Some((dest, src)) => create(src, workdir, &wanted[dest.len()..], uid, gid),
        None => create(rootfs, workdir, &wanted, uid, gid),
    }
}

/// Creates `parts` below `base` (each resolved inside `base`).
fn create(
    base: &Path,
    workdir: &str,
    parts: &[&std::ffi::OsStr],
    uid: u32,
    gid: u32,
) -> Result<()> {
    let fail = |what: &str, e: Errno| {
        EngineError::Runtime(format!(
            "cannot create the working directory {workdir:?} in the container: {what}: {}",
            e.desc().to_lowercase()
        ))
    };
    let root = File::open(base).map_err(|e| {
        fail(
            "cannot open the root filesystem",
            Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })?;
    let mut path = String::new();
    for &part in parts {
        let name = part.to_string_lossy();
        let parent = open_dir_in_root(&root, &path).map_err(|e| match e {
            Errno::ENOTDIR => EngineError::Runtime(format!(
                "cannot create the working directory {workdir:?}: {} is not a directory in \
                 the container; choose another -w",
                if path.is_empty() { "/" } else { &path }
            )),
            e => fail(&format!("cannot open {path}"), e),
        })?;
        path.push('/');
        path.push_str(&name);
        match open_dir_in_root(&root, &path) {
            Ok(_) => continue,
            Err(Errno::ENOENT) => {}
            Err(Errno::ENOTDIR) => {
                return Err(EngineError::Runtime(format!(
                    "cannot create the working directory {workdir:?}: {path} exists in the \
                     container and is not a directory; choose another -w"
                )))
            }
            Err(e) => return Err(fail(&format!("cannot open {path}"), e)),
        }
        let created = match mkdirat(
            Some(parent.as_raw_fd()),
            part,
            Mode::from_bits_truncate(0o755),
        ) {
            Ok(()) => true,
            // A dangling symlink, or made meanwhile: the next open says which.
            Err(Errno::EEXIST) => false,
            Err(e) => return Err(fail(&format!("cannot create {path}"), e)),
        };
        let dir = open_dir_in_root(&root, &path).map_err(|_| {
            EngineError::Runtime(format!(
                "cannot create the working directory {workdir:?}: {path} is a symlink to a \
                 directory that does not exist in the container; choose another -w"
            ))
        })?;
        if !created {
            continue;
        }
        let proc = format!("/proc/self/fd/{}", dir.as_raw_fd());
        nix::sys::stat::fchmodat(
            None,
            proc.as_str(),
            Mode::from_bits_truncate(0o755),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .map_err(|e| fail(&format!("cannot set the mode of {path}"), e))?;
        fchownat(
            None,
            proc.as_str(),
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            nix::fcntl::AtFlags::empty(),
        )
        .map_err(|e| fail(&format!("cannot set the owner of {path}"), e))?;
    }
    Ok(())
}
