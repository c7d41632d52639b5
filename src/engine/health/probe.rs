//! One run of a container's health check: the command as an exec in the container (the engine's
//! exec path: the container's own process settings, libcontainer's tenant builder), its output
//! kept up to 4 KB, killed when it outlasts the timeout. Docker's exec events are recorded for
//! it as for any exec (`exec_create`, `exec_start`; the caller records `exec_die` with the
//! result), in the journal's bounded probe kind (`journal::record_probe`).

use std::io::Read;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use chrono::Utc;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::config::{go_duration, Healthcheck, Probe};
use super::state::{output_text, MAX_OUTPUT};
use crate::engine::attach::stdio::ContainerIo;
use crate::engine::compat::health::HealthcheckResult;
use crate::engine::container::ContainerRecord;
use crate::engine::error::{EngineError, Result};
use crate::engine::exec::{self, ExecFiles, ExecOptions};
use crate::engine::journal::{self, Event};
use crate::engine::snapshot::Snapshot;
use crate::engine::state::StateStore;
use crate::engine::Layout;

/// A finished probe: its result and the exec that ran it (for `exec_die`).
pub struct Outcome {
    pub result: HealthcheckResult,
    pub exec_id: String,
    /// The exec process's exit code (128 + 9 when killed at the timeout); `None` when it never
    /// started.
    pub exec_exit: Option<i32>,
}

/// The command line a probe runs: `CMD` as it is, `CMD-SHELL` through the image's shell.
pub fn command(rec: &ContainerRecord, probe: &Probe) -> Vec<String> {
    match probe {
        Probe::Exec(args) => args.clone(),
        Probe::Shell(line) => {
            let mut cmd = if rec.config.shell.is_empty() {
                vec!["/bin/sh".to_string(), "-c".to_string()]
            } else {
                rec.config.shell.clone()
            };
            cmd.push(line.clone());
            cmd
        }
    }
}

/// Runs the check of `rec` once. A probe that cannot start gives exit code -1 with the reason
/// as its output, as docker records it.
pub fn run(
    layout: &Layout,
    state: &StateStore,
    rec: &ContainerRecord,
    hc: &Healthcheck,
) -> Outcome {
    let start = Utc::now();
    let exec_id = exec::new_exec_id();
    let failed = |message: String| HealthcheckResult {
        start,
        end: Utc::now(),
        exit_code: -1,
        output: message,
    };
    let Some(probe) = hc.probe() else {
        return Outcome {
            result: failed("the container has no health check".into()),
            exec_id,
            exec_exit: None,
        };
    };
    let cmd = command(rec, &probe);
    let (result, exec_exit) = match run_exec(layout, state, rec, &cmd, &exec_id, hc.timeout()) {
        Ok(Ran {
            exit_code,
            process_exit,
            output,
        }) => (
            HealthcheckResult {
                start,
                end: Utc::now(),
                exit_code,
                output,
            },
            Some(process_exit),
        ),
        Err(e) => (failed(e.to_string()), None),
    };
    Outcome {
        result,
        exec_id,
        exec_exit,
    }
}

/// What a started probe gave.
struct Ran {
    /// The result's exit code: the process's, or -1 at the timeout.
    exit_code: i64,
    process_exit: i32,
    output: String,
}

