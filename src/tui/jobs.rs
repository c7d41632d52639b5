//! The only place the TUI touches the engine. Each [`Cmd`] becomes a tokio task that calls a
//! [`Backend`] and answers with a `Msg::Job` tagged with the command's job id; long jobs (log
//! follows, shells) can be cancelled. The engine's own events and its state generation counter
//! are turned into `Msg`s here too.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tokio::sync::{broadcast, mpsc};
use tokio::task::AbortHandle;

use super::model::{ContainerRow, ImageRow, LayerRow, LogLine, RunSpec, StatSample, VolumeRow};
use super::msg::{Cmd, ContainerOp, JobId, Kind, Msg, News, Output, Ran};
use crate::engine::{Engine, EngineEvent};

/// What the shell pane sends to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellCtl {
    Input(Vec<u8>),
    Resize { cols: u16, rows: u16 },
}

/// A running exec or attach session: control in, terminal bytes out, exit at the end.
pub struct ShellIo {
    pub control: mpsc::UnboundedSender<ShellCtl>,
    pub output: mpsc::Receiver<Vec<u8>>,
    /// Resolves when the session ends: `Ok(exit code)` or why it failed.
    pub done: BoxFuture<'static, Result<i32, String>>,
}

/// Engine operations the TUI needs, as futures that own what they use. Errors are the
/// messages to show.
pub trait Backend:
    super::jobs_net::NetworkBackend
    + super::jobs_system::SystemBackend
    + super::jobs_moves::MoveBackend
    + super::jobs_build::BuildBackend
    + Send
    + Sync
    + 'static
{
    fn containers(&self) -> BoxFuture<'static, Result<Vec<ContainerRow>, String>>;
    fn stats(&self, ids: Vec<String>) -> BoxFuture<'static, Result<Vec<StatSample>, String>>;
    fn images(&self) -> BoxFuture<'static, Result<Vec<ImageRow>, String>>;
    fn volumes(&self) -> BoxFuture<'static, Result<Vec<VolumeRow>, String>>;
    fn container_op(&self, id: String, op: ContainerOp) -> BoxFuture<'static, Result<(), String>>;
    fn remove_container(
        &self,
        id: String,
        force: bool,
        volumes: bool,
    ) -> BoxFuture<'static, Result<(), String>>;
    fn remove_image(
        &self,
        reference: String,
        force: bool,
    ) -> BoxFuture<'static, Result<(), String>>;
    fn remove_volume(&self, name: String, force: bool) -> BoxFuture<'static, Result<(), String>>;
    fn create_volume(&self, name: String) -> BoxFuture<'static, Result<(), String>>;
    /// Returns a summary ("removed 3 containers").
    fn prune(&self, kind: Kind) -> BoxFuture<'static, Result<String, String>>;
    /// Pretty JSON.
    fn inspect(&self, kind: Kind, id: String) -> BoxFuture<'static, Result<String, String>>;
    /// The processes of running container `id`: a header row, then one row a process.
    fn top(&self, id: String) -> BoxFuture<'static, Result<Vec<Vec<String>>, String>> {
        let _ = id;
        Box::pin(async { Err("listing processes is not supported here".to_string()) })
    }
    /// Pulls `reference`, sending progress as it goes; returns the image id.
    fn pull(
        &self,
        reference: String,
        progress: mpsc::UnboundedSender<News>,
    ) -> BoxFuture<'static, Result<String, String>>;
    /// Creates a container and, when `spec.detach`, starts it (an attached run is started by
    /// `open_shell`, so that no output is missed); returns its id and name.
    fn run(&self, spec: RunSpec) -> BoxFuture<'static, Result<(String, String), String>>;
    /// Sends batches of log lines until the container's log ends or the task is aborted.
    fn follow_logs(
        &self,
        container: String,
        tail: Option<usize>,
        since: Option<DateTime<Utc>>,
        out: mpsc::Sender<Vec<LogLine>>,
    ) -> BoxFuture<'static, Result<(), String>>;
    /// Opens a shell, or with `attach` attaches to the main process; with `start` as well,
    /// starts the container with the session connected first.
    /// `exec` runs a command of the user's instead of the login shell.
    #[allow(clippy::too_many_arguments)]
    fn open_shell(
        &self,
        container: String,
        attach: bool,
        start: bool,
        cols: u16,
        rows: u16,
        exec: Option<super::msg::Exec>,
    ) -> BoxFuture<'static, Result<ShellIo, String>>;
}

