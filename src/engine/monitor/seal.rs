//! Protection of the berth binary against being overwritten from a container
//! (CVE-2019-5736): the monitor runs from a read-only bind mount of the berth binary, a detached
//! clone of its mount. `/proc/<pid>/exe` of the monitor and of the container's init (a clone of it)
//! then names a file on a read-only mount: opening it for writing fails with EROFS even after
//! every berth process exits. The spawner makes the sealed descriptor and executes the monitor
//! from it (one exec); a monitor started without it re-executes itself from one it makes.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use super::mount_tree::{clone_mount, Step, MOUNT_ATTR_RDONLY};
use crate::engine::error::{EngineError, Result};

/// Set in the environment of the re-executed monitor.
pub const SEALED_ENV: &str = "BERTH_MONITOR_SEALED";

/// Whether this process already runs from the read-only copy.
pub fn is_sealed() -> bool {
    std::env::var_os(SEALED_ENV).is_some()
}

fn sys(what: &str, path: &Path, e: nix::Error) -> EngineError {
    EngineError::io_path(what, path, std::io::Error::from(e))
}

/// A read-only descriptor of `binary` on a detached read-only bind mount of it: a clone of its
/// mount made read-only and attached nowhere, so nothing is created on disk or mounted and
/// unmounted in the caller's namespace; it dissolves with its last user.
pub fn sealed_fd(binary: &Path) -> Result<OwnedFd> {
    let path = CString::new(binary.as_os_str().as_encoded_bytes())
        .map_err(|_| EngineError::InvalidInput(format!("{} has a NUL byte", binary.display())))?;
    let tree = clone_mount(&path, MOUNT_ATTR_RDONLY).map_err(|(step, e)| {
        let what = match step {
            Step::Clone => "cannot clone a mount of",
            Step::SetAttr => "cannot make read-only a mount of",
        };
        sys(what, binary, e)
    })?;
    // The tree is an O_PATH descriptor; callers read and execute through an ordinary one.
    let again = format!("/proc/self/fd/{}", tree.as_raw_fd());
    let raw = open(
        again.as_str(),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| sys("cannot open", binary, e))?;
    // SAFETY: `open` returned a fresh descriptor that nothing else owns.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) })
}

/// Re-executes the current process (same arguments) from a read-only bind mount of its binary.
/// Returns only on failure.
pub fn reexec_sealed() -> EngineError {
    let fd = match sealed_fd(Path::new("/proc/self/exe")) {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    let args: Vec<CString> = std::env::args_os()
        .filter_map(|a| CString::new(a.into_encoded_bytes()).ok())
        .collect();
    let mut env: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.into_encoded_bytes();
            kv.push(b'=');
            kv.extend(v.into_encoded_bytes());
            CString::new(kv).ok()
        })
        .collect();
    env.extend(CString::new(format!("{SEALED_ENV}=1")).ok());
    let err = nix::unistd::fexecve(fd.as_raw_fd(), &args, &env).err();
    EngineError::Runtime(format!(
        "cannot re-execute the monitor from its sealed binary: {}",
        err.map(|e| e.desc()).unwrap_or("unknown error")
    ))
}
