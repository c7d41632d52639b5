//! Paths inside a container's root filesystem (or a volume), resolved as the container would see
//! them and never on the host: `openat2(RESOLVE_IN_ROOT)` makes `..` stop at the root and
//! absolute symlink targets start again at the root, so a symlink an image or a container
//! planted (`/etc/passwd -> /etc/shadow`, `/etc -> ../../../..`) stays inside it.
//!
//! Every host-side read of a file in a rootfs goes through [`open`] or [`read_file`], and every
//! path the engine hands on to be created or mounted goes through [`canonical`] first.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use super::error::{EngineError, IoContext, Result};

/// Most symlinks followed while resolving one path (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Opens `path` (absolute inside the container) under `root` as if `root` were `/`, with the
/// `open(2)` `flags` given (`O_CLOEXEC` is always added). Magic links (`/proc/*/fd/*`) are
/// refused.
pub fn open(root: &Path, path: &str, flags: i32) -> std::io::Result<File> {
    let dir = File::open(root)?;
    open_at(&dir, path.as_ref(), flags)
}

/// [`open`] under an already open root directory `dir` (for callers that walk many paths of
/// one root).
pub fn open_at(dir: &File, path: &OsStr, flags: i32) -> std::io::Result<File> {
    let rel = path.as_bytes();
    let rel = rel.strip_prefix(b"/").unwrap_or(rel);
    let rel = CString::new(if rel.is_empty() { b"." } else { rel })
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: open_how is a plain C struct for which all-zero bytes are a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: openat2 reads `rel` (NUL-terminated) and `how` (of the size we pass), both alive
    // for the call, and returns a new descriptor or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            rel.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us and nothing else owns it.
    Ok(unsafe { File::from_raw_fd(fd as i32) })
}

/// Reads the regular file `path` of the rootfs at `root`, at most `cap` bytes. `None` when it
/// does not exist (or a parent is not a directory). Anything but a regular file (a FIFO, a
/// device such as `/dev/zero`, a directory) is refused without opening it for reading, and so is a file
/// larger than `cap`: the error names the file and what to do.
pub fn read_file(root: &Path, path: &str, cap: u64) -> Result<Option<Vec<u8>>> {
    // O_PATH first: opening a device node for real can have effects of its own (a watchdog
    // starts ticking, a tape rewinds), so only a regular file is ever opened for reading.
    let handle = match open(root, path, libc::O_PATH) {
        Ok(f) => f,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
            return Ok(None)
        }
        Err(e) => {
            return Err(EngineError::InvalidInput(format!(
                "cannot open {path} in the container's filesystem: {e}"
            )))
        }
    };
    let meta = handle
        .metadata()
        .map_err(|e| EngineError::io(format!("cannot stat {path} in the container"), e))?;
    if !meta.is_file() {
        return Err(EngineError::InvalidInput(format!(
            "{path} in the container's filesystem is {}, not a regular file: \
             replace it with a regular file in the image",
            describe(&meta.file_type())
        )));
    }
    // Reopening the O_PATH descriptor reaches the same inode, whatever the path means now.
    let reopen = format!("/proc/self/fd/{}", handle.as_raw_fd());
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&reopen)
        .map_err(|e| EngineError::io(format!("cannot open {path} in the container"), e))?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| EngineError::io(format!("cannot read {path} in the container"), e))?;
    if bytes.len() as u64 > cap {
        return Err(EngineError::InvalidInput(format!(
            "{path} in the container's filesystem is larger than {cap} bytes: \
             shorten it in the image"
        )));
    }
    Ok(Some(bytes))
}