/// Runs commands as tasks.
pub struct Jobs {
    backend: Arc<dyn Backend>,
    tx: mpsc::Sender<Msg>,
    long: HashMap<JobId, AbortHandle>,
    shells: HashMap<JobId, mpsc::UnboundedSender<ShellCtl>>,
    /// The build under way (the TUI runs one at a time) and what stops it.
    pub(super) build_cancel: Option<(JobId, Arc<crate::engine::build::cancel::BuildCancel>)>,
}

impl Jobs {
    pub fn new(backend: Arc<dyn Backend>, tx: mpsc::Sender<Msg>) -> Jobs {
        Jobs {
            backend,
            tx,
            long: HashMap::new(),
            shells: HashMap::new(),
            build_cancel: None,
        }
    }

    /// The backend, for the parts of the runner in other files.
    pub(super) fn backend(&self) -> Arc<dyn Backend> {
        Arc::clone(&self.backend)
    }

    /// Where jobs send their messages.
    pub(super) fn sender(&self) -> mpsc::Sender<Msg> {
        self.tx.clone()
    }

    /// Spawns a short job answering `Msg::Job(job, …)`.
    pub(super) fn spawn_job<F>(&mut self, job: JobId, fut: F)
    where
        F: Future<Output = Output> + Send + 'static,
    {
        self.spawn(job, false, fut)
    }

    /// Spawns a job that `Cmd::Cancel` can stop.
    pub(super) fn spawn_long<F>(&mut self, job: JobId, fut: F)
    where
        F: Future<Output = Output> + Send + 'static,
    {
        self.spawn(job, true, fut)
    }

    fn spawn<F>(&mut self, job: JobId, long: bool, fut: F)
    where
        F: Future<Output = Output> + Send + 'static,
    {
        let tx = self.tx.clone();
        let handle = tokio::spawn(async move {
            let out = fut.await;
            let _ = tx.send(Msg::Job(job, out)).await;
        });
        if long {
            self.long.retain(|_, h| !h.is_finished());
            self.long.insert(job, handle.abort_handle());
        }
    }

