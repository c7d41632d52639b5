//! The executor of an exec's process. libcontainer's tenant builder keeps the container's
//! namespaces, cgroup and capabilities but not its seccomp filter, so this executor installs the
//! filter itself right before `execvp`: the process starts with CAP_SYS_ADMIN (loading a filter
//! without no_new_privs needs it) and CAP_SETPCAP (dropping bounding capabilities needs it), and
//! drops both, down to the container's own set, once the filter is in place.

use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use oci_spec::runtime::{Capability, LinuxCapabilities, LinuxSeccomp, Spec};

use crate::engine::monitor::executor::BerthExecutor;

/// Installs `seccomp`, drops to `capabilities`, then runs the command like [`BerthExecutor`].
#[derive(Clone)]
pub struct ExecExecutor {
    pub seccomp: Option<LinuxSeccomp>,
    pub capabilities: Option<LinuxCapabilities>,
    /// With a tty: the socket the terminal's master goes to (see [`BerthExecutor`]).
    pub console: Option<std::os::fd::RawFd>,
    /// Where to tell the monitor why the command cannot run (see [`BerthExecutor`]).
    pub verdict: Option<std::os::fd::RawFd>,
}

/// `caps` with CAP_SYS_ADMIN and CAP_SETPCAP added to the bounding, effective and permitted sets.
pub fn with_setup_caps(caps: &LinuxCapabilities) -> LinuxCapabilities {
    let mut out = caps.clone();
    let add = |set: Option<std::collections::HashSet<Capability>>| {
        let mut s = set.unwrap_or_default();
        s.insert(Capability::SysAdmin);
        s.insert(Capability::Setpcap);
        Some(s)
    };
    out.set_bounding(add(caps.bounding().clone()));
    out.set_effective(add(caps.effective().clone()));
    out.set_permitted(add(caps.permitted().clone()));
    out
}

impl Executor for ExecExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        if let Some(filter) = &self.seccomp {
            libcontainer::seccomp::initialize_seccomp(filter).map_err(|e| {
                ExecutorError::Other(format!(
                    "cannot install the container's seccomp filter: {e}"
                ))
            })?;
            if let Some(caps) = &self.capabilities {
                let syscall = libcontainer::syscall::syscall::create_syscall();
                libcontainer::capabilities::drop_privileges(caps, syscall.as_ref())
                    .map_err(|e| ExecutorError::Other(format!("cannot drop capabilities: {e}")))?;
            }
        }
        BerthExecutor {
            console: None,
            verdict: self.verdict,
        }
        .exec(spec)
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        BerthExecutor {
            console: self.console,
            verdict: self.verdict,
        }
        .validate(spec)
    }
}
