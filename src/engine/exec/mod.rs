//! `exec`: a new process in a running container. It joins every namespace and the cgroup of the
//! container (libcontainer's tenant builder) and runs under its own monitor (`berth monitor
//! --exec ID C`, fork + exec of the berth binary, see [`monitor`]), which relays its streams to
//! a client over the attach protocol and reports its exit code.
//!
//! The process is the container's own (`config.json`: capabilities, rlimits, seccomp, no new
//! privileges) with the exec's command, environment, working directory, user and terminal.

pub mod executor;
pub mod monitor;

pub use monitor::monitor_main;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxCapabilities, LinuxSeccomp, Process, Spec};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::engine::attach::socket::attach_dir;
use crate::engine::container::record::{ContainerRecord, Status};
use crate::engine::container::{reconcile, store};
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::monitor::protocol::MonitorMessage;
use crate::engine::monitor::spawn::MonitorChild;
use crate::engine::snapshot::Snapshot;
use crate::engine::{users, Engine, Layout};

/// What `exec` accepts (Docker's flags).
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// Command and arguments.
    pub cmd: Vec<String>,
    /// `-e K=V` (or `K` to copy the caller's value).
    pub env: Vec<String>,
    /// `-w DIR` (absolute).
    pub workdir: Option<String>,
    /// `-u USER[:GROUP]`, names resolved through the container's `/etc/passwd` and `/etc/group`.
    pub user: Option<String>,
    /// `-t`: a pty.
    pub tty: bool,
    /// `-i`: stdin from the client.
    pub interactive: bool,
}

/// What the exec monitor reads: `attach/exec-<id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecConfig {
    pub tty: bool,
    pub interactive: bool,
    /// The container's seccomp filter, installed by the exec's executor (libcontainer's tenant
    /// builder drops it).
    pub seccomp: Option<LinuxSeccomp>,
    /// The capabilities the process ends with (it starts with CAP_SYS_ADMIN and CAP_SETPCAP
    /// more, to install the seccomp filter, then drops them).
    pub capabilities: Option<LinuxCapabilities>,
}

/// Paths of an exec session's files in the container's attach directory.
pub struct ExecFiles {
    pub config: PathBuf,
    pub process: PathBuf,
}

impl ExecFiles {
    pub fn new(layout: &Layout, id: &str, exec_id: &str) -> ExecFiles {
        let dir = attach_dir(layout, id);
        ExecFiles {
            config: dir.join(format!("exec-{exec_id}.json")),
            process: dir.join(format!("exec-{exec_id}.process.json")),
        }
    }

    /// Removes the session's files (best effort).
    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.config);
        let _ = std::fs::remove_file(&self.process);
    }
}

/// Refuses anything but a running container, with Docker's reasons.
pub fn check_running(rec: &ContainerRecord) -> Result<()> {
    match rec.state.status {
        Status::Running => Ok(()),
        Status::Paused => Err(EngineError::InvalidState(format!(
            "container {} is paused: unpause it before exec",
            rec.name
        ))),
        s => Err(EngineError::InvalidState(format!(
            "container {} is not running (it is {}): start it before exec",
            rec.name,
            s.as_str()
        ))),
    }
}