    /// Starts `cmd`. Terminal commands (`Quit`, `SetMouse`) are the event loop's, not ours.
    pub fn run(&mut self, cmd: Cmd) {
        let Some(cmd) = super::jobs_net::run(self, cmd)
            .and_then(|c| super::jobs_system::run(self, c))
            .and_then(|c| super::jobs_moves::run(self, c))
            .and_then(|c| super::jobs_build::run(self, c))
        else {
            return;
        };
        let b = Arc::clone(&self.backend);
        match cmd {
            Cmd::LoadContainers(job) => self.spawn(job, false, async move {
                Output::Containers(b.containers().await)
            }),
            Cmd::LoadStats(job, ids) => {
                self.spawn(job, false, async move { Output::Stats(b.stats(ids).await) })
            }
            Cmd::LoadImages(job) => {
                self.spawn(job, false, async move { Output::Images(b.images().await) })
            }
            Cmd::LoadVolumes(job) => {
                self.spawn(
                    job,
                    false,
                    async move { Output::Volumes(b.volumes().await) },
                )
            }
            Cmd::Container { job, ids, op } => self.spawn(job, false, async move {
                let n = ids.len();
                let mut errors = Vec::new();
                for id in ids {
                    if let Err(e) = b.container_op(id.clone(), op).await {
                        errors.push(format!("cannot {} {}: {e}", op.verb(), short(&id)));
                    }
                }
                done(n, errors, &format!("{} {n} container(s)", op.done()))
            }),
            Cmd::RemoveContainers {
                job,
                ids,
                force,
                volumes,
            } => self.spawn(job, false, async move {
                let n = ids.len();
                let mut errors = Vec::new();
                for id in ids {
                    if let Err(e) = b.remove_container(id.clone(), force, volumes).await {
                        errors.push(format!("cannot remove container {}: {e}", short(&id)));
                    }
                }
                done(n, errors, &format!("removed {n} container(s)"))
            }),
            Cmd::RemoveImages { job, ids, force } => self.spawn(job, false, async move {
                let n = ids.len();
                let mut errors = Vec::new();
                for id in ids {
                    if let Err(e) = b.remove_image(id.clone(), force).await {
                        errors.push(format!("cannot remove image {id}: {e}"));
                    }
                }
                done(n, errors, &format!("removed {n} image(s)"))
            }),
            Cmd::RemoveVolumes { job, names, force } => self.spawn(job, false, async move {
                let n = names.len();
                let mut errors = Vec::new();
                for name in names {
                    if let Err(e) = b.remove_volume(name.clone(), force).await {
                        errors.push(format!("cannot remove volume {name}: {e}"));
                    }
                }
                done(n, errors, &format!("removed {n} volume(s)"))
            }),
            Cmd::CreateVolume { job, name } => self.spawn(job, false, async move {
                Output::Done(
                    b.create_volume(name.clone())
                        .await
                        .map(|_| format!("created volume {name}"))
                        .map_err(|e| format!("cannot create volume {name}: {e}")),
                )
            }),
            Cmd::Prune { job, kind } => self.spawn(job, false, async move {
                Output::Done(
                    b.prune(kind)
                        .await
                        .map_err(|e| format!("cannot prune {}s: {e}", kind.noun())),
                )
            }),
            Cmd::Inspect { job, kind, id } => self.spawn(job, false, async move {
                Output::Inspect(
                    b.inspect(kind, id.clone())
                        .await
                        .map_err(|e| format!("cannot inspect {} {id}: {e}", kind.noun())),
                )
            }),
            Cmd::Details { job, kind, id } => self.spawn(job, false, async move {
                Output::Details(b.inspect(kind, id).await)
            }),
            Cmd::Top { job, id } => {
                self.spawn(job, false, async move { Output::Top(b.top(id).await) })
            }
            Cmd::Pull { job, reference } => {
                let tx = self.tx.clone();
                self.spawn(job, true, async move {
                    let (ptx, mut prx) = mpsc::unbounded_channel();
                    let forward = {
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            while let Some(news) = prx.recv().await {
                                let _ = tx.send(Msg::Engine(news)).await;
                            }
                        })
                    };
                    let result = b.pull(reference.clone(), ptx).await;
                    let _ = forward.await;
                    let _ = tx
                        .send(Msg::Engine(News::PullFinished {
                            image: reference,
                            result,
                        }))
                        .await;
                    Output::Done(Ok(String::new()))
                });
            }
            Cmd::Run { job, spec } => self.spawn(job, false, async move {
                // An image that is not here: the user is asked whether to pull it first.
                if !spec.image.starts_with('/')
                    && b.image_present(spec.image.clone()).await == Ok(false)
                {
                    return Output::NeedsPull(spec);
                }
                let attach = !spec.detach;
                let image = spec.image.clone();
                Output::Ran(
                    b.run(*spec)
                        .await
                        .map(|(id, name)| Ran { id, name, attach })
                        .map_err(|e| format!("cannot run {image}: {e}")),
                )
            }),
            Cmd::FollowLogs {
                job,
                container,
                tail,
                since,
            } => {
                let tx = self.tx.clone();
                self.spawn(job, true, async move {
                    // Follow and forward in one task: cancelling the job drops the receiver,
                    // which tells the follower (on a blocking thread) to stop.
                    let (ltx, mut lrx) = mpsc::channel::<Vec<LogLine>>(64);
                    let forward = async move {
                        while let Some(mut batch) = lrx.recv().await {
                            // Coalesce what is already queued into one message.
                            while batch.len() < 4096 {
                                match lrx.try_recv() {
                                    Ok(more) => batch.extend(more),
                                    Err(_) => break,
                                }
                            }
                            if tx
                                .send(Msg::Job(job, Output::LogLines(batch)))
                                .await
                                .is_err()
                            {
                                break;
                            }
                        }
                    };
                    let follow = b.follow_logs(container, tail, since, ltx);
                    let (result, ()) = tokio::join!(follow, forward);
                    Output::LogsEnded(result.err())
                });
            }
            Cmd::Cancel(job) => {
                if let Some(h) = self.long.remove(&job) {
                    h.abort();
                }
                self.shells.remove(&job);
            }
            Cmd::SaveLogs { job, path, text } => self.spawn(job, false, async move {
                let lines = text.lines().count();
                let shown = path.display().to_string();
                Output::Done(match write_new(&path, text).await {
                    Ok(()) => Ok(format!("saved {lines} lines to {shown}")),
                    Err(e) => Err(format!("cannot save logs to {shown}: {e}")),
                })
            }),
            Cmd::OpenShell {
                job,
                container,
                attach,
                start,
                cols,
                rows,
                exec,
            } => {
                let tx = self.tx.clone();
                let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
                self.shells.insert(job, ctl_tx);
                self.spawn(job, true, async move {
                    match b
                        .open_shell(container, attach, start, cols, rows, exec)
                        .await
                    {
                        Ok(io) => Output::ShellEnded(drive_shell(job, io, ctl_rx, tx).await),
                        Err(e) => Output::ShellEnded(Some(e)),
                    }
                });
            }
            Cmd::ShellInput { job, bytes } => {
                if let Some(ctl) = self.shells.get(&job) {
                    let _ = ctl.send(ShellCtl::Input(bytes));
                }
            }
            Cmd::ShellResize { job, cols, rows } => {
                if let Some(ctl) = self.shells.get(&job) {
                    let _ = ctl.send(ShellCtl::Resize { cols, rows });
                }
            }
            Cmd::SetMouse(_) | Cmd::Copy(_) | Cmd::Quit => {}
            // Run by the parts in other files, above.
            _ => {}
        }
    }

    /// Stops every long job (on quit).
    pub fn shutdown(&mut self) {
        for (_, h) in self.long.drain() {
            h.abort();
        }
        self.shells.clear();
    }
}

