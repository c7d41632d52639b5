//! [`Backend`] over the real engine. Blocking engine calls run on tokio's blocking pool.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::mpsc;

use super::{Backend, ShellCtl, ShellIo};
use crate::engine::attach::session::{self, Session, SessionEvent};
use crate::engine::container::{self, ContainerRecord, CreateOptions, Status};
use crate::engine::distribution::pull::PullOptions;
use crate::engine::logs::{LogOptions, LogReader};
use crate::engine::volume::{self, PruneVolumes, VolumeFilter};
use crate::engine::{Engine, EngineError, EngineEvent, ImageRef};
use crate::tui::model::{
    ContainerRow, ContainerState, ImageRow, LogLine, RunSpec, Stream, VolumeRow,
};
use crate::tui::msg::{ContainerOp, Kind, News};
use crate::tui::shell_stream::{cr_to_lf, lf_to_crlf};

/// Lines sent to the UI in one message at most.
const BATCH: usize = 2048;
/// How often a follow looks for new lines when there were none.
const POLL: Duration = Duration::from_millis(40);

/// Runs a blocking engine call on the blocking pool.
fn blocking<T, F>(engine: &Engine, f: F) -> BoxFuture<'static, Result<T, String>>
where
    T: Send + 'static,
    F: FnOnce(&Engine) -> Result<T, EngineError> + Send + 'static,
{
    let engine = engine.clone();
    async move {
        crate::engine::blocking(&engine, f)
            .await
            .map_err(|e| e.to_string())
    }
    .boxed()
}

fn row(rec: ContainerRecord) -> ContainerRow {
    let state = match rec.state.status {
        Status::Created => ContainerState::Created,
        Status::Running => ContainerState::Running,
        Status::Paused => ContainerState::Paused,
        Status::Exited => ContainerState::Exited,
        Status::Removing => ContainerState::Removing,
    };
    ContainerRow {
        command: rec.command_line(),
        exit_code: (state == ContainerState::Exited).then_some(rec.state.exit_code),
        started: rec.state.started_at,
        finished: rec.state.finished_at,
        created: rec.created,
        ports: String::new(),
        state,
        image: rec.image,
        name: rec.name,
        id: rec.id,
    }
}

