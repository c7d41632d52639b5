//! The attach directory of a container (`containers/<id>/attach`, mode 0700, path-based sockets
//! only, never abstract ones) and binding or connecting sockets in it.
//!
//! Container paths are too long for `sun_path` (108 bytes), so sockets are named through
//! `/proc/self/fd/<dirfd>/<name>`, which works from any thread without changing directory.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::Layout;

/// The name of the container's attach socket in its attach directory.
pub const ATTACH_SOCKET: &str = "attach.sock";

/// `containers/<id>/attach`.
pub fn attach_dir(layout: &Layout, id: &str) -> PathBuf {
    layout.container_dir(id).join("attach")
}

/// Creates (or tightens) the attach directory: a real directory, owned by us, mode 0700.
pub fn create_dir(dir: &Path) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() || !m.is_dir() => {
            return Err(EngineError::State(format!(
                "{} is not a directory: remove it and start the container again",
                dir.display()
            )))
        }
        Ok(_) => {}
        Err(_) => std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .ctx("cannot create", dir)?,
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).ctx("cannot chmod", dir)
}

fn open_dir(dir: &Path) -> Result<File> {
    let fd = nix::fcntl::open(
        dir,
        nix::fcntl::OFlag::O_PATH
            | nix::fcntl::OFlag::O_DIRECTORY
            | nix::fcntl::OFlag::O_NOFOLLOW
            | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| EngineError::io_path("cannot open", dir, e.into()))?;
    // SAFETY: `open` returned a fresh descriptor that nothing else owns.
    Ok(unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) })
}

fn short_path(dir: &File, name: &str) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}/{name}", dir.as_raw_fd()))
}

/// Binds a listening socket `name` in `dir`, replacing a stale one.
pub fn bind(dir: &Path, name: &str) -> Result<UnixListener> {
    let d = open_dir(dir)?;
    let path = short_path(&d, name);
    let full = dir.join(name);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(EngineError::io_path(
                "cannot remove the stale socket",
                &full,
                e,
            ))
        }
    }
    UnixListener::bind(&path).map_err(|e| EngineError::io_path("cannot listen on", &full, e))
}

/// Connects to the socket `name` in `dir`.
pub fn connect(dir: &Path, name: &str) -> std::io::Result<UnixStream> {
    let d = open_dir(dir).map_err(|e| std::io::Error::other(e.to_string()))?;
    UnixStream::connect(short_path(&d, name))
}
