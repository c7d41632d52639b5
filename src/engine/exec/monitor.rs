//! The exec monitor: `berth monitor --exec EXEC_ID [--client] ID`. Single-threaded, no tokio,
//! re-executed from the sealed binary like the container's monitor. It joins the container with
//! libcontainer's tenant builder (so the process is its child), reports the start on fd 3,
//! relays the process's streams to the client on fd 6, sends it the exit code and removes the
//! session's files.

use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::syscall::syscall::SyscallType;

use super::executor::ExecExecutor;
use super::{ExecConfig, ExecFiles};
use crate::engine::attach::server::Server;
use crate::engine::attach::stdio;
use crate::engine::container::cleanup;
use crate::engine::container::store::ContainerStore;
use crate::engine::error::{EngineError, ErrorKind, Result};
use crate::engine::journal::{self, Event};
use crate::engine::lock::FileLock;
use crate::engine::monitor::protocol::MonitorMessage;
use crate::engine::monitor::{self, relay};
use crate::engine::Layout;

/// Runs the exec monitor; returns the process exit code.
pub fn monitor_main(root: &Path, id: &str, exec_id: &str, client: bool) -> i32 {
    let layout = Layout::new(root);
    let (mut status, client) = match monitor::enter(client) {
        Ok(fds) => fds,
        Err(code) => return code,
    };
    // SAFETY: ignoring SIGPIPE is async-signal-safe and we are single-threaded.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let files = ExecFiles::new(&layout, id, exec_id);
    let command = exec_command(&files);
    let started = start_process(&layout, id, &files);
    let (pid, io) = match started {
        Ok(s) => s,
        Err(e) => {
            files.remove();
            let message = e.to_string();
            let code = e.exit_code();
            if let Some(s) = status.as_mut() {
                MonitorMessage::Failed { message, code }.send(s);
            }
            return code;
        }
    };
    // The session's files are not needed once the process runs.
    files.remove();
    record(
        &layout,
        id,
        |e| e.with_action(format!("exec_start: {command}")),
        exec_id,
    );
    if let Some(s) = status.as_mut() {
        MonitorMessage::Started {
            pid,
            monitor_pid: std::process::id() as i32,
            monitor_start: cleanup::process_start_time(std::process::id() as i32).unwrap_or(0),
        }
        .send(s);
    }
    drop(status);
    let mut server = relay::pidfd_open(pid).and_then(|pidfd| {
        let mut server = Server::new(io, None, true)?;
        if let Some(c) = client {
            server.add_client(c);
        }
        let _ = server.run(&pidfd, Duration::from_secs(1));
        Ok(server)
    });
    let code = monitor::reap::exit_code(pid);
    monitor::reap::orphans();
    record(
        &layout,
        id,
        |e| e.with_action("exec_die").with("exitCode", code),
        exec_id,
    );
    if let Ok(server) = server.as_mut() {
        server.finish(code);
    }
    0
}

/// The exec's command line, as docker's exec events name it.
fn exec_command(files: &ExecFiles) -> String {
    std::fs::read(&files.process)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v["args"].as_array().map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        })
        .unwrap_or_default()
}

/// Records an event of this exec (`exec_start`, `exec_die`), made by `build` from the
/// container's event (best effort: the process runs or is gone either way).
fn record(layout: &Layout, id: &str, build: impl FnOnce(Event) -> Event, exec_id: &str) {
    let Ok(state) = crate::engine::state::StateStore::open(&layout.state_db()) else {
        return;
    };
    let _ = state.write(|tx| {
        let Some(rec) = ContainerStore::of(tx).get(id)? else {
            return Ok(());
        };
        let event = build(Event::container(&rec, "")).with("execID", exec_id);
        journal::record(tx, &event)
    });
}

/// Creates the process in the container; returns its pid and the monitor's ends of its
/// streams. The process is this process's child (the health checker calls it too).
pub(crate) fn start_process(
    layout: &Layout,
    id: &str,
    files: &ExecFiles,
) -> Result<(i32, stdio::ContainerIo)> {
    let text = std::fs::read(&files.config)
        .map_err(|e| EngineError::io_path("cannot read", &files.config, e))?;
    let config: ExecConfig = serde_json::from_slice(&text)
        .map_err(|e| EngineError::caused(ErrorKind::Runtime, "malformed exec config", e))?;
    let (plan, mut stdio) = stdio::prepare(config.tty, config.interactive)?;
    // The process's end of the terminal socket stays open here until `build` returned.
    let console = stdio.console.take();
    let rt = cleanup::runtime_root(layout, id);
    // libcontainer names its sockets for the session in the runtime dir at random and leaves
    // them behind: one session at a time per container creates them, and removes the new ones.
    let lock = FileLock::acquire_within(
        &layout.locks_dir().join(format!("{id}.exec")),
        &format!("exec in container {}", &id[..12.min(id.len())]),
        crate::engine::lock::default_wait(),
    )?;
    let before = tenant_entries(&rt.join(id));
    // The process reports only its outermost error; the capture keeps the cause it logged.
    let mut capture = monitor::init_errors::Capture::new()
        .map_err(|e| EngineError::io("cannot create a pipe", e))?;
    let mut verdict =
        monitor::verdict::Verdict::new().map_err(|e| EngineError::io("cannot create a pipe", e))?;
    // Into the container's cgroups on the hierarchies libcontainer leaves alone too.
    let own_cgroups = crate::engine::monitor::cgroup_join::enter(id)?;
    let built = capture.scope(|| {
        stdio
            .apply(
                ContainerBuilder::new(id.to_string(), SyscallType::default())
                    .with_executor(ExecExecutor {
                        seccomp: config.seccomp.clone(),
                        capabilities: config.capabilities.clone(),
                        console: console.as_ref().map(|c| c.as_raw_fd()),
                        verdict: Some(verdict.write_fd()),
                    })
                    .with_root_path(&rt)?,
            )
            .as_tenant()
            .with_process(Some(&files.process))
            .with_detach(true)
            .build()
    });
    drop(console);
    // Staying behind only keeps the container's cgroup busy until this monitor exits.
    if let Err(e) = own_cgroups.leave() {
        tracing::warn!("exec monitor of {id}: {e}");
    }
    for e in tenant_entries(&rt.join(id)) {
        if !before.contains(&e) {
            let _ = std::fs::remove_file(rt.join(id).join(e));
        }
    }
    drop(lock);
    let pid = built
        .map_err(|e| rt_err(e, capture.cause(), &mut verdict))?
        .as_raw();
    let io = plan.connect()?;
    Ok((pid, io))
}

fn tenant_entries(dir: &Path) -> Vec<std::ffi::OsString> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name())
                .filter(|n| n.to_string_lossy().starts_with("tenant-"))
                .collect()
        })
        .unwrap_or_default()
}

fn rt_err(
    e: libcontainer::error::LibcontainerError,
    cause: Option<String>,
    verdict: &mut monitor::verdict::Verdict,
) -> EngineError {
    let message = monitor::init_errors::describe(&e, cause, "cannot exec in the container");
    verdict.classify(message, EngineError::Runtime)
}