/// Volume names in a container's stored record (`mounts` entries of type `volume`).
fn volumes_of(rec: &ContainerRecord) -> Vec<String> {
    let value = serde_json::to_value(rec).unwrap_or_default();
    value
        .get("mounts")
        .and_then(|m| m.as_array())
        .map(|mounts| {
            mounts
                .iter()
                .filter(|m| m.get("Type").and_then(|t| t.as_str()) == Some("volume"))
                .filter_map(|m| m.get("Name").and_then(|n| n.as_str()))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl Backend for Engine {
    fn containers(&self) -> BoxFuture<'static, Result<Vec<ContainerRow>, String>> {
        blocking(self, |e| {
            Ok(container::list(e)?.into_iter().map(row).collect())
        })
    }

    fn images(&self) -> BoxFuture<'static, Result<Vec<ImageRow>, String>> {
        blocking(self, |e| {
            let users = e.state().read(container::store::list)?;
            let mut rows = Vec::new();
            for img in e.images()? {
                let containers = users.iter().filter(|c| c.image_id == img.id).count();
                let created = img
                    .created
                    .as_deref()
                    .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
                    .map(|t| t.with_timezone(&Utc));
                let names = if img.repo_tags.is_empty() {
                    vec!["<none>:<none>".to_string()]
                } else {
                    img.repo_tags.clone()
                };
                for reference in names {
                    rows.push(ImageRow {
                        id: img.id.clone(),
                        reference,
                        size: img.size,
                        created,
                        containers,
                    });
                }
            }
            Ok(rows)
        })
    }

    fn volumes(&self) -> BoxFuture<'static, Result<Vec<VolumeRow>, String>> {
        blocking(self, |e| {
            let list = volume::ops::list(e, &VolumeFilter::default())?;
            Ok(list
                .into_iter()
                .map(|v| VolumeRow {
                    created: DateTime::parse_from_rfc3339(&v.created_at)
                        .ok()
                        .map(|t| t.with_timezone(&Utc)),
                    // The list leaves the size out (docker's too); measure it here, off the
                    // UI thread, as inspect does.
                    size: v
                        .size
                        .or_else(|| volume::usage::dir_size(&v.mountpoint).ok()),
                    used_by: v.used_by,
                    name: v.name,
                })
                .collect())
        })
    }

    fn container_op(&self, id: String, op: ContainerOp) -> BoxFuture<'static, Result<(), String>> {
        blocking(self, move |e| match op {
            ContainerOp::Start => container::start(e, &id, false).map(|_| ()),
            ContainerOp::Stop => container::stop(e, &id, None),
            ContainerOp::Restart => container::restart(e, &id, None),
            ContainerOp::Kill => container::kill(e, &id, None),
            ContainerOp::Pause => container::pause(e, &id),
            ContainerOp::Unpause => container::unpause(e, &id),
        })
    }

    fn remove_container(
        &self,
        id: String,
        force: bool,
        volumes: bool,
    ) -> BoxFuture<'static, Result<(), String>> {
        blocking(self, move |e| {
            let names = if volumes {
                volumes_of(&container::get(e, &id)?)
            } else {
                Vec::new()
            };
            container::remove(e, &id, force)?;
            if !names.is_empty() {
                volume::ops::remove_anonymous(e, &names)?;
            }
            Ok(())
        })
    }

    fn remove_image(
        &self,
        reference: String,
        force: bool,
    ) -> BoxFuture<'static, Result<(), String>> {
        blocking(self, move |e| e.remove_image(&reference, force).map(|_| ()))
    }

    fn remove_volume(&self, name: String, force: bool) -> BoxFuture<'static, Result<(), String>> {
        blocking(self, move |e| {
            volume::ops::remove(e, &name, force).map(|_| ())
        })
    }

    fn create_volume(&self, name: String) -> BoxFuture<'static, Result<(), String>> {
        blocking(self, move |e| {
            let req = volume::CreateVolume {
                name: Some(name),
                ..Default::default()
            };
            volume::ops::create(e, &req).map(|_| ())
        })
    }

    fn prune(&self, kind: Kind) -> BoxFuture<'static, Result<String, String>> {
        match kind {
            Kind::Container => blocking(self, |e| {
                let n = container::prune(e)?.len();
                Ok(format!("removed {n} stopped container(s)"))
            }),
            Kind::Volume => blocking(self, |e| {
                let r = volume::ops::prune(e, &PruneVolumes::default())?;
                Ok(format!(
                    "removed {} unused anonymous volume(s), {}",
                    r.volumes_deleted.len(),
                    crate::tui::format::size(r.space_reclaimed)
                ))
            }),
            Kind::Image => blocking(self, |e| {
                // The confirm popup promises "all images no container uses": docker's `-a`.
                let r = e.prune_images_with(true)?;
                Ok(format!(
                    "removed {} unused image(s), {} layer(s), {}",
                    r.images.len(),
                    r.layers,
                    crate::tui::format::size(r.reclaimed)
                ))
            }),
        }
    }

    fn inspect(&self, kind: Kind, id: String) -> BoxFuture<'static, Result<String, String>> {
        let pretty =
            |v: serde_json::Value| serde_json::to_string_pretty(&v).map_err(EngineError::from);
        match kind {
            Kind::Container => blocking(self, move |e| {
                let rec = container::get(e, &id)?;
                pretty(crate::engine::compat::container::inspect(e, &rec))
            }),
            Kind::Volume => blocking(self, move |e| {
                let v = volume::ops::inspect(e, &id)?;
                pretty(serde_json::to_value(v)?)
            }),
            Kind::Image => blocking(self, move |e| pretty(e.inspect_image(&id)?)),
        }
    }

    fn top(&self, id: String) -> BoxFuture<'static, Result<Vec<Vec<String>>, String>> {
        blocking(self, move |e| {
            let mut rows = vec![vec![
                "UID".into(),
                "PID".into(),
                "PPID".into(),
                "CMD".into(),
            ]];
            rows.extend(container::top(e, &id)?.into_iter().map(|p| {
                vec![
                    p.uid.to_string(),
                    p.pid.to_string(),
                    p.ppid.to_string(),
                    p.cmd,
                ]
            }));
            Ok(rows)
        })
    }

    fn pull(
        &self,
        reference: String,
        progress: mpsc::UnboundedSender<News>,
    ) -> BoxFuture<'static, Result<String, String>> {
        let engine = self.clone();
        async move {
            let r = ImageRef::parse(&reference).map_err(|e| e.to_string())?;
            let (tx, mut rx) = mpsc::unbounded_channel();
            let forward = async move {
                while let Some(p) = rx.recv().await {
                    if let Some(news) = super::news(EngineEvent::Layer(p)) {
                        let _ = progress.send(news);
                    }
                }
            };
            let options = PullOptions::default();
            let pull = engine.pull(&r, &options, Some(tx));
            let (result, ()) = tokio::join!(pull, forward);
            result.map(|p| p.image.id).map_err(|e| e.to_string())
        }
        .boxed()
    }

    fn run(&self, spec: RunSpec) -> BoxFuture<'static, Result<(String, String), String>> {
        blocking(self, move |e| {
            let opts = CreateOptions {
                name: spec.name.clone(),
                rootfs: spec.image.starts_with('/'),
                image: spec.image.clone(),
                cmd: spec.command.clone(),
                env: spec.env.clone(),
                auto_remove: spec.remove,
                mounts: crate::engine::mounts::MountOptions {
                    volumes: spec.volumes.clone(),
                    ..Default::default()
                },
                ..Default::default()
            };
            let rec = container::create(e, &opts)?;
            if !spec.detach {
                return Ok((rec.id, rec.name));
            }
            if let Err(err) = container::start(e, &rec.id, false) {
                if spec.remove {
                    let _ = container::remove(e, &rec.id, true);
                }
                return Err(err);
            }
            Ok((rec.id, rec.name))
        })
    }

    fn follow_logs(
        &self,
        container: String,
        tail: Option<usize>,
        since: Option<DateTime<Utc>>,
        out: mpsc::Sender<Vec<LogLine>>,
    ) -> BoxFuture<'static, Result<(), String>> {
        blocking(self, move |e| {
            follow(
                e,
                &container,
                LogOptions {
                    tail,
                    since,
                    until: None,
                },
                &out,
            )
        })
    }

    fn open_shell(
        &self,
        container: String,
        attach: bool,
        start: bool,
        cols: u16,
        rows: u16,
    ) -> BoxFuture<'static, Result<ShellIo, String>> {
        let engine = self.clone();
        async move {
            // A shell always has a tty; the main process has one when it was created with -t.
            let tty = if attach {
                let id = container.clone();
                blocking(&engine, move |e| container::get(e, &id))
                    .await?
                    .config
                    .tty
            } else {
                true
            };
            let session = if attach && start {
                session::start_attached(&engine, &container, rows, cols).await
            } else if attach {
                session::open_attach(&engine, &container, rows, cols).await
            } else {
                session::open_shell(&engine, &container, rows, cols).await
            }
            .map_err(|e| e.to_string())?;
            Ok(pump(session, attach, tty))
        }
        .boxed()
    }
}

