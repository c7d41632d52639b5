//! The per-container monitor: `berth monitor --root R [--attach] <id>`, spawned by
//! [`spawn::spawn`] (fork + exec of the berth binary, `setsid`, double fork). Single-threaded and
//! without tokio, because libcontainer clones from it.
//!
//! It re-executes itself from a read-only copy of its binary ([`seal`]), becomes child
//! subreaper, mounts the rootfs, writes the runtime spec, creates and starts the container with
//! libcontainer (so the container is its child), tells the spawner on fd 3 whether the start
//! worked, relays output to `log.json` (and to fds 4/5 when attached), and when the container
//! exits records the exit code, finish time and OOM kill, undoes the runtime state and mounts,
//! and removes the container when it was run with `--rm`.

pub mod cgroup_join;
pub mod cgroup_warm;
pub mod claim;
pub mod console;
pub mod executor;
pub mod handover;
pub mod health_child;
pub mod init_errors;
pub mod mount_check;
pub mod mount_tree;
mod net_prepare;
pub mod netns;
mod pending;
pub mod protocol;
pub mod rawsys;
pub mod reap;
pub mod relay;
pub mod restart;
pub mod seal;
mod serve;
pub mod spawn;
pub mod special_binds;
pub mod trim;
pub mod verdict;
pub mod wire;
pub mod workdir;

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::syscall::syscall::SyscallType;
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag};
use nix::unistd::Pid;

use super::attach::server::Server;
use super::attach::socket::{self, attach_dir, ATTACH_SOCKET};
use super::attach::stdio::{self, ContainerIo};
use super::container::cleanup;
use super::container::record::{ContainerRecord, Status};
use super::container::store;
use super::error::{EngineError, IoContext, Result};
use super::journal;
use super::lock::FileLock;
use super::logs::LogWriter;
use super::network;
use super::runtime;
use super::snapshot::Snapshot;
use super::state::StateStore;
use super::{users, Layout};
use crate::engine::container::store::ContainerStore;
use net_prepare::EtcFiles;
use protocol::MonitorMessage;
pub use serve::resume_main;

/// The start every monitor (container or exec) shares: re-executes from the sealed read-only
/// copy of the binary when not running from it yet (on failure, reports to the spawner and
/// returns the exit code), then takes the inherited status pipe (fd 3) and, with `client`, the
/// attach client connected before the start (fd 6).
pub(crate) fn enter(client: bool) -> std::result::Result<(Option<File>, Option<UnixStream>), i32> {
    name_process(c"berth-monitor");
    if !seal::is_sealed() {
        let e = seal::reexec_sealed();
        if let Some(mut status) = relay::inherited(3) {
            MonitorMessage::Failed {
                message: e.to_string(),
                code: 125,
            }
            .send(&mut status);
        }
        return Err(125);
    }
    let status = relay::inherited(3);
    let client = if client {
        relay::inherited(6).map(|f| UnixStream::from(OwnedFd::from(f)))
    } else {
        None
    };
    Ok((status, client))
}

/// Runs the monitor for container `id` under `root`; returns the process exit code. With
/// `client`, fd 6 is an attach client connected before the start (`run -it`, `start -ai`).
/// Without `id` (a prespawned monitor, [`spawn::prespawn`]) the id is read from fd 7; at its end
/// of file without one, the monitor exits at once (0), having touched nothing.
pub fn main(root: &Path, id: Option<&str>, attach: bool, client: bool) -> i32 {
    let layout = Layout::new(root);
    crate::engine::trace::phase(if seal::is_sealed() {
        "monitor: sealed"
    } else {
        "monitor: spawned"
    });
    let (mut status, client) = match enter(client) {
        Ok(fds) => fds,
        Err(code) => return code,
    };
    let given;
    let id = match id {
        Some(id) => id,
        None => match pending::receive_id() {
            Some(id) => {
                given = id;
                crate::engine::trace::phase("monitor: id received");
                given.as_str()
            }
            // Exit with the status pipe still open: the kernel closes it after this process's
            // memory is gone, so a spawner that waits for its end of file finds no monitor
            // left, not even one on its way out.
            None => std::process::exit(0),
        },
    };
    let attached = if attach {
        match (relay::inherited(4), relay::inherited(5)) {
            (Some(stdout), Some(stderr)) => Some(relay::Attached {
                stdout,
                stderr,
                alive: true,
            }),
            _ => None,
        }
    } else {
        None
    };
    // SAFETY: ignoring SIGPIPE is async-signal-safe and we are single-threaded.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let _ = nix::sys::prctl::set_child_subreaper(true);
    match Monitor::new(layout, id) {
        Ok(m) => m.run(status, attached, client),
        Err(e) => {
            if let Some(s) = status.as_mut() {
                MonitorMessage::Failed {
                    message: e.to_string(),
                    code: 125,
                }
                .send(s);
            }
            125
        }
    }
}

