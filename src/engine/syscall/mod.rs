//! The seam between the container lifecycle and the kernel: signals, whether a process still
//! runs, spawning a container's monitor, and the clock the lifecycle waits on. The engine calls
//! these through [`Syscall`] ([`crate::engine::Engine::sys`]), so `stop`'s escalation, `rm -f`,
//! the restart policy and the reconciliation of a lost monitor run in unit tests against
//! [`fake::RecordingSyscall`] without root, without processes and without waiting (youki's
//! `Syscall` trait is the model).

pub mod linux;

#[cfg(test)]
pub mod fake;

use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::engine::error::Result;
use crate::engine::monitor::spawn::MonitorChild;

pub use linux::LinuxSyscall;

/// What the lifecycle asks of the kernel. Implementations: [`LinuxSyscall`] (the real one) and,
/// in unit tests, [`fake::RecordingSyscall`].
pub trait Syscall: Send + Sync {
    /// Sends `sig` to process `pid`.
    fn kill(&self, pid: i32, sig: Signal) -> nix::Result<()>;

    /// Whether the process recorded as (`pid`, `start`: its start time in clock ticks after
    /// boot) still runs. A zombie, or another process that got the pid since, is not it.
    fn alive(&self, pid: i32, start: u64) -> bool;

    /// Whether `pid` is gone or a zombie nobody reaps.
    fn dead_or_zombie(&self, pid: i32) -> bool;

    /// Starts a container monitor: `berth --root ROOT monitor [--attach] [EXTRA…] ID`, with
    /// `client` handed over as its attach client (see [`crate::engine::monitor::spawn`]).
    fn spawn_monitor(
        &self,
        root: &Path,
        extra: &[&str],
        id: &str,
        attach: bool,
        client: Option<OwnedFd>,
    ) -> Result<MonitorChild>;

    /// Now, on the clock the lifecycle's timeouts run on.
    fn now(&self) -> Instant;

    /// Waits `d` on that clock.
    fn sleep(&self, d: Duration);
}
