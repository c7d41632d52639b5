//! Bind mounts of sources that are neither a directory nor a regular file: a device node
//! (`-v /dev/null:/x`), a Unix socket (`-v /run/app.sock:/app.sock`), a FIFO. libcontainer makes
//! a directory at the destination of any source that is not a regular file, and the bind then
//! fails ("failed to mount bind mount … syscall"); docker and runc make a file.
//!
//! The monitor takes such mounts out of the spec ([`take`]), creates an empty file at each
//! destination in the rootfs, every component resolved with `openat2(RESOLVE_IN_ROOT)`
//! ([`prepare`]), and once the runtime has built the container (its init set up and waiting for
//! the start), attaches them from a child that joins the container's mount namespace
//! ([`attach`]): `open_tree` clones the source in the host's namespace, `mount_setattr` applies
//! `ro`/`nosuid`/`nodev`/`noexec`, `move_mount` puts it on the destination's descriptor, so no
//! path is followed inside the container after the check.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::{mkdirat, Mode};
use nix::unistd::{fork, ForkResult};
use oci_spec::runtime::Spec;

use crate::engine::error::{EngineError, Result};
use crate::engine::inroot;

/// A bind mount the monitor makes itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialBind {
    source: PathBuf,
    destination: String,
    attrs: u64,
}

use super::mount_tree::{
    clone_mount, Step, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY,
};

const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;

fn is_bind(m: &oci_spec::runtime::Mount) -> bool {
    m.typ().as_deref() == Some("bind")
        || m.options()
            .iter()
            .flatten()
            .any(|o| o == "bind" || o == "rbind")
}

/// Whether `source` (followed, as libcontainer follows it) is something libcontainer cannot
/// bind: not a directory, not a regular file.
fn is_special(source: &Path) -> bool {
    std::fs::metadata(source).is_ok_and(|m| !m.is_dir() && !m.is_file())
}

/// Removes the bind mounts of special files from `spec` and returns them, in order.
pub fn take(spec: &mut Spec) -> Vec<SpecialBind> {
    let Some(mounts) = spec.mounts().clone() else {
        return Vec::new();
    };
    let mut taken = Vec::new();
    let mut kept = Vec::with_capacity(mounts.len());
    for m in mounts {
        let source = m.source().clone().unwrap_or_default();
        if !is_bind(&m) || !is_special(&source) {
            kept.push(m);
            continue;
        }
        let mut attrs = 0;
        for o in m.options().iter().flatten() {
            attrs |= match o.as_str() {
                "ro" => MOUNT_ATTR_RDONLY,
                "nosuid" => MOUNT_ATTR_NOSUID,
                "nodev" => MOUNT_ATTR_NODEV,
                "noexec" => MOUNT_ATTR_NOEXEC,
                _ => 0,
            };
        }
        taken.push(SpecialBind {
            source,
            destination: m.destination().to_string_lossy().into_owned(),
            attrs,
        });
    }
    if !taken.is_empty() {
        spec.set_mounts(Some(kept));
    }
    taken
}

fn fail(b: &SpecialBind, what: &str, e: Errno) -> EngineError {
    EngineError::Runtime(format!(
        "cannot mount {} on {} in the container: {what}: {}",
        b.source.display(),
        b.destination,
        e.desc().to_lowercase()
    ))
}

fn errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// Creates the destinations in `rootfs` (the container's overlay, mounted): missing parent
/// directories (0755) and an empty file (0644). An existing file is used as it is; anything
/// else at the destination is refused.
pub fn prepare(binds: &[SpecialBind], rootfs: &Path) -> Result<()> {
    for b in binds {
        let root = File::open(rootfs)
            .map_err(|e| fail(b, "cannot open the root filesystem", errno(&e)))?;
        let parts: Vec<&std::ffi::OsStr> = Path::new(&b.destination)
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(p) => Some(p),
                _ => None,
            })
            .collect();
        let Some((name, parents)) = parts.split_last() else {
            return Err(fail(
                b,
                "the destination is the container's root",
                Errno::EINVAL,
            ));
        };
        let mut path = PathBuf::from("/");
        for part in parents {
            let parent = inroot::open_at(&root, path.as_os_str(), libc::O_PATH | libc::O_DIRECTORY)
                .map_err(|e| fail(b, &format!("cannot open {}", path.display()), errno(&e)))?;
            match mkdirat(
                Some(parent.as_raw_fd()),
                *part,
                Mode::from_bits_truncate(0o755),
            ) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(fail(b, &format!("cannot create {}", path.display()), e)),
            }
            path.push(part);
        }
        let parent = inroot::open_at(&root, path.as_os_str(), libc::O_PATH | libc::O_DIRECTORY)
            .map_err(|e| fail(b, &format!("cannot open {}", path.display()), errno(&e)))?;
        let cname = CString::new(name.as_bytes())
            .map_err(|_| fail(b, "the destination has a NUL byte", Errno::EINVAL))?;
        // SAFETY: openat with a NUL-terminated name relative to an open directory; returns a
        // new descriptor or -1.
        let fd = unsafe {
            libc::openat(
                parent.as_raw_fd(),
                cname.as_ptr(),
                libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_WRONLY | libc::O_CLOEXEC,
                0o644,
            )
        };
        if fd >= 0 {
            // SAFETY: a descriptor the kernel just returned, owned by nobody else.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
            continue;
        }
        match Errno::last() {
            Errno::EEXIST => {
                let existing = inroot::open_at(&root, b.destination.as_ref(), libc::O_PATH)
                    .and_then(|f| f.metadata())
                    .map_err(|e| fail(b, "cannot open the destination", errno(&e)))?;
                if existing.is_dir() {
                    return Err(fail(b, "the destination is a directory", Errno::EISDIR));
                }
            }
            e => return Err(fail(b, "cannot create the destination", e)),
        }
    }
    Ok(())
}