fn run_exec(
    layout: &Layout,
    state: &StateStore,
    rec: &ContainerRecord,
    cmd: &[String],
    exec_id: &str,
    timeout: Duration,
) -> Result<Ran> {
    let dir = layout.container_dir(&rec.id);
    let spec = exec::load_spec(&dir)?;
    let opts = ExecOptions {
        cmd: cmd.to_vec(),
        ..Default::default()
    };
    let (process, config) = exec::build(rec, &spec, &Snapshot::new(&dir).merged(), &opts)?;
    let files = ExecFiles::new(layout, &rec.id, exec_id);
    let line = cmd.join(" ");
    let event =
        |what: &str| Event::container(rec, format!("{what}: {line}")).with("execID", exec_id);
    let _ = state.write(|tx| journal::record_probe(tx, &event("exec_create")));
    let started = exec::write_json(&files.process, &process)
        .and_then(|_| exec::write_json(&files.config, &config))
        .and_then(|_| exec::monitor::start_process(layout, &rec.id, &files));
    files.remove();
    let (pid, io) = started?;
    let _ = state.write(|tx| journal::record_probe(tx, &event("exec_start")));
    let ContainerIo::Pipes { stdout, stderr, .. } = io else {
        return Err(EngineError::Runtime(
            "the health check's process got a terminal instead of pipes".into(),
        ));
    };
    let deadline = Instant::now() + timeout;
    let (output, truncated, timed_out) = collect(pid, [stdout, stderr], deadline)?;
    if timed_out {
        // The probe's process is killed; a frozen (paused) one dies when thawed, and is waited
        // for so that dying probes never pile up.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        let process_exit = crate::engine::monitor::reap::exit_code(pid);
        let out = output_text(&output, truncated);
        let mut message = format!("Health check exceeded timeout ({})", go_duration(timeout));
        if !out.is_empty() {
            message.push_str(": ");
            message.push_str(&out);
        }
        return Ok(Ran {
            exit_code: -1,
            process_exit,
            output: message,
        });
    }
    let code = crate::engine::monitor::reap::exit_code(pid);
    Ok(Ran {
        exit_code: i64::from(code),
        process_exit: code,
        output: output_text(&output, truncated),
    })
}

/// Reads both streams into one buffer (at most [`MAX_OUTPUT`] bytes kept) until the process
/// exits and its streams are drained, or `deadline`. Returns the bytes, whether some were
/// dropped, and whether the deadline came first.
fn collect(
    pid: i32,
    mut streams: [std::fs::File; 2],
    deadline: Instant,
) -> Result<(Vec<u8>, bool, bool)> {
    let pidfd = crate::engine::monitor::relay::pidfd_open(pid)?;
    let mut open = [true, true];
    let mut out = Vec::new();
    let mut truncated = false;
    let mut exited_at: Option<Instant> = None;
    let mut buf = [0u8; 8192];
    loop {
        let now = Instant::now();
        if now >= deadline && exited_at.is_none() {
            return Ok((out, truncated, true));
        }
        // After the exit, a stray process holding the streams gets a short drain only.
        let end = match exited_at {
            Some(t) => (t + Duration::from_millis(200)).min(deadline.max(t)),
            None => deadline,
        };
        if !open.iter().any(|o| *o) && exited_at.is_some() || (exited_at.is_some() && now >= end) {
            return Ok((out, truncated, false));
        }
        let mut fds = Vec::new();
        let mut which = Vec::new();
        for (i, s) in streams.iter().enumerate() {
            if open[i] {
                fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
                which.push(Some(i));
            }
        }
        if exited_at.is_none() {
            fds.push(PollFd::new(pidfd.as_fd(), PollFlags::POLLIN));
            which.push(None);
        }
        let left = end.saturating_duration_since(now).as_millis();
        let timeout = PollTimeout::from(u16::try_from(left.max(1)).unwrap_or(u16::MAX));
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                return Err(EngineError::caused(
                    crate::engine::ErrorKind::Runtime,
                    "health check poll failed",
                    e,
                ))
            }
        }
        let ready: Vec<Option<usize>> = fds
            .iter()
            .zip(&which)
            .filter(|(fd, _)| fd.revents().is_some_and(|r| !r.is_empty()))
            .map(|(_, w)| *w)
            .collect();
        drop(fds);
        for w in ready {
            match w {
                None => exited_at = Some(Instant::now()),
                Some(i) => match streams[i].read(&mut buf) {
                    Ok(0) | Err(_) => open[i] = false,
                    Ok(n) => {
                        let room = MAX_OUTPUT.saturating_sub(out.len());
                        out.extend_from_slice(&buf[..n.min(room)]);
                        truncated |= n > room;
                    }
                },
            }
        }
    }
}
