//! Bind mounts that cannot work, refused before libcontainer tries them. Its init process
//! reports a failed mount as "failed to prepare rootfs" and logs only "syscall" as the cause, so
//! the common mistakes (a file on a directory, a directory on a file, a destination below a
//! file) are found here first and named with their paths and errno, as runc names them.
//! Destinations are resolved inside the rootfs with `openat2(RESOLVE_IN_ROOT)`.

use std::os::fd::AsRawFd;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::{fstat, SFlag};
use oci_spec::runtime::Spec;

use crate::engine::error::{EngineError, Result};
use crate::engine::inroot;

fn is_dir(mode: u32) -> bool {
    SFlag::from_bits_truncate(mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR
}

fn refuse(src: &Path, dest: &Path, e: Errno, why: &str) -> EngineError {
    EngineError::Runtime(format!(
        "error mounting {:?} to rootfs at {:?}: {} ({e:?}): {why}",
        src.display().to_string(),
        dest.display().to_string(),
        e.desc().to_lowercase()
    ))
}

fn is_bind(m: &oci_spec::runtime::Mount) -> bool {
    m.typ().as_deref() == Some("bind")
        || m.options()
            .iter()
            .flatten()
            .any(|o| o == "bind" || o == "rbind")
}

/// The bind mounts of `spec` whose source is a host directory: (destination, source).
pub fn bind_dirs(spec: &Spec) -> Vec<(String, std::path::PathBuf)> {
    spec.mounts()
        .iter()
        .flatten()
        .filter(|m| is_bind(m))
        .filter_map(|m| {
            let src = m.source().as_ref()?;
            src.is_dir()
                .then(|| (m.destination().to_string_lossy().into_owned(), src.clone()))
        })
        .collect()
}

/// Checks every mount of `spec` against its rootfs destination (and a bind mount's host
/// source). The last `user_mounts` mounts are the user's; a missing source of one of the
/// runtime's own mounts before them is not an error (the container's cgroup directories, bound
/// into its cgroup view on v1, are made by libcontainer while it builds the container).
pub fn check_mounts(spec: &Spec, rootfs: &Path, user_mounts: usize) -> Result<()> {
    let all = spec.mounts().as_deref().unwrap_or_default();
    let own = all.len().saturating_sub(user_mounts);
    for (i, m) in all.iter().enumerate() {
        let bind = is_bind(m);
        let dest = m.destination();
        let fs_name = m.typ().clone().unwrap_or_else(|| "filesystem".into());
        let src = m.source().clone().unwrap_or_else(|| fs_name.clone().into());
        let src = src.as_path();
        let (src_dir, what) = if !bind {
            (true, "a filesystem")
        } else {
            match std::fs::metadata(src) {
                Ok(md) if md.is_dir() => (true, "a directory"),
                Ok(_) => (false, "a file"),
                Err(e) if i < own && e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(EngineError::Runtime(format!(
                        "error mounting {:?} to rootfs at {:?}: {}: the source must exist on the \
                         host",
                        src.display().to_string(),
                        dest.display().to_string(),
                        e.to_string().to_lowercase()
                    )))
                }
            }
        };
        let dest_str = dest.to_string_lossy();
        match inroot::open(rootfs, &dest_str, libc::O_PATH) {
            Ok(fd) => {
                let st = fstat(fd.as_raw_fd())
                    .map_err(|e| EngineError::io_path("cannot stat", dest, e.into()))?;
                let dest_dir = is_dir(st.st_mode);
                if src_dir != dest_dir {
                    let on = if dest_dir { "a directory" } else { "a file" };
                    return Err(refuse(
                        src,
                        dest,
                        Errno::ENOTDIR,
                        &format!(
                            "{what} cannot be mounted on {on} of the container; choose another \
                             destination"
                        ),
                    ));
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
                return Err(refuse(
                    src,
                    dest,
                    Errno::ENOTDIR,
                    "a component of the destination is a file in the container; choose another \
                     destination",
                ))
            }
            Err(e) => {
                return Err(refuse(
                    src,
                    dest,
                    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
                    "the destination cannot be resolved in the container",
                ))
            }
        }
    }
    Ok(())
}