/// Mounts `binds` into the mount namespace of the container whose init is `pid` (built, not
/// started), from a child process, so that the monitor stays in the host's namespace.
pub fn attach(pid: i32, binds: &[SpecialBind]) -> Result<()> {
    if binds.is_empty() {
        return Ok(());
    }
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| EngineError::io("cannot create a pipe", e.into()))?;
    let ns = File::open(format!("/proc/{pid}/ns/mnt"))
        .map_err(|e| EngineError::io("cannot open the container's mount namespace", e))?;
    // SAFETY: the monitor is single-threaded (no tokio), so the child may run any code.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(read);
            let message = match attach_here(&ns, binds) {
                Ok(()) => String::new(),
                Err(e) => e.to_string(),
            };
            let _ = nix::unistd::write(&write, message.as_bytes());
            // SAFETY: leave the forked child without running the parent's destructors.
            unsafe { libc::_exit(if message.is_empty() { 0 } else { 1 }) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(write);
            let mut message = String::new();
            let _ = std::io::Read::read_to_string(&mut File::from(read), &mut message);
            let _ = nix::sys::wait::waitpid(child, None);
            if message.is_empty() {
                Ok(())
            } else {
                Err(EngineError::Runtime(message))
            }
        }
        Err(e) => Err(EngineError::io("cannot fork", e.into())),
    }
}

/// In the forked child: clone each source, join the namespace, move the clones in place.
fn attach_here(ns: &File, binds: &[SpecialBind]) -> Result<()> {
    let mut trees = Vec::with_capacity(binds.len());
    for b in binds {
        let src = CString::new(b.source.as_os_str().as_bytes())
            .map_err(|_| fail(b, "the source has a NUL byte", Errno::EINVAL))?;
        let tree = clone_mount(&src, b.attrs).map_err(|(step, e)| match step {
            Step::Clone => fail(b, "cannot clone the source", e),
            Step::SetAttr => fail(b, "cannot set the mount's flags", e),
        })?;
        trees.push(tree);
    }
    nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| EngineError::io("cannot join the container's mount namespace", e.into()))?;
    // After setns the root is the container's.
    let root = File::open("/").map_err(|e| EngineError::io("cannot open the container root", e))?;
    for (b, tree) in binds.iter().zip(&trees) {
        let dest = inroot::open_at(
            &root,
            b.destination.as_ref(),
            libc::O_PATH | libc::O_NOFOLLOW,
        )
        .map_err(|e| fail(b, "cannot open the destination", errno(&e)))?;
        // SAFETY: move_mount takes two descriptors and empty NUL-terminated paths.
        let r = unsafe {
            libc::syscall(
                libc::SYS_move_mount,
                tree.as_raw_fd(),
                c"".as_ptr(),
                dest.as_raw_fd(),
                c"".as_ptr(),
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
            )
        };
        if r < 0 {
            return Err(fail(b, "cannot mount", Errno::last()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{MountBuilder, SpecBuilder};

    #[test]
    fn only_binds_of_special_files_are_taken() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let bind = |src: &Path, dest: &str, opts: &[&str]| {
            MountBuilder::default()
                .destination(dest)
                .typ("bind")
                .source(src)
                .options(opts.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .build()
                .unwrap()
        };
        let mut spec = SpecBuilder::default()
            .mounts(vec![
                bind(dir.path(), "/d", &["rbind"]),
                bind(&file, "/f", &["rbind"]),
                bind(Path::new("/dev/null"), "/n", &["rbind", "ro", "nosuid"]),
            ])
            .build()
            .unwrap();
        let taken = take(&mut spec);
        assert_eq!(
            taken,
            vec![SpecialBind {
                source: "/dev/null".into(),
                destination: "/n".into(),
                attrs: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID,
            }]
        );
        let left: Vec<_> = spec
            .mounts()
            .iter()
            .flatten()
            .map(|m| m.destination().clone())
            .collect();
        assert_eq!(left, vec![PathBuf::from("/d"), PathBuf::from("/f")]);
    }
}