/// Names this process for `ps`, `top` and `/proc/<pid>/comm`: executed from a descriptor
/// (`/proc/self/fd/N`, the sealed binary), it would be named after the descriptor's number.
pub(crate) fn name_process(name: &std::ffi::CStr) {
    let _ = nix::sys::prctl::set_name(name);
}

struct Monitor {
    layout: Layout,
    /// Shared with the idle hook, which closes its connections.
    state: std::sync::Arc<StateStore>,
    id: String,
    _lock: FileLock,
}

struct Started {
    pid: i32,
    io: ContainerIo,
    listener: UnixListener,
    /// The container's network; holds its published host ports until it exits.
    net: Option<network::attach::Attached>,
}

impl Monitor {
    fn new(layout: Layout, id: &str) -> Result<Monitor> {
        let state = std::sync::Arc::new(StateStore::open(&layout.state_db())?);
        let lock_path = layout.locks_dir().join(format!("{id}.monitor"));
        let lock = FileLock::try_acquire(&lock_path)?.ok_or_else(|| {
            EngineError::InvalidState(format!("container {id} already has a running monitor"))
        })?;
        Ok(Monitor {
            layout,
            state,
            id: id.to_string(),
            _lock: lock,
        })
    }

    /// Runs the container, then restarts it as its restart policy says until the policy, a
    /// user (`stop`, `rm -f`) or a failed start ends the loop. Returns the monitor's exit code.
    fn run(
        self,
        status: Option<File>,
        attached: Option<relay::Attached>,
        client: Option<UnixStream>,
    ) -> i32 {
        let first = self.run_once(status, attached, client, None, None);
        self.restart_loop(first, None)
    }

    /// After a run that ended with `first`, restarts the container as its policy says
    /// (`delay`: the backoff before the run that ended).
    fn restart_loop(
        &self,
        first: (i32, Option<(i32, Duration)>),
        mut delay: Option<Duration>,
    ) -> i32 {
        let (mut code, mut exit) = first;
        while let Some((exit_code, ran_for)) = exit {
            if !restart::decide(&self.state, &self.id, exit_code) {
                break;
            }
            let next = crate::engine::container::restart_policy::next_delay(delay, ran_for);
            delay = Some(next);
            let Some(lock) = restart::wait(
                &crate::engine::syscall::LinuxSyscall,
                &self.state,
                &self.layout,
                &self.id,
                next,
            ) else {
                break;
            };
            (code, exit) = self.run_once(None, None, None, Some(lock), delay);
        }
        code
    }