/// Follows a container's log file until the container is removed or nobody listens; keeps
/// following across restarts (the monitor appends to the same file).
fn follow(
    e: &Engine,
    id: &str,
    options: LogOptions,
    out: &mpsc::Sender<Vec<LogLine>>,
) -> Result<(), EngineError> {
    let rec = container::get(e, id)?;
    if !rec.host_config.log_config.policy()?.readable() {
        return Err(crate::engine::logs::config::not_readable());
    }
    let path = e.layout().container_dir(id).join("log.json");
    let exists = |e: &Engine| -> Result<bool, EngineError> {
        Ok(e.state()
            .read(|tx| container::store::get(tx, id))?
            .is_some())
    };
    let mut idle = 0u32;
    // A container that never ran has no log file yet: wait for it to appear.
    while !path.exists() {
        if out.is_closed() || !exists(e)? {
            return Ok(());
        }
        std::thread::sleep(POLL * 5);
    }
    let mut reader = LogReader::open(&path, options)?;
    let mut entries = reader.read_existing()?;
    loop {
        if !entries.is_empty() {
            idle = 0;
            for chunk in entries.chunks(BATCH) {
                let lines = chunk
                    .iter()
                    .map(|en| LogLine {
                        time: en.time,
                        stream: match en.stream {
                            crate::engine::logs::Stream::Stdout => Stream::Stdout,
                            crate::engine::logs::Stream::Stderr => Stream::Stderr,
                        },
                        container: id.to_string(),
                        text: en.line.trim_end_matches(['\n', '\r']).to_string(),
                    })
                    .collect();
                if out.blocking_send(lines).is_err() {
                    return Ok(());
                }
            }
        } else {
            idle += 1;
            if out.is_closed() {
                return Ok(());
            }
            // About once a second, see whether the container still exists.
            if idle.is_multiple_of(25) && !exists(e)? {
                return Ok(());
            }
            std::thread::sleep(POLL);
        }
        entries = reader.read_available()?;
    }
}

