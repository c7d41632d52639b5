//! The long-lived part of the monitor in a small binary. The berth binary is 27 MB with many
//! vtables, and a process running it keeps ~600 kB of relocated data alone, whatever it does;
//! `berth-relay` (`src/relay.rs`, built beside `berth`) is the relay loop and nothing else.
//!
//! Once the container has run for [`IDLE`], the monitor (still the berth binary) writes all it
//! holds into a memfd ([`super::wire`]) and executes the relay binary from a sealed read-only
//! copy of it ([`super::seal`]): same pid, so the container stays its child and its record's
//! `monitor_pid`/`monitor_start` stay true. The relay relays output to the log and the attach
//! clients until the container exits, then writes the state back and executes the berth binary
//! again (`berth monitor --resume FD ID`, from a descriptor of the sealed berth binary the
//! monitor kept), which records the exit, answers the clients, and runs the restart policy as
//! before. A short-lived container (`run --rm true`) exits before [`IDLE`] and never pays for
//! the two execs. Without the relay binary (a copy of the berth binary alone), the monitor
//! stays in-process and trims its memory instead.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::health_child::HealthChild;
use super::wire::{Reader, Writer};
use crate::engine::attach::server::{Ran, Server};
use crate::engine::error::{EngineError, Result};
use crate::engine::lock::FileLock;
use crate::engine::Layout;

/// How long a container runs before its monitor hands over to the relay binary.
pub const IDLE: Duration = Duration::from_millis(500);
/// How long output is drained after the container's exit.
pub const DRAIN: Duration = Duration::from_secs(2);
/// The relay binary's path, set by the spawner for the monitor.
pub const RELAY_ENV: &str = "BERTH_RELAY_EXE";
/// The relay binary's file name, beside the berth binary.
pub const RELAY_NAME: &str = "berth-relay";
/// The state's layout: a relay of another build refuses it and hands it straight back.
pub const FORMAT: &str = concat!(env!("CARGO_PKG_VERSION"), "-1");

/// What the monitor holds while its container runs.
pub struct Running {
    pub pid: i32,
    /// The relay loop and the container's pidfd (none when either could not be made: the
    /// monitor then only waits for the exit).
    pub serving: Option<(Server, OwnedFd)>,
    pub health: Option<HealthChild>,
    /// What holds the published host ports.
    pub net: Vec<OwnedFd>,
    /// The spawner's status pipe, when it waits for the exit.
    pub status: Option<File>,
    /// When the container started (`CLOCK_MONOTONIC`, ns).
    pub began: u64,
}

/// The monitor's state as it crossed an exec.
pub struct Parked {
    pub running: Running,
    /// The monitor's lock file, still locked.
    pub lock: File,
    /// The restart policy's last backoff.
    pub delay: Option<Duration>,
    /// Whether the container has exited (else the relay refused the state).
    pub exited: bool,
}

/// `CLOCK_MONOTONIC` in nanoseconds (the clock of `Instant`, which cannot cross an exec).
pub fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec that lives on this frame.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

fn save(w: &mut Writer, r: &Running, lock: &impl AsRawFd, delay: Option<Duration>, exited: bool) {
    w.u64(r.pid as u64);
    w.bool(r.serving.is_some());
    if let Some((server, pidfd)) = &r.serving {
        w.fd(Some(pidfd));
        server.save(w);
    }
    w.bool(r.health.is_some());
    if let Some(h) = &r.health {
        h.save(w);
    }
    w.u64(r.net.len() as u64);
    for fd in &r.net {
        w.fd(Some(fd));
    }
    w.fd(r.status.as_ref());
    w.u64(r.began);
    w.fd(Some(lock));
    w.bool(delay.is_some());
    w.u64(delay.map_or(0, |d| d.as_millis() as u64));
    w.bool(exited);
}

