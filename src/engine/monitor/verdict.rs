//! Why the container's command cannot run, told by the container's init process to its
//! monitor. The init process (a clone of the monitor) reports a failure to libcontainer only as
//! text; before that, [`super::executor::BerthExecutor`] writes Docker's exit code for the
//! failure (126 cannot invoke, 127 not found) as one byte to this pipe, so the monitor knows the
//! kind of failure without reading the message.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::fcntl::OFlag;

use crate::engine::error::EngineError;

/// A command that cannot run: Docker's exit code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// 127 when the command does not exist, 126 when it cannot be invoked.
    pub code: i32,
    /// Docker's wording (`exec: "x": executable file not found in $PATH`).
    pub message: String,
}

impl CommandError {
    /// The command does not exist (127).
    pub fn not_found(message: String) -> Self {
        CommandError { code: 127, message }
    }

    /// The command exists but cannot be invoked (126).
    pub fn not_executable(message: String) -> Self {
        CommandError { code: 126, message }
    }
}

impl From<CommandError> for EngineError {
    fn from(e: CommandError) -> Self {
        EngineError::command(e.code, e.message)
    }
}

/// The pipe: the monitor keeps the read end, the init process writes to the other.
pub struct Verdict {
    read: File,
    write: OwnedFd,
}

impl Verdict {
    /// A new pipe (close-on-exec, so the container's command never holds it; non-blocking).
    pub fn new() -> std::io::Result<Verdict> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        Ok(Verdict {
            read: File::from(read),
            write,
        })
    }

    /// The descriptor the executor writes to.
    pub fn write_fd(&self) -> RawFd {
        self.write.as_raw_fd()
    }

    /// The code written so far, if any.
    pub fn code(&mut self) -> Option<i32> {
        let mut b = [0u8; 1];
        match self.read.read(&mut b) {
            Ok(1) => Some(i32::from(b[0])),
            _ => None,
        }
    }

    /// `err` as the failure the executor reported: [`EngineError::NotExecutable`] or
    /// [`EngineError::CommandNotFound`] when it wrote a code, else `otherwise`.
    pub fn classify(
        &mut self,
        message: String,
        otherwise: fn(String) -> EngineError,
    ) -> EngineError {
        match self.code() {
            Some(code) => EngineError::command(code, message),
            None => otherwise(message),
        }
    }
}

/// Writes `code` to `fd` (from the init process; one write(2), never blocks).
pub fn tell(fd: Option<RawFd>, code: i32) {
    if let Some(fd) = fd {
        let b = [code as u8];
        // SAFETY: writes one byte from a live buffer to a descriptor the monitor keeps open
        // until `build` returned.
        unsafe {
            libc::write(fd, b.as_ptr().cast(), 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_told_makes_the_kind() {
        let mut v = Verdict::new().unwrap();
        assert_eq!(v.code(), None);
        let e = v.classify("x".into(), EngineError::Runtime);
        assert!(e.is(crate::engine::ErrorKind::Runtime));
        tell(Some(v.write_fd()), 127);
        let e = v.classify("exec: \"x\": not found".into(), EngineError::Runtime);
        assert!(e.is(crate::engine::ErrorKind::CommandNotFound), "{e:?}");
        assert_eq!(e.exit_code(), 127);
        tell(Some(v.write_fd()), 126);
        assert_eq!(v.code(), Some(126));
    }
}
