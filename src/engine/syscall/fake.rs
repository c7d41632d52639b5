//! A [`Syscall`] for unit tests: processes that exist only in a table, a clock that moves only
//! when the lifecycle sleeps, and a record of every signal sent and monitor spawned.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::Signal;

use super::Syscall;
use crate::engine::error::{EngineError, Result};
use crate::engine::monitor::spawn::MonitorChild;

/// A call the lifecycle made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// A signal sent.
    Kill { pid: i32, sig: Signal },
    /// A monitor spawned for container `id`.
    Spawn { id: String, attach: bool },
}

/// What happens when a process dies: the test's stand-in for the monitor recording the exit.
type OnExit = Box<dyn Fn(i32, Signal) + Send + Sync>;
/// What happens while the lifecycle sleeps (given the time slept so far): the test's stand-in
/// for another process acting meanwhile.
type OnSleep = std::sync::Arc<dyn Fn(Duration) + Send + Sync>;

#[derive(Debug, Clone)]
struct Process {
    start: u64,
    /// Signals it dies of (SIGKILL always).
    fatal: Vec<Signal>,
    /// Dead, but not reaped by its parent.
    zombie: bool,
    /// Its monitor, which exits once it has reaped it (unless `stuck`).
    monitor: Option<i32>,
    /// A monitor that no longer reaps its container.
    stuck: bool,
}

#[derive(Default)]
struct Table {
    elapsed: Duration,
    calls: Vec<Call>,
    procs: HashMap<i32, Process>,
}

/// The recording fake.
pub struct RecordingSyscall {
    base: Instant,
    table: Mutex<Table>,
    on_exit: Mutex<Option<OnExit>>,
    on_sleep: Mutex<Option<OnSleep>>,
}

impl Default for RecordingSyscall {
    fn default() -> Self {
        RecordingSyscall {
            base: Instant::now(),
            table: Mutex::default(),
            on_exit: Mutex::default(),
            on_sleep: Mutex::default(),
        }
    }
}

impl RecordingSyscall {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A live process (a monitor) started at `start`, dying only of SIGKILL.
    pub fn process(&self, pid: i32, start: u64) {
        self.table().procs.insert(
            pid,
            Process {
                start,
                fatal: vec![Signal::SIGKILL],
                zombie: false,
                monitor: None,
                stuck: false,
            },
        );
    }

    /// A container's process `pid` under monitor `monitor` (which must be a [`Self::process`]),
    /// dying of the signals in `fatal` and of SIGKILL.
    pub fn container(&self, pid: i32, monitor: i32, fatal: &[Signal]) {
        let mut fatal = fatal.to_vec();
        fatal.push(Signal::SIGKILL);
        self.table().procs.insert(
            pid,
            Process {
                start: 1,
                fatal,
                zombie: false,
                monitor: Some(monitor),
                stuck: false,
            },
        );
    }

    /// The monitor of container process `pid` stops reaping it: once dead, it stays a zombie
    /// and the monitor stays alive (until it is killed itself).
    pub fn stuck_monitor(&self, pid: i32) {
        if let Some(p) = self.table().procs.get_mut(&pid) {
            p.stuck = true;
        }
    }

    /// Called with the pid and the signal when a process dies of a signal (for a container's
    /// process: after its monitor exited; never for one whose monitor is stuck).
    pub fn on_exit(&self, f: impl Fn(i32, Signal) + Send + Sync + 'static) {
        *self.on_exit.lock().unwrap() = Some(Box::new(f));
    }

    /// Calls `f` after each sleep with the time slept so far in all.
    pub fn on_sleep(&self, f: impl Fn(Duration) + Send + Sync + 'static) {
        *self.on_sleep.lock().unwrap() = Some(std::sync::Arc::new(f));
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.table().calls.clone()
    }

    /// The signals sent so far, in order.
    pub fn signals(&self) -> Vec<(i32, Signal)> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Kill { pid, sig } => Some((pid, sig)),
                Call::Spawn { .. } => None,
            })
            .collect()
    }

    /// How long the lifecycle has slept in all.
    pub fn slept(&self) -> Duration {
        self.table().elapsed
    }
}

impl Syscall for RecordingSyscall {
    fn kill(&self, pid: i32, sig: Signal) -> nix::Result<()> {
        {
            let mut t = self.table();
            t.calls.push(Call::Kill { pid, sig });
            let Some(p) = t.procs.get(&pid).cloned() else {
                return Err(Errno::ESRCH);
            };
            if p.zombie || !p.fatal.contains(&sig) {
                return Ok(());
            }
            if p.stuck {
                // Dead, but its monitor neither reaps it nor records the exit.
                t.procs.get_mut(&pid).expect("present").zombie = true;
                return Ok(());
            }
            t.procs.remove(&pid);
            if let Some(m) = p.monitor {
                t.procs.remove(&m);
            }
        }
        // Outside the table's lock: the hook may ask the fake again.
        if let Some(f) = self.on_exit.lock().unwrap().as_ref() {
            f(pid, sig);
        }
        Ok(())
    }

    fn alive(&self, pid: i32, start: u64) -> bool {
        self.table()
            .procs
            .get(&pid)
            .is_some_and(|p| !p.zombie && p.start == start)
    }

    fn dead_or_zombie(&self, pid: i32) -> bool {
        self.table().procs.get(&pid).is_none_or(|p| p.zombie)
    }

    fn spawn_monitor(
        &self,
        _root: &Path,
        _extra: &[&str],
        id: &str,
        attach: bool,
        _client: Option<OwnedFd>,
    ) -> Result<MonitorChild> {
        self.table().calls.push(Call::Spawn {
            id: id.to_owned(),
            attach,
        });
        // No monitor process exists here: the start fails as when one dies at once.
        Err(EngineError::Runtime(
            "the container monitor exited before it reported the start".into(),
        ))
    }

    fn now(&self) -> Instant {
        self.base + self.table().elapsed
    }

    fn sleep(&self, d: Duration) {
        let elapsed = {
            let mut t = self.table();
            t.elapsed += d;
            t.elapsed
        };
        // Called without the lock held: the hook may make the lifecycle sleep again.
        let hook = self.on_sleep.lock().unwrap().clone();
        if let Some(f) = hook {
            f(elapsed);
        }
    }
}
