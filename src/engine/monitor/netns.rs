//! Bringing up the loopback interface in a container's private network namespace (Docker's
//! `none` network has `lo` up).

use std::fs::File;
use std::os::fd::AsRawFd;

use nix::sched::{setns, CloneFlags};

use crate::engine::error::{EngineError, ErrorKind, Result};

nix::ioctl_readwrite_bad!(get_flags, libc::SIOCGIFFLAGS, libc::ifreq);
nix::ioctl_write_ptr_bad!(set_flags, libc::SIOCSIFFLAGS, libc::ifreq);

pub(crate) fn lo_up() -> Result<()> {
    let sock = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Inet,
        nix::sys::socket::SockType::Datagram,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| {
        EngineError::caused(
            ErrorKind::Runtime,
            "cannot open a socket in the container",
            e,
        )
    })?;
    // SAFETY: ifreq is a plain C struct for which all-zero bytes are a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (i, b) in b"lo".iter().enumerate() {
        req.ifr_name[i] = *b as libc::c_char;
    }
    // SAFETY: `req` is a valid ifreq naming "lo"; the socket is open.
    unsafe { get_flags(sock.as_raw_fd(), &mut req) }.map_err(|e| {
        EngineError::caused(ErrorKind::Runtime, "cannot read the loopback flags", e)
    })?;
    // SAFETY: reading the flags union member the kernel just filled in.
    unsafe {
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    }
    // SAFETY: as above; SIOCSIFFLAGS only reads `req`.
    unsafe { set_flags(sock.as_raw_fd(), &req) }
        .map_err(|e| EngineError::caused(ErrorKind::Runtime, "cannot bring up loopback", e))?;
    Ok(())
}

/// Enters the network namespace of `pid`, brings `lo` up, and returns to this process's own
/// namespace. The caller must be single-threaded.
pub fn loopback_up(pid: i32) -> Result<()> {
    let own = File::open("/proc/self/ns/net")
        .map_err(|e| EngineError::io("cannot open the monitor's network namespace", e))?;
    let theirs = File::open(format!("/proc/{pid}/ns/net"))
        .map_err(|e| EngineError::io("cannot open the container's network namespace", e))?;
    setns(&theirs, CloneFlags::CLONE_NEWNET).map_err(|e| {
        EngineError::caused(ErrorKind::Runtime, "cannot enter the container's netns", e)
    })?;
    let result = lo_up();
    setns(&own, CloneFlags::CLONE_NEWNET).map_err(|e| {
        EngineError::caused(
            ErrorKind::Runtime,
            "cannot return to the monitor's netns",
            e,
        )
    })?;
    result
}
