//! The monitor a `run` starts before its container exists ([`super::spawn::prespawn`]). The
//! spawner's side: kept here, per process, until the container's start hands it the id, or
//! discarded; launched on a thread of its own, so the caller does not wait for its fork and
//! exec. The monitor's side: [`receive_id`].

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use super::spawn::MonitorChild;
use crate::engine::error::Result;

/// The launch's outcome: the monitor and the write end of its fd 7 (the container's id, then
/// the end of file).
pub(super) type Launch = JoinHandle<Result<(MonitorChild, File)>>;

struct Pending {
    root: PathBuf,
    attach: bool,
    launch: Launch,
}

/// The launched monitor, once its launch is over; `None` if it failed.
fn launched(p: Pending) -> Option<(MonitorChild, File)> {
    match p.launch.join() {
        Ok(Ok(m)) => Some(m),
        Ok(Err(e)) => {
            tracing::debug!("the prespawned monitor did not start: {e}");
            None
        }
        Err(_) => None,
    }
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

fn slot() -> std::sync::MutexGuard<'static, Option<Pending>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

fn absolute(root: &Path) -> PathBuf {
    std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf())
}

pub(super) fn keep(root: &Path, attach: bool, launch: Launch) {
    let old = slot().replace(Pending {
        root: absolute(root),
        attach,
        launch,
    });
    if let Some((child, go)) = old.and_then(launched) {
        let_go(child, go);
    }
}

/// The prespawned monitor for `root` and `attach`, told to run container `id`; `None` when
/// there is none (or it is gone: the caller spawns one).
pub(super) fn hand(root: &Path, attach: bool, id: &str) -> Option<MonitorChild> {
    let mut guard = slot();
    let fits = guard
        .as_ref()
        .is_some_and(|p| p.attach == attach && p.root == absolute(root));
    if !fits {
        return None;
    }
    let p = guard.take()?;
    drop(guard);
    let (child, mut go) = launched(p)?;
    match go.write_all(format!("{id}\n").as_bytes()) {
        Ok(()) => Some(child),
        Err(_) => {
            let_go(child, go);
            None
        }
    }
}

pub(super) fn discard() {
    let p = slot().take();
    if let Some((child, go)) = p.and_then(launched) {
        let_go(child, go);
    }
}

/// Closes the monitor's fd 7 without an id (it exits) and waits for its exit.
fn let_go(mut child: MonitorChild, go: File) {
    drop(go);
    if !child.wait_gone(Duration::from_secs(2)) {
        tracing::warn!("a prespawned container monitor did not exit when let go");
    }
}

/// In the prespawned monitor: its container's id from fd 7, shown from then on in its command
/// line in place of the placeholder; `None` when it was let go.
pub(super) fn receive_id() -> Option<String> {
    let id = read_id()?;
    show_in_command_line(super::spawn::PENDING_ID, &id);
    Some(id)
}

/// A prespawned monitor's container id: one line on fd 7, a full id (64 lowercase hex digits).
/// `None` at the end of file, or for anything else: the spawner went away or let it go.
fn read_id() -> Option<String> {
    use std::io::Read;
    let mut go = super::relay::inherited(7)?;
    let mut buf = [0u8; 66];
    let mut len = 0;
    while len < buf.len() {
        match go.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if buf[..len].contains(&b'\n') {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    let line = std::str::from_utf8(&buf[..len]).ok()?.strip_suffix('\n')?;
    (line.len() == 64
        && line
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then(|| line.to_string())
}

/// Writes `id` over `placeholder` (of the same length) in this process's argument area, so that
/// `/proc/<pid>/cmdline` (ps, top, the tests' process scans) names the container.
fn show_in_command_line(placeholder: &str, id: &str) {
    if placeholder.len() != id.len() {
        return;
    }
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // After the command's name: field 3 onwards; arg_start and arg_end are fields 48 and 49.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (Some(Ok(start)), Some(Ok(end))) = (
        fields.get(45).map(|f| f.parse::<usize>()),
        fields.get(46).map(|f| f.parse::<usize>()),
    ) else {
        return;
    };
    if start == 0 || end <= start || end - start > 1 << 20 {
        return;
    }
    // SAFETY: [arg_start, arg_end) is this process's argument area, on its own stack: mapped,
    // writable, and nothing holds a Rust reference to it (std reads argv through raw pointers).
    // Only the placeholder's bytes are replaced, by as many bytes, NULs untouched.
    let area = unsafe { std::slice::from_raw_parts_mut(start as *mut u8, end - start) };
    let needle = placeholder.as_bytes();
    if let Some(at) = area
        .windows(needle.len() + 1)
        .position(|w| &w[..needle.len()] == needle && w[needle.len()] == 0)
    {
        area[at..at + needle.len()].copy_from_slice(id.as_bytes());
    }
}
