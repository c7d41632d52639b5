//! Reading a container's log: the entries so far (`--tail`, `--since`, `--until`) and, with
//! follow, new ones as they are written until the container stops (across rotations: see
//! [`crate::engine::logs::reader`]).

use std::collections::VecDeque;
use std::time::Duration;

use super::{stop, store};
use crate::engine::error::Result;
use crate::engine::logs::{LogEntry, LogOptions, LogReader};
use crate::engine::Engine;

/// An iterator of log entries (blocking while following).
pub struct ContainerLogs {
    engine: Engine,
    id: String,
    reader: LogReader,
    follow: bool,
    started: bool,
    done: bool,
    queue: VecDeque<LogEntry>,
    cancelled: Option<Box<dyn Fn() -> bool + Send>>,
}

impl ContainerLogs {
    /// Stops following as soon as `cancelled` returns true (checked while waiting).
    pub fn stop_when(mut self, cancelled: impl Fn() -> bool + Send + 'static) -> Self {
        self.cancelled = Some(Box::new(cancelled));
        self
    }
}

/// Opens the log of container `id`.
pub fn open(engine: &Engine, id: &str, options: LogOptions, follow: bool) -> Result<ContainerLogs> {
    let rec = store::load(engine.state(), id)?;
    if !rec.host_config.log_config.policy()?.readable() {
        return Err(crate::engine::logs::config::not_readable());
    }
    let path = engine.layout().container_dir(id).join("log.json");
    Ok(ContainerLogs {
        engine: engine.clone(),
        id: id.to_string(),
        reader: LogReader::open(&path, options)?,
        follow,
        started: false,
        done: false,
        queue: VecDeque::new(),
        cancelled: None,
    })
}

impl Iterator for ContainerLogs {
    type Item = Result<LogEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(Ok(e));
            }
            if self.done {
                return None;
            }
            if !self.started {
                self.started = true;
                match self.reader.read_existing() {
                    Ok(v) => self.queue.extend(v),
                    Err(e) => return Some(Err(e)),
                }
                if !self.follow {
                    self.done = true;
                }
                continue;
            }
            match self.reader.read_available() {
                Ok(v) if !v.is_empty() => {
                    self.queue.extend(v);
                    continue;
                }
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
            match stop::wait_stopped(&self.engine, &self.id, Some(Duration::from_millis(0))) {
                Ok(true) => {
                    // The monitor flushes before it records the exit: one last read.
                    match self.reader.read_available() {
                        Ok(v) => self.queue.extend(v),
                        Err(e) => return Some(Err(e)),
                    }
                    self.done = true;
                }
                Ok(false) => {
                    if self.cancelled.as_ref().is_some_and(|c| c()) {
                        self.done = true;
                        continue;
                    }
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