fn load(r: &mut Reader) -> Result<Parked> {
    let gone = || EngineError::Runtime("a handed-over descriptor is missing".into());
    let pid = r.u64()? as i32;
    let serving = r.option(|r| {
        let pidfd = r.fd()?.ok_or_else(gone)?;
        Ok((Server::load(r)?, pidfd))
    })?;
    let health = r.option(HealthChild::load)?;
    let mut net = Vec::new();
    for _ in 0..r.u64()? {
        net.extend(r.fd()?);
    }
    let status = r.file()?;
    let began = r.u64()?;
    let lock = r.file()?.ok_or_else(gone)?;
    let has_delay = r.bool()?;
    let ms = r.u64()?;
    Ok(Parked {
        running: Running {
            pid,
            serving,
            health,
            net,
            status,
            began,
        },
        lock,
        delay: has_delay.then(|| Duration::from_millis(ms)),
        exited: r.bool()?,
    })
}

/// The relay binary the spawner found beside the berth binary (see [`relay_beside`]).
pub fn relay_exe() -> Option<PathBuf> {
    std::env::var_os(RELAY_ENV)
        .map(PathBuf::from)
        .filter(|p| p.is_file())
}

/// `berth-relay` in the directory of the berth binary `exe`, when it is there.
pub fn relay_beside(exe: &Path) -> Option<PathBuf> {
    let p = exe.parent()?.join(RELAY_NAME);
    p.is_file().then_some(p)
}

fn cstrings(args: &[&[u8]]) -> Vec<CString> {
    args.iter()
        .filter_map(|a| CString::new(a.to_vec()).ok())
        .collect()
}

fn environment() -> Vec<CString> {
    std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.into_encoded_bytes();
            kv.push(b'=');
            kv.extend(v.into_encoded_bytes());
            CString::new(kv).ok()
        })
        .collect()
}

