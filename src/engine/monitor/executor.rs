//! The workload executor handed to libcontainer. Its `validate` runs inside the container (after
//! pivot_root, before the container is reported created) and refuses a command that cannot run
//! with Docker's wording, so `start` fails synchronously with 127 (not found) or 126 (cannot
//! invoke) instead of the process dying later. With a tty it then makes the container's
//! terminal ([`super::console`]). The kind of failure reaches the monitor through
//! [`super::verdict`], not through the message.

use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use oci_spec::runtime::Spec;

use super::verdict::{self, CommandError};

/// Runs the spec's `process.args` with `execvp`.
#[derive(Clone, Default)]
pub struct BerthExecutor {
    /// With a tty: the socket on which [`super::console::setup`] sends the terminal's master.
    pub console: Option<std::os::fd::RawFd>,
    /// Where to tell the monitor why the command cannot run ([`super::verdict::Verdict`]).
    pub verdict: Option<std::os::fd::RawFd>,
}

fn args(spec: &Spec) -> Option<&Vec<String>> {
    spec.process().as_ref().and_then(|p| p.args().as_ref())
}

fn search_path(spec: &Spec) -> String {
    spec.process()
        .as_ref()
        .and_then(|p| p.env().as_ref())
        .and_then(|env| env.iter().find_map(|e| e.strip_prefix("PATH=")))
        .unwrap_or(crate::engine::runtime::DEFAULT_PATH)
        .to_string()
}

/// Finds `cmd` like execvp would; the error is Docker's code and message.
pub fn lookup(cmd: &str, path_var: &str) -> Result<PathBuf, CommandError> {
    if cmd.contains('/') {
        let p = Path::new(cmd);
        return match std::fs::metadata(p) {
            Ok(m) => check(p, &m).map(|_| p.to_path_buf()),
            Err(_) => Err(CommandError::not_found(format!(
                "exec: \"{cmd}\": stat {cmd}: no such file or directory"
            ))),
        };
    }
    for dir in path_var.split(':').filter(|d| !d.is_empty()) {
        let p = Path::new(dir).join(cmd);
        if let Ok(m) = std::fs::metadata(&p) {
            if m.is_file() && m.permissions().mode() & 0o111 != 0 {
                return Ok(p);
            }
        }
    }
    Err(CommandError::not_found(format!(
        "exec: \"{cmd}\": executable file not found in $PATH"
    )))
}

fn check(p: &Path, m: &std::fs::Metadata) -> Result<(), CommandError> {
    if m.is_dir() {
        return Err(CommandError::not_executable(format!(
            "exec: \"{}\": is a directory",
            p.display()
        )));
    }
    if m.permissions().mode() & 0o111 == 0 {
        return Err(CommandError::not_executable(format!(
            "exec: \"{}\": permission denied",
            p.display()
        )));
    }
    Ok(())
}

/// Every signal back to its default action: an ignored signal stays ignored across `exec`, and
/// the monitor ignores SIGPIPE (a client that went away must not kill it), as whatever started
/// berth may ignore others. A container's process starts as docker's do, with none ignored
/// (`yes | head` ends: `yes` dies of SIGPIPE instead of spinning on EPIPE).
fn default_signals() {
    /// The kernel's `struct sigaction` for `rt_sigaction` (libc's `signal` refuses the
    /// real-time signals glibc keeps for itself, which may be ignored too).
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: u64,
        restorer: usize,
        mask: u64,
    }
    let dfl = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    for sig in 1..=64 {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            // SAFETY: rt_sigaction reads the struct on this frame (the kernel's layout, 8-byte
            // mask) and writes nothing back (null old action); this runs in the container's
            // init, single-threaded, right before its exec.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    &dfl as *const KernelSigaction,
                    std::ptr::null_mut::<KernelSigaction>(),
                    8usize,
                );
            }
        }
    }
}

impl Executor for BerthExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        let args = args(spec).ok_or(ExecutorError::InvalidArg)?;
        let cargs: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_bytes()).map_err(|_| ExecutorError::InvalidArg))
            .collect::<Result<_, _>>()?;
        let first = cargs.first().ok_or(ExecutorError::InvalidArg)?;
        default_signals();
        let err = nix::unistd::execvp(first, &cargs).err();
        let message = format!(
            "exec: \"{}\": {}",
            args[0],
            err.map(|e| e.desc().to_lowercase()).unwrap_or_default()
        );
        Err(ExecutorError::Other(message))
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        let args = args(spec).ok_or_else(|| {
            ExecutorValidationError::ArgValidationError("no command specified".into())
        })?;
        let cmd = args.first().ok_or_else(|| {
            ExecutorValidationError::ArgValidationError("no command specified".into())
        })?;
        lookup(cmd, &search_path(spec)).map_err(|e| {
            verdict::tell(self.verdict, e.code);
            ExecutorValidationError::ArgValidationError(e.message)
        })?;
        // Before the start signal, so that the monitor has the terminal when `build` returns.
        if let Some(socket) = self.console {
            super::console::setup(socket).map_err(ExecutorValidationError::ArgValidationError)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_gives_docker_messages_and_codes() {
        let e = lookup("no-such-cmd-xyz", "/bin:/usr/bin").unwrap_err();
        assert_eq!(
            e.message,
            "exec: \"no-such-cmd-xyz\": executable file not found in $PATH"
        );
        assert_eq!(e.code, 127);
        assert_eq!(lookup("/nonexistent/x", "/bin").unwrap_err().code, 127);
        assert_eq!(lookup("/etc", "/bin").unwrap_err().code, 126);
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let e = lookup(plain.to_str().unwrap(), "/bin").unwrap_err();
        assert!(e.message.contains("permission denied"), "{e:?}");
        assert_eq!(e.code, 126);
        assert!(lookup("sh", "/nonexistent:/bin").is_ok());
    }
}
