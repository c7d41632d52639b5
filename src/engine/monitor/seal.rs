//! Protection of the berth binary against being overwritten from a container
//! (CVE-2019-5736): the monitor runs from a read-only bind mount of the berth binary, detached
//! once opened. `/proc/<pid>/exe` of the monitor and of the container's init (a clone of it)
//! then names a file on a read-only mount: opening it for writing fails with EROFS even after
//! every berth process exits. The spawner makes the sealed descriptor and executes the monitor
//! from it (one exec); a monitor started without it re-executes itself from one it makes.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{open, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;

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

/// A read-only descriptor of `binary` on a detached read-only bind mount (made in `tmp_dir`).
pub fn sealed_fd(tmp_dir: &Path, binary: &Path) -> Result<OwnedFd> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // Unique per call: a TUI spawns monitors from several threads at once.
    let target = tmp_dir.join(format!(
        "monitor-exe-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::File::create(&target)
        .map_err(|e| EngineError::io_path("cannot create", &target, e))?;
    let result = (|| {
        mount(
            Some(binary),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| sys("cannot bind the berth binary onto", &target, e))?;
        let ro = mount(
            None::<&str>,
            &target,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .map_err(|e| sys("cannot make read-only", &target, e));
        let fd = ro.and_then(|_| {
            open(&target, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
                .map_err(|e| sys("cannot open", &target, e))
        });
        let _ = umount2(&target, MntFlags::MNT_DETACH);
        // SAFETY: `open` returned a fresh descriptor that nothing else owns.
        fd.map(|raw| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) })
    })();
    let _ = std::fs::remove_file(&target);
    result
}

/// Re-executes the current process (same arguments) from a read-only bind mount of its binary.
/// Returns only on failure.
pub fn reexec_sealed(tmp_dir: &Path) -> EngineError {
    let fd = match sealed_fd(tmp_dir, Path::new("/proc/self/exe")) {
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
