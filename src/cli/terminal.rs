//! The local terminal of an interactive session: raw mode that is undone on every way out
//! (return, error, panic), window-size changes (SIGWINCH) as a pollable pipe, and the detach
//! key sequence (Docker's `--detach-keys`, default ctrl-p,ctrl-q).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Once};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::termios::{self, SetArg, Termios};

use crate::engine::EngineError;

/// Docker's default detach keys.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// Whether `fd` is a terminal.
pub fn is_tty(fd: BorrowedFd<'_>) -> bool {
    nix::unistd::isatty(fd.as_raw_fd()).unwrap_or(false)
}

/// The window size of the terminal on `fd` (rows, cols), if it is one.
pub fn window_size(fd: BorrowedFd<'_>) -> Option<(u16, u16)> {
    // SAFETY: winsize is a plain C struct; all-zero bytes are valid.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes a winsize into `ws`, which outlives the call.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_row > 0 && ws.ws_col > 0).then_some((ws.ws_row, ws.ws_col))
}

/// The settings to restore if the process panics while a terminal is raw.
static SAVED: Mutex<Option<(RawFd, Termios)>> = Mutex::new(None);
static HOOK: Once = Once::new();

fn restore_saved() {
    if let Ok(mut saved) = SAVED.lock() {
        if let Some((fd, t)) = saved.take() {
            // SAFETY: the fd is stdin, open for the whole process.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            let _ = termios::tcsetattr(fd, SetArg::TCSANOW, &t);
        }
    }
}

/// Raw mode on a terminal for as long as the guard lives.
pub struct RawGuard {
    fd: RawFd,
    original: Termios,
}

impl RawGuard {
    /// Puts the terminal on `fd` (stdin) into raw mode.
    pub fn enter(fd: BorrowedFd<'_>) -> Result<RawGuard, EngineError> {
        let original = termios::tcgetattr(fd)
            .map_err(|e| EngineError::io("cannot read the terminal settings", e.into()))?;
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore_saved();
                previous(info);
            }));
        });
        if let Ok(mut saved) = SAVED.lock() {
            *saved = Some((fd.as_raw_fd(), original.clone()));
        }
        let mut raw = original.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(fd, SetArg::TCSANOW, &raw)
            .map_err(|e| EngineError::io("cannot put the terminal into raw mode", e.into()))?;
        Ok(RawGuard {
            fd: fd.as_raw_fd(),
            original,
        })
    }
}

impl Drop for RawGuard {
    fn drop(&mut self) {
        // SAFETY: the fd is stdin, open for the whole process.
        let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
        let _ = termios::tcsetattr(fd, SetArg::TCSANOW, &self.original);
        if let Ok(mut saved) = SAVED.lock() {
            *saved = None;
        }
    }
}

/// Write end of the SIGWINCH pipe, for the signal handler (-1 when none).
static WINCH_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_winch(_: libc::c_int) {
    let fd = WINCH_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe; a full pipe just drops the byte.
        unsafe {
            libc::write(fd, b"w".as_ptr().cast(), 1);
        }
    }
}

/// Window-size changes as a readable pipe, while the watcher lives.
pub struct WinchWatcher {
    read: OwnedFd,
    write: OwnedFd,
    previous: SigAction,
}