fn describe(ft: &std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// The absolute container path `path` with every symlink resolved inside `root` (`..` stops at
/// the root, absolute targets restart there), as the kernel would inside the container. A
/// missing tail is kept as given (normalised), so the result can be created or mounted on.
pub fn canonical(root: &Path, path: &str) -> Result<String> {
    let dir = File::open(root).ctx("cannot open the container's root", root)?;
    let mut pending: Vec<OsString> = Vec::new();
    push_components(&mut pending, Path::new(path));
    let mut resolved: Vec<OsString> = Vec::new();
    let mut links = 0;
    let mut missing = false;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        if missing {
            resolved.push(part);
            continue;
        }
        let mut here = PathBuf::from("/");
        here.extend(&resolved);
        here.push(&part);
        let fd = match open_at(&dir, here.as_os_str(), libc::O_PATH | libc::O_NOFOLLOW) {
            Ok(fd) => fd,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                missing = true;
                resolved.push(part);
                continue;
            }
            Err(e) => {
                return Err(EngineError::io(
                    format!("cannot resolve {path} in the container's filesystem"),
                    e,
                ))
            }
        };
        let meta = fd
            .metadata()
            .map_err(|e| EngineError::io(format!("cannot stat {}", here.display()), e))?;
        if !meta.file_type().is_symlink() {
            resolved.push(part);
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Err(EngineError::InvalidInput(format!(
                "too many symlinks while resolving {path} in the container's filesystem"
            )));
        }
        let target = nix::fcntl::readlinkat(Some(fd.as_raw_fd()), "").map_err(|e| {
            EngineError::io(format!("cannot read symlink {}", here.display()), e.into())
        })?;
        if Path::new(&target).is_absolute() {
            resolved.clear();
        }
        push_components(&mut pending, Path::new(&target));
    }
    let mut out = PathBuf::from("/");
    out.extend(&resolved);
    Ok(out.to_string_lossy().into_owned())
}

/// The host path of the container path `path` under `root`, symlinks resolved inside `root`.
pub fn host_path(root: &Path, path: &str) -> Result<PathBuf> {
    Ok(root.join(canonical(root, path)?.trim_start_matches('/')))
}

/// Pushes the components of `p` onto `stack` so that the first one is popped first.
fn push_components(stack: &mut Vec<OsString>, p: &Path) {
    let parts: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    stack.extend(parts.into_iter().rev());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn canonical_resolves_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("run/real")).unwrap();
        symlink("/run/real", root.join("etc/abs")).unwrap();
        symlink("../../../../../run/real", root.join("etc/up")).unwrap();
        symlink("/nowhere/file", root.join("etc/dangling")).unwrap();
        symlink("loop2", root.join("loop1")).unwrap();
        symlink("loop1", root.join("loop2")).unwrap();
        let c = |p: &str| canonical(&root, p).unwrap();
        assert_eq!(c("/etc/abs/x"), "/run/real/x");
        assert_eq!(c("/etc/up"), "/run/real");
        assert_eq!(c("/etc/dangling"), "/nowhere/file");
        assert_eq!(c("/../../etc/./hosts"), "/etc/hosts");
        assert_eq!(c("/"), "/");
        assert!(canonical(&root, "/loop1").is_err());
        assert_eq!(host_path(&root, "/etc/abs").unwrap(), root.join("run/real"));
    }

    #[test]
    fn read_file_refuses_what_is_not_a_regular_file() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        let host = d.path().join("secret");
        std::fs::write(&host, "host secret").unwrap();
        symlink(&host, root.join("etc/passwd")).unwrap();
        assert_eq!(read_file(&root, "/etc/passwd", 100).unwrap(), None);
        nix::unistd::mkfifo(&root.join("etc/fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let e = read_file(&root, "/etc/fifo", 100).unwrap_err().to_string();
        assert!(e.contains("a FIFO, not a regular file"), "{e}");
        // A device node of the image is never opened for reading (needs root to make).
        if nix::unistd::geteuid().is_root() {
            let dev = nix::sys::stat::makedev(1, 5);
            nix::sys::stat::mknod(
                &root.join("etc/dev"),
                nix::sys::stat::SFlag::S_IFCHR,
                nix::sys::stat::Mode::S_IRUSR,
                dev,
            )
            .unwrap();
            let e = read_file(&root, "/etc/dev", 100).unwrap_err().to_string();
            assert!(e.contains("a character device"), "{e}");
        }
        symlink("/dev/zero", root.join("etc/zero")).unwrap();
        assert_eq!(read_file(&root, "/etc/zero", 100).unwrap(), None);
        std::fs::write(root.join("etc/big"), vec![b'x'; 101]).unwrap();
        let e = read_file(&root, "/etc/big", 100).unwrap_err().to_string();
        assert!(e.contains("larger than 100 bytes"), "{e}");
        std::fs::write(root.join("etc/ok"), "fine").unwrap();
        assert_eq!(
            read_file(&root, "/etc/ok", 100).unwrap().as_deref(),
            Some(&b"fine"[..])
        );
    }
}