    /// One run of the container: claim, start, serve, record the exit. `start_lock` is the
    /// container's lock when the monitor restarts it itself (a spawner holds it otherwise),
    /// released once the start is recorded. Returns the monitor's exit code and, when the
    /// container ran, its exit code and how long it ran.
    fn run_once(
        &self,
        mut status: Option<File>,
        attached: Option<relay::Attached>,
        client: Option<UnixStream>,
        start_lock: Option<FileLock>,
        delay: Option<Duration>,
    ) -> (i32, Option<(i32, Duration)>) {
        let me = std::process::id() as i32;
        let my_start = cleanup::process_start_time(me).unwrap_or(0);
        // The monitor is in the record before it can start anything, and records the start
        // itself: a spawner killed meanwhile (`run -d` interrupted) leaves no running
        // container behind a record that says Created.
        let rec = match claim::claim(&self.state, &self.id, me, my_start) {
            Ok(r) => r,
            Err(e) => return (fail(&mut status, &e.to_string(), 125), None),
        };
        debug_log("start: claimed");
        let started = match self.start(&rec) {
            Ok(s) => s,
            Err(e) => {
                let message = e.to_string();
                let code = e.exit_code();
                let _ = cleanup::delete_runtime(&self.layout, &self.id);
                // The failed init process may still be in the container's cgroup: reap it,
                // then remove the cgroup (nothing else would: the runtime state is gone).
                reap::all_children(Duration::from_secs(2));
                cleanup::remove_cgroups(&self.id);
                network::attach::down(&self.state, &self.layout, &self.id);
                let _ = cleanup::unmount_rootfs(&self.layout, &self.id);
                let _ =
                    std::fs::remove_file(attach_dir(&self.layout, &self.id).join(ATTACH_SOCKET));
                let _ = claim::record_failure(&self.state, &self.id, &message, code);
                return (fail(&mut status, &message, code), None);
            }
        };
        if let Err(e) = claim::record_started(&self.state, &self.id, started.pid, me, my_start) {
            // Unrecorded, the container would run unseen: stop it.
            let message = format!("cannot record the container's start: {e}");
            let _ = nix::sys::signal::kill(Pid::from_raw(started.pid), nix::sys::signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(started.pid), None);
            let _ = cleanup::delete_runtime(&self.layout, &self.id);
            drop(started.net);
            network::attach::down(&self.state, &self.layout, &self.id);
            let _ = cleanup::unmount_rootfs(&self.layout, &self.id);
            let _ = std::fs::remove_file(attach_dir(&self.layout, &self.id).join(ATTACH_SOCKET));
            let _ = claim::record_failure(&self.state, &self.id, &message, 125);
            return (fail(&mut status, &message, 125), None);
        }
        drop(start_lock);
        let began = handover::mono_ns();
        // The health checker runs while the container does.
        let health = health_child::spawn(&self.layout, &rec);
        // The reserved host ports stay bound until the container has exited.
        let net = started.net.map(network::attach::Attached::into_held);
        let pidfd = relay::pidfd_open(started.pid);
        // The log exists before anyone hears of the start: a `logs -f` right after `run -d`
        // must not find it missing (and follow nothing).
        let dir = self.layout.container_dir(&self.id);
        let log = match rec.host_config.log_config.policy() {
            Ok(policy) if policy.readable() => {
                LogWriter::with_policy(&dir.join("log.json"), policy).ok()
            }
            _ => None,
        };
        if let Some(s) = status.as_mut() {
            MonitorMessage::Started {
                pid: started.pid,
                monitor_pid: me,
                monitor_start: my_start,
            }
            .send(s);
        }
        if attached.is_none() {
            // Nobody waits for the exit message: do not hold the spawner's pipe open. Wait
            // (briefly) until the spawner has read the start and let go of the pipe, so that
            // the pages of the binary it maps are ours alone when we trim later.
            if let Some(s) = status.take() {
                trim::wait_reader_gone(&s, Duration::from_millis(200));
            }
        }
        let server = Server::new(started.io, log, rec.config.stdin_once);
        let serving = match (pidfd, server) {
            (Ok(pidfd), Ok(mut server)) => {
                let _ = server.listen(started.listener);
                if let Some(a) = attached {
                    server.add_plain(a);
                }
                if let Some(c) = client {
                    server.add_client(c);
                }
                Some((server, pidfd))
            }
            _ => None,
        };
        let running = handover::Running {
            pid: started.pid,
            serving,
            health,
            net: net.unwrap_or_default(),
            status,
            began,
        };
        self.serve(running, delay, true)
    }

