//! The async face of the container engine for the CLI, the TUI and other async callers: each
//! call runs the blocking operation on tokio's blocking pool. Log following is a stream of
//! entries. The CLI, whose commands run on a blocking thread, waits with `block_on`.

use std::os::fd::OwnedFd;

use futures::Stream;
use tokio::sync::mpsc;

use super::disk::ContainerSize;
use super::update::UpdateOptions;
use super::{ContainerRecord, CreateOptions, Filter, Pruned, TopProcess};
use crate::engine::compat::container::ContainerInspect;
use crate::engine::error::Result;
use crate::engine::logs::{LogEntry, LogOptions};
use crate::engine::monitor::spawn::MonitorChild;
use crate::engine::{blocking, Engine};

impl Engine {
    /// Starts, for a `run` about to open the engine at `root` and create a container, the
    /// container's monitor now: it loads while the container is created and waits for its
    /// id, which the container's start hands it. Best effort: on failure the start spawns one
    /// as usual. A process that calls this calls [`Engine::discard_prespawned_monitor`]
    /// before it exits.
    pub fn prespawn_monitor(root: &std::path::Path, attach: bool) {
        if let Err(e) = crate::engine::monitor::spawn::prespawn(root, attach) {
            tracing::debug!("no prespawned monitor: {e}");
        }
    }

    /// Lets a prespawned monitor that no start used exit, and waits until it has.
    pub fn discard_prespawned_monitor() {
        crate::engine::monitor::spawn::discard_prespawned();
    }

    /// Every container (newest first) passing `filters`; lost monitors are noticed.
    pub async fn containers(&self, filters: Vec<Filter>) -> Result<Vec<ContainerRecord>> {
        blocking(self, move |e| {
            Ok(super::apply_filters(super::list(e)?, &filters))
        })
        .await
    }

    /// Every container (newest first), each turned into `f(record, its PORTS cell)` as it is
    /// read, so that a list keeping a row per container never holds every full record
    /// ([`super::query::list_mapped`]); lost monitors are noticed.
    pub async fn container_rows<T: Send + 'static>(
        &self,
        f: impl FnMut(ContainerRecord, String) -> T + Send + 'static,
    ) -> Result<Vec<T>> {
        blocking(self, move |e| super::query::list_mapped(e, f)).await
    }

    /// The full id of the container `reference` names (name, id or unique id prefix).
    pub async fn container_id(&self, reference: String) -> Result<String> {
        blocking(self, move |e| super::resolve(e, &reference)).await
    }

    /// One container by name, id or unique id prefix.
    pub async fn container(&self, reference: String) -> Result<ContainerRecord> {
        blocking(self, move |e| {
            super::get(e, &super::resolve(e, &reference)?)
        })
        .await
    }

    /// Docker's inspect JSON of one container.
    pub async fn inspect_container(&self, reference: String) -> Result<ContainerInspect> {
        self.inspect_container_sized(reference, false).await
    }

    /// Docker's inspect JSON of one container; with `size` (`inspect -s`) its `SizeRw` and
    /// `SizeRootFs`, measured on disk.
    pub async fn inspect_container_sized(
        &self,
        reference: String,
        size: bool,
    ) -> Result<ContainerInspect> {
        blocking(self, move |e| {
            let rec = super::get(e, &super::resolve(e, &reference)?)?;
            let mut v = crate::engine::compat::container::inspect(e, &rec);
            if size {
                let s = super::disk::size(e, &rec, None);
                v.size_rw = Some(s.rw);
                v.size_root_fs = Some(s.root_fs);
            }
            Ok(v)
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

    /// Starts a container for a client that stays: with `attach` (`start -a`, `run` in the
    /// foreground) the returned monitor handle carries the container's stdout, stderr and exit
    /// code; `client`, one end of an attach socket pair, is served by the monitor from before
    /// the process runs (`-i`, `-t`). A container just created (`new`: `run`) that asks for
    /// `--rm` is removed when its start fails.
    pub async fn start_container_with(
        &self,
        reference: String,
        attach: bool,
        client: Option<OwnedFd>,
        new: bool,
    ) -> Result<Option<MonitorChild>> {
        blocking(self, move |e| {
            let id = super::resolve(e, &reference)?;
            if new {
                super::start_new(e, &id, attach, client)
            } else {
                super::start_with(e, &id, attach, client)
            }
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

    /// `system restore` after a boot: starts the containers whose restart policy asks for it
    /// (see [`super::restore`]); one entry per container tried.
    pub async fn restore_containers(&self) -> Result<Vec<super::restore::Restored>> {
        blocking(self, super::restore::restore).await
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

    /// Changes a container's limits and restart policy (`update`), live when it runs.
    pub async fn update_container(&self, reference: String, opts: UpdateOptions) -> Result<()> {
        blocking(self, move |e| {
            super::update::update(e, &super::resolve(e, &reference)?, &opts)
        })
        .await
    }

    /// A container's disk use; `image_size` is its image's when the caller has it (lists).
    pub async fn container_size(
        &self,
        rec: ContainerRecord,
        image_size: Option<u64>,
    ) -> Result<ContainerSize> {
        blocking(self, move |e| Ok(super::disk::size(e, &rec, image_size))).await
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
    /// `sink` gets the entries in batches until it returns false, `stop` is signalled, or the
    /// container is removed. Dropping the returned future signals `stop` too, so a viewer that
    /// lets go of it ends the watch at once, however long it slept.
    pub async fn watch_logs(
        &self,
        reference: String,
        options: LogOptions,
        stop: super::dir_events::WatchStop,
        mut sink: impl FnMut(&[LogEntry]) -> bool + Send + 'static,
    ) -> Result<()> {
        struct StopOnDrop(super::dir_events::WatchStop);
        impl Drop for StopOnDrop {
            fn drop(&mut self) {
                self.0.stop();
            }
        }
        let on_drop = StopOnDrop(stop.clone());
        let r = blocking(self, move |e| {
            let id = super::resolve(e, &reference)?;
            super::logs_watch::watch(e, &id, options, &stop, &mut sink)
        })
        .await;
        drop(on_drop);
        r
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
