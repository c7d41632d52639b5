//! The container's terminal, made inside the container as runc makes it: the executor's
//! `validate` (in the container's namespaces, after pivot_root, as the container's user) opens
//! `/dev/ptmx` of the container's own devpts instance, so the process's terminal is
//! `/dev/pts/N` inside, makes the peer its controlling terminal and standard streams, and sends
//! the master to the monitor over a socket pair the monitor made before the clone.
//!
//! libcontainer's own console socket would allocate the pty from the host's devpts before the
//! mount namespace is entered: the process would then have a terminal that does not exist in
//! its `/dev/pts` (`tty` says "not a tty").

use std::io::IoSlice;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::fcntl::OFlag;
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr};

/// Makes the terminal and hands its master over `socket` (which it then closes). Errors name
/// the step that failed.
pub fn setup(socket: RawFd) -> Result<(), String> {
    let fail =
        |what: &str, e: nix::Error| format!("cannot set up the container's terminal: {what}: {e}");
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(|e| fail("cannot open /dev/ptmx", e))?;
    nix::pty::grantpt(&master).map_err(|e| fail("grantpt", e))?;
    nix::pty::unlockpt(&master).map_err(|e| fail("unlockpt", e))?;
    let name = nix::pty::ptsname_r(&master).map_err(|e| fail("ptsname", e))?;
    // The peer through the master itself: no path lookup in the container's /dev.
    let flags = (OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC).bits();
    // SAFETY: TIOCGPTPEER takes open flags and returns a new descriptor (or -1).
    let raw = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) };
    if raw < 0 {
        return Err(fail("cannot open the terminal's peer", nix::Error::last()));
    }
    // SAFETY: the ioctl returned a new descriptor that nothing else owns.
    let slave = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: TIOCSCTTY with 0 takes no pointer; the process is a session leader (libcontainer
    // called setsid) without a controlling terminal.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(fail(
            "cannot make it the controlling terminal",
            nix::Error::last(),
        ));
    }
    for target in 0..3 {
        // SAFETY: dup2 onto the standard descriptors, which this process owns.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(fail(
                "cannot connect the standard streams",
                nix::Error::last(),
            ));
        }
    }
    let fds = [master.as_raw_fd()];
    let iov = [IoSlice::new(name.as_bytes())];
    let sent = sendmsg::<UnixAddr>(
        socket,
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    );
    // SAFETY: the socket was given to this process for this one message.
    drop(unsafe { OwnedFd::from_raw_fd(socket) });
    sent.map_err(|e| fail("cannot send the terminal to the monitor", e))?;
    Ok(())
}