/// Executes the relay binary with the monitor's state. Returns only when that failed, with
/// every descriptor as it was: the monitor then goes on in-process.
pub fn to_relay(
    layout: &Layout,
    id: &str,
    relay: &Path,
    running: &Running,
    lock: &FileLock,
    delay: Option<Duration>,
) -> EngineError {
    let sealed_relay = match super::seal::sealed_fd(relay) {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    // The berth binary to come back to: this process's own (sealed) executable.
    let berth = match nix::fcntl::open(
        "/proc/self/exe",
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    ) {
        // SAFETY: open returned a new descriptor nothing else owns.
        Ok(raw) => unsafe { OwnedFd::from_raw_fd(raw) },
        Err(e) => return EngineError::io("cannot open the monitor's binary", e.into()),
    };
    let mut w = Writer::default();
    w.fd(Some(&berth));
    save(&mut w, running, lock, delay, false);
    let state = match w.into_memfd() {
        Ok(s) => s,
        Err(e) => return e,
    };
    let how = format!("{FORMAT}:{}", state.file.as_raw_fd());
    let root = layout.root().as_os_str().as_encoded_bytes();
    let args = cstrings(&[
        RELAY_NAME.as_bytes(),
        b"--root",
        root,
        b"monitor",
        b"--relay",
        how.as_bytes(),
        id.as_bytes(),
    ]);
    super::debug_log("handing over to the relay binary");
    let err = nix::unistd::fexecve(sealed_relay.as_raw_fd(), &args, &environment()).err();
    state.restore();
    EngineError::Runtime(format!(
        "cannot execute the relay binary {}: {}",
        relay.display(),
        err.map(|e| e.desc()).unwrap_or("unknown error")
    ))
}

/// The arguments of `berth-relay` (`--root R monitor --relay FORMAT:FD ID`): root, format,
/// state descriptor, id.
fn relay_args() -> Option<(String, String, i32, String)> {
    let args: Vec<String> = std::env::args().collect();
    let at = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let root = at("--root")?;
    let (format, fd) = at("--relay")?
        .rsplit_once(':')
        .map(|(f, n)| (f.to_string(), n.to_string()))?;
    Some((root, format, fd.parse().ok()?, args.last()?.clone()))
}

/// Executes the berth binary (descriptor `berth`) as `berth --root ROOT monitor --resume FD
/// ID`, `FD` the state.
fn back_to_berth(berth: i32, root: &str, id: &str, state: i32) -> EngineError {
    let fd = state.to_string();
    let args = cstrings(&[
        b"berth",
        b"--root",
        root.as_bytes(),
        b"monitor",
        b"--resume",
        fd.as_bytes(),
        id.as_bytes(),
    ]);
    let err = nix::unistd::fexecve(berth, &args, &environment()).err();
    EngineError::Runtime(format!(
        "cannot execute the berth binary again: {}",
        err.map(|e| e.desc()).unwrap_or("unknown error")
    ))
}

/// The berth binary's descriptor, the first thing in a state (read in place: the state goes
/// back unread).
fn berth_of(state: i32) -> Option<i32> {
    let mut b = [0u8; 8];
    // SAFETY: pread writes at most 8 bytes into `b`, which lives on this frame.
    let n = unsafe { libc::pread(state, b.as_mut_ptr().cast(), 8, 0) };
    (n == 8)
        .then(|| u64::from_le_bytes(b))
        .filter(|v| *v > 0)
        .and_then(|v| i32::try_from(v - 1).ok())
}

/// `berth-relay`'s main: relays until the container exits, then hands back to berth.
pub fn relay_main() -> i32 {
    super::name_process(c"berth-relay");
    // SAFETY: ignoring SIGPIPE is async-signal-safe and we are single-threaded (it is ignored
    // already: the disposition crossed the exec).
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let Some((root, format, fd, id)) = relay_args() else {
        eprintln!("berth-relay is started by berth's container monitor, not by hand");
        return 125;
    };
    let fail = |e: EngineError| {
        super::debug_log(&format!("relay of {id}: {e}"));
        125
    };
    if format != FORMAT {
        // Another build's state: the berth binary that wrote it goes on in-process.
        let Some(berth) = berth_of(fd) else {
            return fail(EngineError::Runtime("no berth binary in the state".into()));
        };
        return fail(back_to_berth(berth, &root, &id, fd));
    }
    let (berth, mut parked) = match Reader::from_fd(fd).and_then(|mut r| {
        let berth = r
            .fd()?
            .ok_or_else(|| EngineError::Runtime("no berth binary in the state".into()))?;
        Ok((berth, load(&mut r)?))
    }) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    crate::engine::trace::phase("relay: serving");
    // Buffers of a read's size (the 64 KiB read buffer, a client's frame) are mapped and
    // unmapped rather than left in the heap, and free heap goes back to the kernel early.
    // SAFETY: mallopt only sets allocator parameters; single-threaded, before any allocation
    // that these thresholds concern.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 * 1024);
    }
    if let Some((server, pidfd)) = parked.running.serving.as_mut() {
        // A rotation's file calls fault in code the loop does not run: given back after each.
        if let Some(log) = server.log_mut() {
            log.after_rotate(super::trim::drop_clean_file_pages);
        }
        // Whatever start-up touched is given back; the loop faults in only what it runs.
        // SAFETY: malloc_trim only returns free heap memory to the kernel.
        unsafe {
            libc::malloc_trim(0);
        }
        super::trim::drop_unused_stack();
        relay_loop(server, pidfd);
    }
    let mut w = Writer::default();
    w.fd(Some(&berth));
    save(&mut w, &parked.running, &parked.lock, parked.delay, true);
    let e = match w.into_memfd() {
        Ok(state) => back_to_berth(berth.as_raw_fd(), &root, &id, state.file.as_raw_fd()),
        Err(e) => e,
    };
    fail(e)
}

/// Drops the clean file pages, then relays until the container exits: in the relay's own
/// section (see `super::rawsys`), so that nothing outside the loop's pages runs after the drop.
#[inline(never)]
#[link_section = ".berth_relay"]
fn relay_loop(server: &mut Server, pidfd: &OwnedFd) {
    server.prepare();
    super::trim::drop_clean_file_pages();
    while let Ok(Ran::Paused) = server.run(pidfd, DRAIN) {}
}

/// `berth monitor --resume FD ID`: the state a relay handed back.
pub fn resume(fd: i32) -> Result<Parked> {
    let mut r = Reader::from_fd(fd)?;
    // The berth binary's descriptor: this process runs it.
    drop(r.fd()?);
    load(&mut r)
}
