//! The async face of the container engine for the TUI and other async callers: each call runs
//! the blocking operation on tokio's blocking pool. Log following is a stream of entries.

use futures::Stream;
use serde_json::Value;
use tokio::sync::mpsc;

use super::{ContainerRecord, CreateOptions, Filter, Pruned, TopProcess};
use crate::engine::error::Result;
use crate::engine::logs::{LogEntry, LogOptions};
use crate::engine::{blocking, Engine};

impl Engine {
    /// Every container (newest first) passing `filters`; lost monitors are noticed.
    pub async fn containers(&self, filters: Vec<Filter>) -> Result<Vec<ContainerRecord>> {
        blocking(self, move |e| {
            Ok(super::apply_filters(super::list(e)?, &filters))
        })
        .await
    }

    /// One container by name, id or unique id prefix.
    pub async fn container(&self, reference: String) -> Result<ContainerRecord> {
        blocking(self, move |e| {
            super::get(e, &super::resolve(e, &reference)?)
        })
        .await
    }

    /// Docker's inspect JSON of one container.
    pub async fn inspect_container(&self, reference: String) -> Result<Value> {
        blocking(self, move |e| {
            let rec = super::get(e, &super::resolve(e, &reference)?)?;
            Ok(crate::engine::compat::container::inspect(e, &rec))
        })
        .await
    }

    /// Creates a container; returns its record.
    pub async fn create_container(&self, opts: CreateOptions) -> Result<ContainerRecord> {
        blocking(self, move |e| super::create(e, &opts)).await
    }

    /// `run` detached: creates a container and, with `start`, starts it; a `--rm` container
    /// whose start fails is removed (see [`super::run`]). Returns its record.
    pub async fn run_container(&self, opts: CreateOptions, start: bool) -> Result<ContainerRecord> {
        blocking(self, move |e| {
            if start {
                super::run(e, &opts, false).map(|(rec, _)| rec)
            } else {
                super::create(e, &opts)
            }
        })
        .await
    }

    /// Starts a container (detached).
    pub async fn start_container(&self, reference: String) -> Result<()> {
        blocking(self, move |e| {
            super::start(e, &super::resolve(e, &reference)?, false).map(|_| ())
        })
        .await
    }

    /// Stops a container: stop signal, `timeout` seconds (10), then SIGKILL.
    pub async fn stop_container(&self, reference: String, timeout: Option<u32>) -> Result<()> {
        blocking(self, move |e| {
            super::stop(e, &super::resolve(e, &reference)?, timeout)
        })
        .await
    }

    /// Sends a signal (`None` = SIGKILL).
    pub async fn kill_container(&self, reference: String, signal: Option<String>) -> Result<()> {
        blocking(self, move |e| {
            super::kill(e, &super::resolve(e, &reference)?, signal.as_deref())
        })
        .await
    }

    /// Stops and starts a container.
    pub async fn restart_container(&self, reference: String, timeout: Option<u32>) -> Result<()> {
        blocking(self, move |e| {
            super::restart(e, &super::resolve(e, &reference)?, timeout)
        })
        .await
    }

    /// Removes a container (`force` kills a running one first); with `volumes` (`rm -v`) also
    /// its anonymous volumes that no other container uses, whose names it returns.
    pub async fn remove_container(
        &self,
        reference: String,
        force: bool,
        volumes: bool,
    ) -> Result<Vec<String>> {
        blocking(self, move |e| {
            let id = super::resolve(e, &reference)?;
            if volumes {
                super::remove_with_volumes(e, &id, force)
            } else {
                super::remove(e, &id, force).map(|()| Vec::new())
            }
        })
        .await
    }

    /// Removes every stopped container (`container prune`).
    pub async fn prune_containers(&self) -> Result<Vec<Pruned>> {
        blocking(self, super::prune).await
    }

    /// Freezes a container.
    pub async fn pause_container(&self, reference: String) -> Result<()> {
        blocking(self, move |e| {
            super::pause(e, &super::resolve(e, &reference)?)
        })
        .await
    }

    /// Thaws a container.
    pub async fn unpause_container(&self, reference: String) -> Result<()> {
        blocking(self, move |e| {
            super::unpause(e, &super::resolve(e, &reference)?)
        })
        .await
    }

    /// Renames a container.
    pub async fn rename_container(&self, reference: String, name: String) -> Result<()> {
        blocking(self, move |e| {
            super::rename(e, &super::resolve(e, &reference)?, &name)
        })
        .await
    }

    /// The processes of a running container.
    pub async fn container_top(&self, reference: String) -> Result<Vec<TopProcess>> {
        blocking(self, move |e| {
            super::top(e, &super::resolve(e, &reference)?)
        })
        .await
    }

    /// Waits for a container to stop; returns its exit code.
    pub async fn wait_container(&self, reference: String) -> Result<i32> {
        blocking(self, move |e| {
            super::wait(e, &super::resolve(e, &reference)?)
        })
        .await
    }

    /// Watches a container's log for a viewer that stays open (see [`super::logs_watch`]):
    /// `sink` gets the entries in batches until it returns false, `gone` returns true, or the
    /// container is removed.
    pub async fn watch_logs(
        &self,
        reference: String,
        options: LogOptions,
        gone: impl Fn() -> bool + Send + 'static,
        mut sink: impl FnMut(&[LogEntry]) -> bool + Send + 'static,
    ) -> Result<()> {
        blocking(self, move |e| {
            let id = super::resolve(e, &reference)?;
            super::logs_watch::watch(e, &id, options, &gone, &mut sink)
        })
        .await
    }

    /// The log entries of a container as a stream (`follow`: until it stops). Dropping the
    /// stream stops the reader at its next entry or poll.
    pub fn container_logs(
        &self,
        reference: String,
        options: LogOptions,
        follow: bool,
    ) -> impl Stream<Item = Result<LogEntry>> + Send + 'static {
        let (tx, rx) = mpsc::channel(256);
        let engine = self.clone();
        tokio::task::spawn_blocking(move || {
            let logs = super::resolve(&engine, &reference)
                .and_then(|id| super::logs(&engine, &id, options, follow));
            match logs {
                Ok(iter) => {
                    let watch = tx.clone();
                    for entry in iter.stop_when(move || watch.is_closed()) {
                        if tx.blocking_send(entry).is_err() {
                            break;
                        }
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                }
            }
        });
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
    }
}
