//! Bind mounts that cannot work, refused before libcontainer tries them. Its init process
//! reports a failed mount as "failed to prepare rootfs" and logs only "syscall" as the cause, so
//! the common mistakes (a file on a directory, a directory on a file, a destination below a
//! file) are found here first and named with their paths and errno, as runc names them.
//! Destinations are resolved inside the rootfs with `openat2(RESOLVE_IN_ROOT)`.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::{fstat, Mode, SFlag};
use oci_spec::runtime::Spec;

use crate::engine::error::{EngineError, Result};

/// Opens `path` (absolute inside the container) under `root` with `O_PATH`, following symlinks
/// as the container would see them.
fn open_in_root(root: &OwnedFd, path: &str) -> nix::Result<OwnedFd> {
    let rel = std::ffi::CString::new(path.trim_start_matches('/')).map_err(|_| Errno::EINVAL)?;
    // SAFETY: open_how is a plain C struct for which all-zero bytes are a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: openat2 reads `rel` (NUL-terminated) and `how` (of the size we pass), both alive
    // for the call, and returns a new descriptor or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            rel.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

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
/// source).
pub fn check_mounts(spec: &Spec, rootfs: &Path) -> Result<()> {
    let root = nix::fcntl::open(
        rootfs,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    // SAFETY: `open` just returned this descriptor and nothing else owns it.
    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
    .map_err(|e| EngineError::io_path("cannot open", rootfs, e.into()))?;
    for m in spec.mounts().iter().flatten() {
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
        match open_in_root(&root, &dest_str) {
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
            Err(Errno::ENOENT) => {}
            Err(Errno::ENOTDIR) => {
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
                    e,
                    "the destination cannot be resolved in the container",
                ))
            }
        }
    }
    Ok(())
}