/// Connects a session to the shell pane: control messages in, output out, the exit code at
/// the end. When the pane goes away, an attach detaches (the main process runs on) and a shell
/// gets the end of its input.
/// Without a tty, output lines end in a bare LF and input lines must: both are translated for
/// the embedded terminal.
fn pump(session: Session, attach: bool, tty: bool) -> ShellIo {
    let (mut output, mut input) = session.split();
    let (control, mut ctl) = mpsc::unbounded_channel::<ShellCtl>();
    let (out_tx, out_rx) = mpsc::channel::<Vec<u8>>(64);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        while let Some(c) = ctl.recv().await {
            let r = match c {
                ShellCtl::Input(bytes) if !tty => input.send(&cr_to_lf(&bytes)).await,
                ShellCtl::Input(bytes) => input.send(&bytes).await,
                ShellCtl::Resize { cols, rows } => input.resize(rows, cols).await,
            };
            if r.is_err() {
                return;
            }
        }
        if attach {
            let _ = input.detach().await;
        } else {
            // A shell with a tty: Ctrl-D on an empty line, then the end of its input.
            let _ = input.send(b"\x15\x04").await;
            let _ = input.close_stdin().await;
        }
    });
    tokio::spawn(async move {
        let result = loop {
            match output.next().await {
                Ok(Some(SessionEvent::Output { data, .. })) => {
                    let data = if tty { data } else { lf_to_crlf(&data) };
                    if out_tx.send(data).await.is_err() {
                        break Ok(0);
                    }
                }
                Ok(Some(SessionEvent::Error(m))) => break Err(m),
                Ok(Some(SessionEvent::Exit(code))) => break Ok(code),
                Ok(None) => break Err("the session ended without an exit code".to_string()),
                Err(e) => break Err(e.to_string()),
            }
        };
        drop(out_tx);
        let _ = done_tx.send(result);
    });
    ShellIo {
        control,
        output: out_rx,
        done: async move {
            done_rx
                .await
                .unwrap_or_else(|_| Err("the session task ended".to_string()))
        }
        .boxed(),
    }
}