/// Pumps a shell session until it ends: our control messages in, its output to the UI.
async fn drive_shell(
    job: JobId,
    mut io: ShellIo,
    mut ctl: mpsc::UnboundedReceiver<ShellCtl>,
    tx: mpsc::Sender<Msg>,
) -> Option<String> {
    loop {
        tokio::select! {
            Some(c) = ctl.recv() => { let _ = io.control.send(c); }
            out = io.output.recv() => match out {
                Some(bytes) => { let _ = tx.send(Msg::Job(job, Output::ShellOutput(bytes))).await; }
                None => break,
            },
        }
    }
    io.done.await.err()
}

/// Writes a new file (never over an existing one), removing it again if the write fails.
async fn write_new(path: &std::path::Path, text: String) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut f = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await?;
    let r = async {
        f.write_all(text.as_bytes()).await?;
        f.sync_all().await
    }
    .await;
    if r.is_err() {
        let _ = tokio::fs::remove_file(path).await;
    }
    r
}

fn short(id: &str) -> &str {
    super::format::short_id(id)
}

pub(super) fn done(n: usize, errors: Vec<String>, ok: &str) -> Output {
    if errors.is_empty() {
        Output::Done(Ok(ok.to_string()))
    } else {
        let failed = errors.len();
        let mut text = errors.join("\n");
        if n > 1 {
            text = format!("{failed} of {n} failed:\n{text}");
        }
        Output::Done(Err(text))
    }
}

