//! The byte format a monitor's state crosses an `exec` in (see [`super::handover`]): numbers,
//! byte strings and descriptors, written in order into a memfd whose number goes on the new
//! program's command line, and read back in the same order. A descriptor travels as its number:
//! writing it clears its close-on-exec flag (so the exec keeps it), reading it takes ownership
//! and sets the flag again (so nothing the process starts later inherits it).

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::engine::error::{EngineError, Result};

/// The state being written.
#[derive(Default)]
pub struct Writer {
    bytes: Vec<u8>,
    /// Every descriptor written, to set close-on-exec again if the exec fails.
    fds: Vec<RawFd>,
}

fn set_cloexec(fd: RawFd, on: bool) -> bool {
    // SAFETY: F_GETFD/F_SETFD only change the descriptor flags of `fd`.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags < 0 {
            return false;
        }
        let flags = if on {
            flags | libc::FD_CLOEXEC
        } else {
            flags & !libc::FD_CLOEXEC
        };
        libc::fcntl(fd, libc::F_SETFD, flags) == 0
    }
}

impl Writer {
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn bool(&mut self, v: bool) {
        self.u64(u64::from(v));
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.bytes.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// A descriptor that must stay open across the exec (or its absence).
    pub fn fd(&mut self, fd: Option<&impl AsRawFd>) {
        match fd {
            Some(f) => {
                let raw = f.as_raw_fd();
                set_cloexec(raw, false);
                self.fds.push(raw);
                self.u64(raw as u64 + 1);
            }
            None => self.u64(0),
        }
    }

    /// The written state in a new memfd (close-on-exec cleared: it crosses the exec too).
    pub fn into_memfd(self) -> Result<Sealed> {
        let name = c"berth-monitor-state";
        // SAFETY: memfd_create takes a NUL-terminated name and flags; returns a new descriptor.
        let raw = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            let e = std::io::Error::last_os_error();
            self.restore();
            return Err(EngineError::io("cannot create the monitor's state file", e));
        }
        // SAFETY: memfd_create returned a new descriptor nothing else owns.
        let mut file = unsafe { File::from_raw_fd(raw) };
        if let Err(e) = file.write_all(&self.bytes) {
            self.restore();
            return Err(EngineError::io("cannot write the monitor's state file", e));
        }
        set_cloexec(raw, false);
        Ok(Sealed {
            file,
            fds: self.fds,
        })
    }

    fn restore(&self) {
        for &fd in &self.fds {
            set_cloexec(fd, true);
        }
    }
}

/// The written state, ready to cross an exec.
pub struct Sealed {
    pub file: File,
    fds: Vec<RawFd>,
}

impl Sealed {
    /// After a failed exec: the descriptors are this process's again, close-on-exec.
    pub fn restore(self) {
        for &fd in &self.fds {
            set_cloexec(fd, true);
        }
    }
}

/// The state being read, in the order it was written.
pub struct Reader {
    bytes: Vec<u8>,
    at: usize,
}

fn short() -> EngineError {
    EngineError::Runtime("the monitor's handed-over state is truncated".into())
}

impl Reader {
    /// Reads the whole state from descriptor `fd` (inherited) and closes it.
    pub fn from_fd(fd: RawFd) -> Result<Reader> {
        if !super::relay::fd_is_open(fd) {
            return Err(EngineError::Runtime(format!(
                "the monitor's state descriptor {fd} is not open"
            )));
        }
        // SAFETY: the descriptor is open and was handed to this process for its sole use.
        let mut file = unsafe { File::from_raw_fd(fd) };
        let mut bytes = Vec::new();
        file.rewind()
            .and_then(|_| file.read_to_end(&mut bytes))
            .map_err(|e| EngineError::io("cannot read the monitor's state file", e))?;
        Ok(Reader { bytes, at: 0 })
    }

    pub fn u64(&mut self) -> Result<u64> {
        let end = self.at + 8;
        let b = self.bytes.get(self.at..end).ok_or_else(short)?;
        self.at = end;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| short())?))
    }

    /// A value written after a flag ([`Writer::bool`]) saying whether it is there.
    pub fn option<T>(&mut self, f: impl FnOnce(&mut Reader) -> Result<T>) -> Result<Option<T>> {
        if self.bool()? {
            f(self).map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn bool(&mut self) -> Result<bool> {
        Ok(self.u64()? != 0)
    }

    pub fn bytes(&mut self) -> Result<Vec<u8>> {
        let len = usize::try_from(self.u64()?).map_err(|_| short())?;
        let end = self.at.checked_add(len).ok_or_else(short)?;
        let b = self.bytes.get(self.at..end).ok_or_else(short)?.to_vec();
        self.at = end;
        Ok(b)
    }

    pub fn string(&mut self) -> Result<String> {
        String::from_utf8(self.bytes()?).map_err(|_| short())
    }

    /// A descriptor written with [`Writer::fd`], now owned (close-on-exec again).
    pub fn fd(&mut self) -> Result<Option<OwnedFd>> {
        let v = self.u64()?;
        if v == 0 {
            return Ok(None);
        }
        let raw = RawFd::try_from(v - 1).map_err(|_| short())?;
        if !set_cloexec(raw, true) {
            return Err(EngineError::Runtime(format!(
                "the monitor's handed-over descriptor {raw} is not open"
            )));
        }
        // SAFETY: the descriptor is open (F_SETFD worked) and was handed over for our sole use;
        // the state names each descriptor once.
        Ok(Some(unsafe { OwnedFd::from_raw_fd(raw) }))
    }

    pub fn file(&mut self) -> Result<Option<File>> {
        Ok(self.fd()?.map(File::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::IntoRawFd;

    #[test]
    fn values_and_descriptors_round_trip() {
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let mut out = Writer::default();
        out.u64(7);
        out.bytes(b"abc");
        out.fd(Some(&w));
        out.fd(None::<&OwnedFd>);
        out.str("end");
        let sealed = out.into_memfd().unwrap();
        // SAFETY: F_GETFD only reads the descriptor flags.
        assert_eq!(unsafe { libc::fcntl(w.as_raw_fd(), libc::F_GETFD) } & 1, 0);
        let raw_w = w.into_raw_fd();
        let mut input = Reader::from_fd(sealed.file.into_raw_fd()).unwrap();
        assert_eq!(input.u64().unwrap(), 7);
        assert_eq!(input.bytes().unwrap(), b"abc");
        let w = File::from(input.fd().unwrap().unwrap());
        assert_eq!(w.as_raw_fd(), raw_w);
        // SAFETY: as above.
        assert_eq!(unsafe { libc::fcntl(raw_w, libc::F_GETFD) } & 1, 1);
        assert!(input.fd().unwrap().is_none());
        assert_eq!(input.string().unwrap(), "end");
        assert!(input.u64().is_err(), "reading past the end fails");
        (&w).write_all(b"x").unwrap();
        let mut got = [0u8; 1];
        File::from(r).read_exact(&mut got).unwrap();
        assert_eq!(&got, b"x");
    }
}
