//! The monitor while its container runs and once it has exited: the relay loop (handed to the
//! relay binary once the container has run for [`handover::IDLE`], see [`handover`]), then the
//! exit's record, the exit code to the spawner and the attach clients, and `--rm`'s purge.
//! `berth monitor --resume FD ID` comes back here from the relay binary.

use std::path::Path;
use std::time::{Duration, Instant};

use super::handover::{self, Running};
use super::protocol::MonitorMessage;
use super::{debug_log, trim_memory, Monitor};
use crate::engine::attach::server::Ran;
use crate::engine::attach::socket::{attach_dir, ATTACH_SOCKET};
use crate::engine::container::cleanup;
use crate::engine::lock::FileLock;
use crate::engine::state::StateStore;
use crate::engine::Layout;

impl Monitor {
    /// Relays until the container exits (handing over to the relay binary when `hand_over`
    /// and the container outlives [`handover::IDLE`]), then records the exit. Returns the
    /// monitor's exit code and the container's exit code and run time.
    pub(super) fn serve(
        &self,
        mut running: Running,
        delay: Option<Duration>,
        hand_over: bool,
    ) -> (i32, Option<(i32, Duration)>) {
        if let Some((server, _)) = running.serving.as_mut() {
            server.pause_at(Instant::now() + handover::IDLE);
        }
        while let Some(Ok(Ran::Paused)) = running
            .serving
            .as_mut()
            .map(|(server, pidfd)| server.run(pidfd, handover::DRAIN))
        {
            if let Some(relay) = handover::relay_exe().filter(|_| hand_over) {
                let e = handover::to_relay(
                    &self.layout,
                    &self.id,
                    &relay,
                    &running,
                    &self._lock,
                    delay,
                );
                debug_log(&format!("the monitor stays in-process: {e}"));
            }
            // Reopened when the exit is recorded (a connection costs ~0.3 ms).
            self.state.close_idle();
            trim_memory();
        }
        self.exited(running)
    }

    /// After the container's exit: ends the health checker, records the exit, answers the
    /// spawner and the clients, purges after `--rm`.
    fn exited(&self, mut running: Running) -> (i32, Option<(i32, Duration)>) {
        drop(running.health.take());
        let _ = std::fs::remove_file(attach_dir(&self.layout, &self.id).join(ATTACH_SOCKET));
        debug_log(&format!(
            "container {} process {} exited; recording",
            self.id, running.pid
        ));
        let (code, moved) = self.finish(running.pid, std::mem::take(&mut running.net));
        let ran_for = Duration::from_nanos(handover::mono_ns().saturating_sub(running.began));
        debug_log(&format!("container {} recorded exit code {code}", self.id));
        if let Some(s) = running.status.as_mut() {
            MonitorMessage::Exited { code }.send(s);
        }
        if let Some((mut server, _)) = running.serving.take() {
            server.finish(code);
            // Dropping the server closes the attached output pipes: a foreground `run` reads
            // them to the end before it returns, so they must not wait for the purge below.
            drop(server);
        }
        // `--rm`: the container is gone from the state and from `containers/`; deleting its
        // files can happen after the caller has its exit code and its output has ended.
        if let Some(moved) = moved {
            cleanup::purge(&moved);
            debug_log("finish: purged");
        }
        (0, Some((code, ran_for)))
    }
}

/// `berth monitor --resume FD ID`: the relay binary handed the monitor back (the container
/// exited, or that relay could not take the state). Returns the monitor's exit code.
pub fn resume_main(root: &Path, id: &str, fd: i32) -> i32 {
    super::name_process(c"berth-monitor");
    crate::engine::trace::phase("monitor: resumed");
    let parked = match handover::resume(fd) {
        Ok(p) => p,
        Err(e) => {
            debug_log(&format!("cannot resume the monitor of {id}: {e}"));
            return 125;
        }
    };
    let layout = Layout::new(root);
    let monitor = StateStore::open(&layout.state_db())
        .and_then(|state| Ok((state, FileLock::from_locked(parked.lock)?)))
        .map(|(state, lock)| Monitor {
            layout,
            state: std::sync::Arc::new(state),
            id: id.to_string(),
            _lock: lock,
        });
    let monitor = match monitor {
        Ok(m) => m,
        Err(e) => {
            // The container runs on unrecorded; `ps` finds its monitor gone and says so.
            debug_log(&format!("cannot resume the monitor of {id}: {e}"));
            return 125;
        }
    };
    let first = if parked.exited {
        monitor.exited(parked.running)
    } else {
        monitor.serve(parked.running, parked.delay, false)
    };
    monitor.restart_loop(first, parked.delay)
}
