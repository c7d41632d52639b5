//! Detached mount trees (`open_tree(OPEN_TREE_CLONE)` + `mount_setattr`): a bind mount that is
//! attached nowhere, so making one takes no mount point, no `umount`, and nothing is left
//! behind: it dissolves when its last reference (a descriptor, an executing binary) goes. Only
//! system calls: safe in a forked child.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const OPEN_TREE_CLONE: u32 = 1;
const AT_EMPTY_PATH: u32 = 0x1000;

/// The kernel's `struct mount_attr`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Which step of [`clone_mount`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Clone,
    SetAttr,
}

/// An `O_PATH` descriptor (close-on-exec) of a detached bind mount of `src` (a file or a
/// directory, not recursive) with the `MOUNT_ATTR_*` flags `attrs` set.
pub fn clone_mount(src: &CStr, attrs: u64) -> std::result::Result<OwnedFd, (Step, Errno)> {
    // SAFETY: open_tree reads a NUL-terminated path and returns a new descriptor or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            src.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as u32,
        )
    };
    if fd < 0 {
        return Err((Step::Clone, Errno::last()));
    }
    // SAFETY: a descriptor the kernel just returned, owned by nobody else.
    let tree = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    if attrs != 0 {
        let attr = MountAttr {
            attr_set: attrs,
            attr_clr: 0,
            propagation: 0,
            userns_fd: 0,
        };
        // SAFETY: mount_setattr reads `attr` (of the size passed) on an open mount tree.
        let r = unsafe {
            libc::syscall(
                libc::SYS_mount_setattr,
                tree.as_raw_fd(),
                c"".as_ptr(),
                AT_EMPTY_PATH,
                &attr as *const MountAttr,
                std::mem::size_of::<MountAttr>(),
            )
        };
        if r < 0 {
            return Err((Step::SetAttr, Errno::last()));
        }
    }
    Ok(tree)
}