    /// Mounts the rootfs, writes the spec and /etc files, creates and starts the container.
    fn start(&self, rec: &ContainerRecord) -> Result<Started> {
        let dir = self.layout.container_dir(&self.id);
        let snap = Snapshot::new(&dir);
        debug_log("start: begin");
        snap.mount(&rec.lowers)?;
        debug_log("start: mounted");
        if rec.state.started_at.is_none() {
            // First start: empty volumes receive the image's content at their mount points.
            crate::engine::mounts::copy_up(&snap.merged(), &rec.mounts)?;
        }
        let (net, etc, join, link_env) = self.network(rec)?;
        let run_rec;
        let rec = if link_env.is_empty() {
            rec
        } else {
            let mut r = rec.clone();
            r.config.env.splice(0..0, link_env);
            run_rec = r;
            &run_rec
        };
        write_etc_files(&dir, rec, etc)?;
        let mut user = users::resolve(&snap.merged(), &rec.config.user)?;
        for gid in users::resolve_groups(&snap.merged(), &rec.host_config.group_add)? {
            if gid != user.gid && !user.additional_gids.contains(&gid) {
                user.additional_gids.push(gid);
            }
        }
        let mut spec = runtime::build_spec(rec, &user, &dir)?;
        if let Some(path) = &join {
            runtime::namespaces::join_network(&mut spec, path);
        }
        runtime::destinations::resolve(&mut spec, &snap.merged(), rec.mounts.len())?;
        runtime::tmpfs_mode::keep_image_modes(&mut spec, &snap.merged(), rec.mounts.len())?;
        let binds = mount_check::bind_dirs(&spec);
        workdir::ensure(
            &snap.merged(),
            &binds,
            &rec.config.working_dir,
            user.uid,
            user.gid,
        )?;
        mount_check::check_mounts(&spec, &snap.merged(), rec.mounts.len())?;
        let specials = special_binds::take(&mut spec);
        special_binds::prepare(&specials, &snap.merged())?;
        runtime::write_spec(&spec, &dir)?;
        debug_log("start: spec written");
        cleanup::delete_runtime(&self.layout, &self.id)?;
        let rt = cleanup::create_runtime_root(&self.layout, &self.id)?;
        let adir = attach_dir(&self.layout, &self.id);
        socket::create_dir(&adir)?;
        let listener = socket::bind(&adir, ATTACH_SOCKET)?;
        let (plan, mut stdio) = stdio::prepare(rec.config.tty, rec.config.open_stdin)?;
        // The container's end of the terminal socket stays open here until `build` returned.
        let console = stdio.console.take();
        // libcontainer's init process reports only its outermost error; the capture keeps
        // what it logged on the way (the cause, the path, the errno).
        let mut capture = init_errors::Capture::new().ctx("cannot create a pipe in", &rt)?;
        let mut verdict = verdict::Verdict::new().ctx("cannot create a pipe in", &rt)?;
        // The container's processes are forked by `build` and inherit these cgroups.
        let seccomp = runtime::seccomp_cache::program(&self.layout, &spec).unwrap_or_else(|e| {
            // The init compiles the profile itself, as without the cache.
            tracing::warn!("monitor of {}: {e}", self.id);
            None
        });
        debug_log("start: seccomp program ready");
        let own_cgroups = cgroup_join::enter(&self.id)?;
        debug_log("start: own cgroups joined");
        let built = capture.scope(|| {
            let mut builder = ContainerBuilder::new(self.id.clone(), SyscallType::default())
                .with_executor(executor::BerthExecutor {
                    console: console.as_ref().map(|c| c.as_raw_fd()),
                    verdict: Some(verdict.write_fd()),
                });
            if let Some(program) = seccomp {
                builder = builder.with_seccomp_program(program);
            }
            stdio
                .apply(builder.with_root_path(&rt)?)
                .as_init(&dir)
                .with_systemd(false)
                .with_detach(true)
                .build()
        });
        drop(console);
        if let Err(e) = own_cgroups.leave() {
            // The container's cgroup stays busy (and is left behind) while the monitor runs.
            tracing::warn!("monitor of {}: {e}", self.id);
        }
        let mut container = built.map_err(|e| {
            let mut message =
                init_errors::describe(&e, capture.cause(), "cannot start the container");
            // The init process's chdir failure reaches the monitor only as the event it
            // logged (nothing typed crosses from the clone but the executor's verdict, and
            // the executor never ran); Docker answers 127 for it.
            if let Some(init_errors::InitStep::Chdir(_)) = capture.failed_step() {
                let wd = &rec.config.working_dir;
                let in_tmpfs = spec.mounts().iter().flatten().any(|m| {
                    m.typ().as_deref() == Some("tmpfs")
                        && Path::new(wd).starts_with(m.destination())
                });
                message.push_str(&format!(" (the working directory {wd:?}"));
                if in_tmpfs {
                    message.push_str(": it is inside a tmpfs mount, where it cannot be created");
                }
                message.push(')');
                return EngineError::CommandNotFound(message);
            }
            verdict.classify(message, EngineError::Runtime)
        })?;
        debug_log("start: built");
        let pid = container
            .pid()
            .ok_or_else(|| EngineError::Runtime("the runtime reported no container pid".into()))?
            .as_raw();
        if !rec.host_config.network_mode.is_host() && join.is_none() {
            netns::loopback_up(pid)?;
        }
        special_binds::attach(pid, &specials)?;
        let io = plan.connect()?;
        capture.scope(|| container.start()).map_err(|e| {
            let message = init_errors::describe(&e, capture.cause(), "cannot start the container");
            verdict.classify(message, EngineError::Runtime)
        })?;
        debug_log("start: started");
        Ok(Started {
            pid,
            io,
            listener,
            net,
        })
    }