/// A new exec session id (16 hex digits).
pub(crate) fn new_exec_id() -> String {
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The exec's process and config from the container's spec and the options.
pub fn build(
    rec: &ContainerRecord,
    spec: &Spec,
    rootfs: &std::path::Path,
    opts: &ExecOptions,
) -> Result<(Process, ExecConfig)> {
    if opts.cmd.is_empty() {
        return Err(EngineError::InvalidInput(
            "exec needs a command: berth exec [OPTIONS] CONTAINER COMMAND [ARG...]".into(),
        ));
    }
    if let Some(w) = &opts.workdir {
        if !w.starts_with('/') {
            return Err(EngineError::InvalidInput(format!(
                "the working directory {w:?} is invalid: it needs to be an absolute path"
            )));
        }
    }
    let base = spec.process().clone().ok_or_else(|| {
        EngineError::Runtime(format!("the runtime spec of {} has no process", rec.name))
    })?;
    let mut process = base.clone();
    let mut env = base.env().clone().unwrap_or_default();
    // TERM as docker sets it: xterm with -t, unless the container's own environment has one
    // (the container's TERM=xterm from its own -t does not carry over to an exec without -t).
    let term_set = |e: &String| e.starts_with("TERM=");
    if !rec.config.env.iter().any(term_set) {
        env.retain(|e| !term_set(e));
        if opts.tty {
            env.push("TERM=xterm".into());
        }
    }
    if let Some(u) = &opts.user {
        let user = users::resolve(rootfs, u)?;
        let mut oci_user = process.user().clone();
        oci_user.set_uid(user.uid);
        oci_user.set_gid(user.gid);
        oci_user.set_additional_gids(Some(user.additional_gids.clone()));
        process.set_user(oci_user);
        if !rec.config.env.iter().any(|e| e.starts_with("HOME=")) {
            env.retain(|e| !e.starts_with("HOME="));
            env.push(format!("HOME={}", user.home));
        }
    }
    process.set_env(Some(crate::engine::container::create::merge_env(
        &env, &opts.env,
    )?));
    process.set_args(Some(opts.cmd.clone()));
    if let Some(w) = &opts.workdir {
        process.set_cwd(w.into());
    }
    process.set_terminal(Some(opts.tty));
    process.set_console_size(None);
    let seccomp = spec.linux().as_ref().and_then(|l| l.seccomp().clone());
    let capabilities = base.capabilities().clone();
    if seccomp.is_some() {
        if let Some(caps) = &capabilities {
            process.set_capabilities(Some(executor::with_setup_caps(caps)));
        }
    }
    Ok((
        process,
        ExecConfig {
            tty: opts.tty,
            interactive: opts.interactive,
            seccomp,
            capabilities,
        },
    ))
}

/// Writes `value` as JSON to `path` (0600, via a temp file and rename).
pub(crate) fn write_json(path: &std::path::Path, value: &impl Serialize) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec(value).map_err(|e| {
        EngineError::caused(
            crate::engine::ErrorKind::Runtime,
            "cannot encode the exec config",
            e,
        )
    })?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .ctx("cannot create", &tmp)?;
    f.write_all(&bytes).ctx("cannot write", &tmp)?;
    std::fs::rename(&tmp, path).ctx("cannot rename", &tmp)
}

/// A started exec session.
pub struct ExecSession {
    pub exec_id: String,
    /// Host pid of the process.
    pub pid: i32,
    /// The exec monitor handle (its status pipe).
    pub monitor: MonitorChild,
}

/// The runtime spec the container in `dir` was started with (an exec runs with its mounts,
/// namespaces and limits).
pub(crate) fn load_spec(dir: &Path) -> Result<Spec> {
    let spec_path = dir.join("config.json");
    Spec::load(&spec_path).map_err(|e| {
        EngineError::Runtime(format!(
            "cannot read the runtime spec {}: {e}",
            spec_path.display()
        ))
    })
}

/// Starts `opts.cmd` in container `id` (a full id). With `client`, that socket is connected to
/// the session (stdin, output, resize, exit code); without, the process runs detached.
/// Blocks until the process runs or failed to start.
pub fn start(
    engine: &Engine,
    id: &str,
    opts: &ExecOptions,
    client: Option<OwnedFd>,
) -> Result<ExecSession> {
    let layout = engine.layout();
    let rec = reconcile::check(engine, store::load(engine.state(), id)?)?;
    check_running(&rec)?;
    let dir = layout.container_dir(id);
    let spec = load_spec(&dir)?;
    let (process, config) = build(&rec, &spec, &Snapshot::new(&dir).merged(), opts)?;
    let exec_id = new_exec_id();
    let files = ExecFiles::new(layout, id, &exec_id);
    // Docker's exec events name the command in the action.
    let exec_event = |what: &str| {
        crate::engine::journal::Event::container(&rec, format!("{what}: {}", opts.cmd.join(" ")))
            .with("execID", &exec_id)
    };
    crate::engine::journal::record_alone(engine, &exec_event("exec_create"))?;
    // The exec joins the container's cgroups: see `cgroup_warm`.
    let _warm = crate::engine::monitor::cgroup_warm::hold();
    let result = write_json(&files.process, &process)
        .and_then(|_| write_json(&files.config, &config))
        .and_then(|_| {
            engine
                .sys()
                .spawn_monitor(layout.root(), &["--exec", &exec_id], id, false, client)
        });
    let mut monitor = match result {
        Ok(m) => m,
        Err(e) => {
            files.remove();
            return Err(e);
        }
    };
    match monitor.wait_started()? {
        // The exec's monitor records exec_start and exec_die, in their order.
        MonitorMessage::Started { pid, .. } => Ok(ExecSession {
            exec_id,
            pid,
            monitor,
        }),
        MonitorMessage::Failed { message, code } => Err(EngineError::command(code, message)),
        MonitorMessage::Exited { code } => Err(EngineError::Runtime(format!(
            "the exec monitor reported an exit ({code}) before the start"
        ))),
    }
}

#[cfg(test)]
mod tests;