/// Starts the engine feeds: its in-process events; the journal of every berth process (each
/// recorded event reloads the list it concerns, see [`journal_news`]); and, as a slow backstop
/// for the few writes without an event, a watcher of the state generation counter. All as
/// `Msg`s on `tx`.
///
/// The watcher reloads every list when the generation moved and no event came since its last
/// look: a change that events announced was reloaded by them already, and reloading all the
/// lists once more (every container record read and parsed two or three times) was most of an
/// idle TUI's CPU after containers stopped. A write without an event in the same few seconds as
/// one with an event shows at the next reload of its list.
pub fn start_feeds(engine: &Engine, tx: mpsc::Sender<Msg>) {
    // Events received so far, for the watcher.
    let heard = Arc::new(AtomicU64::new(0));
    let mut events = engine.subscribe();
    let etx = tx.clone();
    let eheard = heard.clone();
    tokio::spawn(async move {
        loop {
            let msg = match events.recv().await {
                Ok(ev) => match broadcast_news(ev) {
                    Some(n) => Msg::Engine(n),
                    None => continue,
                },
                Err(broadcast::error::RecvError::Lagged(_)) => Msg::StateChanged,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            eheard.fetch_add(1, Ordering::Relaxed);
            if etx.send(msg).await.is_err() {
                break;
            }
        }
    });
    if let Ok(mut journal) = engine.follow_events(Default::default()) {
        let jtx = tx.clone();
        let jheard = heard.clone();
        tokio::spawn(async move {
            while let Some(Ok(event)) = journal.recv().await {
                jheard.fetch_add(1, Ordering::Relaxed);
                let news = journal_news(&event);
                if jtx.send(Msg::Journal(event_row(&event))).await.is_err() {
                    break;
                }
                if let Some(n) = news {
                    if jtx.send(Msg::Engine(n)).await.is_err() {
                        break;
                    }
                }
            }
        });
    }
    let engine = engine.clone();
    tokio::spawn(async move {
        let mut last = None;
        let mut last_heard = 0;
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let now_heard = heard.load(Ordering::Relaxed);
            if let Ok(g) = engine.generation().await {
                let unannounced = now_heard == last_heard;
                if last.is_some_and(|l| l != g)
                    && unannounced
                    && tx.send(Msg::StateChanged).await.is_err()
                {
                    break;
                }
                last = Some(g);
                last_heard = now_heard;
            }
            if tx.is_closed() {
                break;
            }
        }
    });
}

/// The events pane's row of a journal event.
pub fn event_row(e: &crate::engine::journal::Event) -> super::model::EventRow {
    let name = e.attributes.get("name").cloned();
    let actor = name.unwrap_or_else(|| {
        let id = e.actor_id.strip_prefix("sha256:").unwrap_or(&e.actor_id);
        if id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit()) {
            id[..12].to_string()
        } else {
            e.actor_id.clone()
        }
    });
    let attributes = e
        .attributes
        .iter()
        .filter(|(k, _)| *k != "name")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ");
    super::model::EventRow {
        seq: format!("{:020}", e.seq),
        time: e.time,
        kind: e.kind.as_str().to_string(),
        action: e.action.clone(),
        actor,
        attributes,
    }
}

/// Which list a journal event changes.
pub fn journal_news(event: &crate::engine::journal::Event) -> Option<News> {
    use crate::engine::journal::EventType;
    // A probe's exec changes nothing a list shows; its verdict comes as `health_status`.
    if event.action.starts_with("exec_") {
        return None;
    }
    Some(News::Changed(match event.kind {
        EventType::Container => Kind::Container,
        EventType::Image => Kind::Image,
        EventType::Volume => Kind::Volume,
        EventType::Network => Kind::Network,
    }))
}

/// The TUI's view of an engine event from the broadcast. Layer progress comes over the pull
/// job's own channel (never lagging), so the broadcast copy is dropped.
fn broadcast_news(ev: EngineEvent) -> Option<News> {
    match ev {
        EngineEvent::Layer(_) => None,
        other => news(other),
    }
}

/// The TUI's view of an engine event.
pub fn news(ev: EngineEvent) -> Option<News> {
    Some(match ev {
        EngineEvent::PullStarted { image, layers } => News::PullStarted { image, layers },
        EngineEvent::Layer(p) => News::Layer {
            image: p.image,
            layer: LayerRow {
                digest: p.digest,
                state: p.state.label().to_string(),
                done: p.done,
                total: p.total,
                finished: matches!(
                    p.state,
                    crate::engine::LayerState::Done | crate::engine::LayerState::AlreadyExists
                ),
            },
        },
        // The pull job reports its own end (with the error), so that it is never missed.
        EngineEvent::PullFinished { .. } => return None,
        EngineEvent::ImagesChanged => News::Changed(Kind::Image),
        EngineEvent::ContainersChanged => News::Changed(Kind::Container),
        EngineEvent::VolumesChanged => News::Changed(Kind::Volume),
        EngineEvent::NetworksChanged => News::Changed(Kind::Network),
    })
}

#[path = "jobs_engine.rs"]
mod engine_backend;
#[path = "jobs_engine_build.rs"]
mod engine_backend_build;
#[path = "jobs_engine_moves.rs"]
mod engine_backend_moves;
#[path = "jobs_engine_net.rs"]
mod engine_backend_net;
#[path = "jobs_engine_system.rs"]
mod engine_backend_system;