impl WinchWatcher {
    /// Installs the SIGWINCH handler.
    pub fn install() -> Result<WinchWatcher, EngineError> {
        use nix::fcntl::OFlag;
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
            .map_err(|e| EngineError::io("cannot create a pipe", e.into()))?;
        WINCH_FD.store(write.as_raw_fd(), Ordering::Relaxed);
        let action = SigAction::new(
            SigHandler::Handler(on_winch),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        // SAFETY: the handler only calls write(2) on a descriptor that stays open while the
        // handler is installed (it is reset in Drop before the pipe closes).
        let previous = unsafe { sigaction(Signal::SIGWINCH, &action) }
            .map_err(|e| EngineError::io("cannot watch the window size", e.into()))?;
        Ok(WinchWatcher {
            read,
            write,
            previous,
        })
    }

    /// The descriptor to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// Empties the pipe after it polled readable.
    pub fn drain(&self) {
        let mut buf = [0u8; 64];
        while matches!(nix::unistd::read(self.read.as_raw_fd(), &mut buf), Ok(n) if n > 0) {}
    }
}

impl Drop for WinchWatcher {
    fn drop(&mut self) {
        // SAFETY: restoring the handler that was installed before ours.
        let _ = unsafe { sigaction(Signal::SIGWINCH, &self.previous) };
        WINCH_FD.store(-1, Ordering::Relaxed);
        let _ = &self.write;
    }
}

/// Parses Docker's detach keys: comma-separated `ctrl-<c>` (c in a-z, @, [, \, ], ^, _) or
/// single characters.
pub fn parse_detach_keys(spec: &str) -> Result<Vec<u8>, EngineError> {
    let bad = |part: &str| {
        EngineError::InvalidInput(format!(
            "invalid detach key {part:?} in {spec:?}: use a comma-separated list of ctrl-<a-z@[\\]^_> \
             or single characters, e.g. ctrl-p,ctrl-q"
        ))
    };
    let mut keys = Vec::new();
    for part in spec.split(',') {
        let key = if let Some(c) = part.strip_prefix("ctrl-") {
            let mut chars = c.chars();
            match (chars.next(), chars.next()) {
                (Some(ch @ 'a'..='z'), None) => ch as u8 - b'a' + 1,
                (Some(ch @ ('@' | '[' | '\\' | ']' | '^' | '_')), None) => ch as u8 - b'@',
                _ => return Err(bad(part)),
            }
        } else {
            let mut chars = part.chars();
            match (chars.next(), chars.next()) {
                (Some(ch), None) if ch.is_ascii() && !ch.is_ascii_control() => ch as u8,
                _ => return Err(bad(part)),
            }
        };
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(bad(spec));
    }
    Ok(keys)
}

/// Watches typed bytes for the detach sequence; bytes of a partial match are held back until
/// the match fails (then they are passed on, like Docker).
pub struct DetachDetector {
    keys: Vec<u8>,
    matched: usize,
}

impl DetachDetector {
    pub fn new(keys: Vec<u8>) -> DetachDetector {
        DetachDetector { keys, matched: 0 }
    }

    /// Feeds typed bytes; returns the bytes to send on and whether the sequence completed.
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if self.keys.is_empty() {
                out.push(b);
                continue;
            }
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return (out, true);
                }
                continue;
            }
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    self.matched = 0;
                    return (out, true);
                }
            } else {
                out.push(b);
            }
        }
        (out, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_like_docker() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(
            parse_detach_keys("ctrl-@,ctrl-_,a").unwrap(),
            vec![0, 31, b'a']
        );
        assert_eq!(parse_detach_keys("ctrl-\\").unwrap(), vec![28]);
        for bad in ["", "ctrl-", "ctrl-pp", "ctrl-1", "ab", "ctrl-p,,ctrl-q"] {
            let e = parse_detach_keys(bad).unwrap_err().to_string();
            assert!(e.contains("invalid detach key"), "{bad}: {e}");
        }
    }

    #[test]
    fn detector_holds_partial_matches_and_passes_them_on() {
        let mut d = DetachDetector::new(vec![16, 17]);
        assert_eq!(d.feed(b"ab"), (b"ab".to_vec(), false));
        assert_eq!(d.feed(&[16]), (vec![], false));
        assert_eq!(d.feed(b"x"), (vec![16, b'x'], false));
        assert_eq!(d.feed(&[16, 16]), (vec![16], false));
        assert_eq!(d.feed(&[17, b'z']), (vec![], true));
        let mut single = DetachDetector::new(vec![b'~']);
        assert_eq!(single.feed(b"a~b"), (b"a".to_vec(), true));
    }

    #[test]
    fn raw_mode_is_undone_by_drop() {
        let pty = nix::pty::openpty(None, None).unwrap();
        let slave = pty.slave.as_fd();
        let before = termios::tcgetattr(slave).unwrap();
        assert!(before.local_flags.contains(termios::LocalFlags::ICANON));
        {
            let _g = RawGuard::enter(slave).unwrap();
            let raw = termios::tcgetattr(slave).unwrap();
            assert!(!raw.local_flags.contains(termios::LocalFlags::ICANON));
        }
        let after = termios::tcgetattr(slave).unwrap();
        assert_eq!(after.local_flags, before.local_flags);
        assert!(SAVED.lock().unwrap().is_none());
    }
}