    /// Reaps the container, records the exit and cleans up; returns the exit code and, after
    /// `--rm`, the moved-aside directory still to delete.
    fn finish(&self, pid: i32, net: Vec<OwnedFd>) -> (i32, Option<std::path::PathBuf>) {
        // Wait for the exit without reaping and without the container's lock, so that `stop`,
        // `kill` and `rm -f` can always reach a container that is still running; reap under the
        // lock, so that nobody signals a reused pid.
        while let Err(nix::errno::Errno::EINTR) = waitid(
            Id::Pid(Pid::from_raw(pid)),
            WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT,
        ) {}
        let lock = store::lock(&self.layout, &self.id);
        let code = reap::exit_code(pid);
        // Reap whatever else was re-parented to us.
        reap::orphans();
        debug_log("finish: reaped");
        let oom = cleanup::oom_killed(&self.id);
        let _ = cleanup::delete_runtime_exited(&self.layout, &self.id);
        debug_log("finish: runtime deleted");
        drop(net);
        network::attach::down_after_exit(&self.state, &self.layout, &self.id);
        debug_log("finish: network down");
        let unmounted = cleanup::unmount_rootfs(&self.layout, &self.id);
        debug_log("finish: unmounted");
        let result = self.state.write(|tx| {
            let Some(mut rec) = ContainerStore::of(tx).get(&self.id)? else {
                return Ok(None);
            };
            rec.state.status = Status::Exited;
            rec.state.exit_code = code;
            rec.state.pid = 0;
            rec.state.finished_at = Some(Utc::now());
            rec.state.oom_killed = oom;
            rec.state.monitor_pid = 0;
            rec.state.monitor_start = 0;
            if let Err(e) = &unmounted {
                rec.state.error = e.to_string();
            }
            if oom {
                journal::record(tx, &journal::Event::container(&rec, "oom"))?;
            }
            for unmount in journal::Event::volume_mounts(&rec, "unmount") {
                journal::record(tx, &unmount)?;
            }
            let die = journal::Event::container(&rec, "die").with("exitCode", code);
            journal::record(tx, &die)?;
            if rec.host_config.auto_remove && unmounted.is_ok() {
                ContainerStore::of(tx).delete(&self.id)?;
                journal::record(tx, &journal::Event::container(&rec, "destroy"))?;
                Ok(Some(crate::engine::mounts::volume_names(&rec.mounts)))
            } else {
                ContainerStore::of(tx).save(&rec)?;
                Ok(None)
            }
        });
        debug_log("finish: recorded");
        let mut moved = None;
        if let Ok(Some(volumes)) = result {
            moved = cleanup::detach_files(&self.layout, &self.id).ok().flatten();
            // `--rm` also removes the container's anonymous volumes, as docker does.
            let _ = crate::engine::volume::ops::remove_anonymous_in(
                &self.state,
                &self.layout,
                &volumes,
            );
        }
        drop(lock);
        (code, moved)
    }
}

/// From here on the monitor only relays output: gives back what start-up touched (free heap,
/// clean pages of the binary and libraries).
fn trim_memory() {
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    let logging = std::env::var_os("BERTH_MONITOR_LOG").is_some();
    let rss = || {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("Rss"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if logging {
        debug_log(&format!("before trim: {}", rss()));
    }
    trim::drop_unused_stack();
    trim::drop_clean_file_pages();
    if logging {
        debug_log(&format!("after trim: {}", rss()));
    }
}

fn fail(status: &mut Option<File>, message: &str, code: i32) -> i32 {
    if let Some(s) = status.as_mut() {
        MonitorMessage::Failed {
            message: message.to_string(),
            code,
        }
        .send(s);
    }
    code
}

/// Writes the files bind-mounted at `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`.
fn write_etc_files(dir: &Path, rec: &ContainerRecord, etc: EtcFiles) -> Result<()> {
    use crate::engine::container::etc_files;
    let host = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let files = match etc {
        EtcFiles::Own(view) => [
            ("hosts", etc_files::hosts(rec, &host("/etc/hosts"), &view)),
            ("hostname", format!("{}\n", rec.config.hostname)),
            (
                "resolv.conf",
                etc_files::resolv_conf(rec, &host("/etc/resolv.conf"), &view),
            ),
        ],
        EtcFiles::Shared(other) => {
            let read = |n: &str| std::fs::read_to_string(other.join(n)).unwrap_or_default();
            [
                ("hosts", read("hosts")),
                ("hostname", read("hostname")),
                ("resolv.conf", read("resolv.conf")),
            ]
        }
    };
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::write(&p, text).ctx("cannot write", &p)?;
    }
    Ok(())
}

/// Appends a line to `$BERTH_MONITOR_LOG` when set (the monitor's stderr is /dev/null).
pub fn debug_log(msg: &str) {
    use std::io::Write;
    crate::engine::trace::phase(msg);
    if let Some(path) = std::env::var_os("BERTH_MONITOR_LOG") {
        use std::os::unix::fs::OpenOptionsExt;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
        {
            let _ = writeln!(
                f,
                "{} monitor[{}]: {msg}",
                Utc::now().to_rfc3339(),
                std::process::id()
            );
        }
    }
}
