//! [`Backend`] over the real engine: every call is one of the engine's async methods, its
//! error turned into the text the UI shows.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::mpsc;

use super::{Backend, ShellCtl, ShellIo};
use crate::engine::attach::session::{Session, SessionEvent};
use crate::engine::container::{ContainerRecord, CreateOptions, Status};
use crate::engine::distribution::pull::PullOptions;
use crate::engine::exec::ExecOptions;
use crate::engine::logs::LogOptions;
use crate::engine::volume::{PruneVolumes, VolumeFilter};
use crate::engine::{Engine, EngineError, EngineEvent, ImageRef};
use crate::tui::model::{
    ContainerRow, ContainerState, Health, ImageRow, LogLine, RunSpec, StatSample, Stream, VolumeRow,
};
use crate::tui::msg::{ContainerOp, Kind, News};
use crate::tui::shell_stream::{cr_to_lf, lf_to_crlf};

/// Runs an engine call as a boxed future whose error is the text the UI shows.
fn call<T, F>(f: F) -> BoxFuture<'static, Result<T, String>>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, EngineError>> + Send + 'static,
{
    async move { f.await.map_err(|e| e.to_string()) }.boxed()
}

fn row(rec: ContainerRecord, ports: String) -> ContainerRow {
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
        ports,
        cpu: None,
        memory: None,
        health: match rec.health_word() {
            "starting" => Some(Health::Starting),
            "healthy" => Some(Health::Healthy),
            "unhealthy" => Some(Health::Unhealthy),
            _ => None,
        },
        restarts: rec.restart_count,
        state,
        image: rec.image,
        name: rec.name,
        id: rec.id,
    }
}

impl Backend for Engine {
    fn containers(&self) -> BoxFuture<'static, Result<Vec<ContainerRow>, String>> {
        let e = self.clone();
        call(async move {
            let rows = e.container_rows(row).await?;
            // The records and the database's buffers of a reload are free now.
            crate::tui::trim_heap();
            Ok(rows)
        })
    }

    fn stats(&self, ids: Vec<String>) -> BoxFuture<'static, Result<Vec<StatSample>, String>> {
        let engine = self.clone();
        async move {
            // The engine keeps the rows' counter files open from one tick to the next.
            let sample = engine
                .container_stats_tracked(ids)
                .await
                .map_err(|e| e.to_string())?;
            Ok(sample
                .into_iter()
                .filter(|s| s.running)
                .map(|s| StatSample {
                    id: s.id,
                    cpu_ns: s.cpu_total_ns,
                    memory: s.memory_usage,
                    net_rx: s.net_rx,
                    net_tx: s.net_tx,
                    block_read: s.block_read,
                    block_write: s.block_write,
                    at: s.read_at,
                })
                .collect())
        }
        .boxed()
    }

    fn images(&self) -> BoxFuture<'static, Result<Vec<ImageRow>, String>> {
        let e = self.clone();
        call(async move {
            let mut rows = Vec::new();
            for used in e.image_list().await? {
                let img = used.image;
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
                        containers: used.containers,
                    });
                }
            }
            Ok(rows)
        })
    }

    fn volumes(&self) -> BoxFuture<'static, Result<Vec<VolumeRow>, String>> {
        let e = self.clone();
        call(async move {
            // The list leaves the size out (docker's too); the pane shows it, measured off the
            // UI thread as inspect does.
            let list = e.volumes_sized(VolumeFilter::default()).await?;
            Ok(list
                .into_iter()
                .map(|v| VolumeRow {
                    created: DateTime::parse_from_rfc3339(&v.created_at)
                        .ok()
                        .map(|t| t.with_timezone(&Utc)),
                    size: v.size,
                    used_by: v.used_by,
                    name: v.name,
                })
                .collect())
        })
    }

    fn container_op(&self, id: String, op: ContainerOp) -> BoxFuture<'static, Result<(), String>> {
        let e = self.clone();
        call(async move {
            match op {
                ContainerOp::Start => e.start_container(id).await,
                ContainerOp::Stop => e.stop_container(id, None).await,
                ContainerOp::Restart => e.restart_container(id, None).await,
                ContainerOp::Kill => e.kill_container(id, None).await,
                ContainerOp::Pause => e.pause_container(id).await,
                ContainerOp::Unpause => e.unpause_container(id).await,
            }
        })
    }

    fn remove_container(
        &self,
        id: String,
        force: bool,
        volumes: bool,
    ) -> BoxFuture<'static, Result<(), String>> {
        let e = self.clone();
        call(async move { e.remove_container(id, force, volumes).await.map(|_| ()) })
    }

    fn remove_image(
        &self,
        reference: String,
        force: bool,
    ) -> BoxFuture<'static, Result<(), String>> {
        let e = self.clone();
        call(async move { e.image_delete(reference, force).await.map(|_| ()) })
    }

    fn remove_volume(&self, name: String, force: bool) -> BoxFuture<'static, Result<(), String>> {
        let e = self.clone();
        call(async move { e.remove_volume(name, force).await.map(|_| ()) })
    }

    fn create_volume(&self, name: String) -> BoxFuture<'static, Result<(), String>> {
        let e = self.clone();
        let req = crate::engine::volume::CreateVolume {
            name: Some(name),
            ..Default::default()
        };
        call(async move { e.create_volume(req).await.map(|_| ()) })
    }

    fn prune(&self, kind: Kind) -> BoxFuture<'static, Result<String, String>> {
        let e = self.clone();
        call(async move {
            Ok(match kind {
                Kind::Container => {
                    let n = e.prune_containers().await?.len();
                    format!("removed {n} stopped container(s)")
                }
                Kind::Volume => {
                    let r = e.prune_volumes(PruneVolumes::default()).await?;
                    format!(
                        "removed {} unused anonymous volume(s), {}",
                        r.volumes_deleted.len(),
                        crate::tui::format::size(r.space_reclaimed)
                    )
                }
                Kind::Network => {
                    let names = e.network_prune().await?;
                    format!("removed {} unused network(s)", names.len())
                }
                Kind::Image => {
                    // The confirm popup promises "all images no container uses": docker's `-a`.
                    let r = e.image_prune(true).await?;
                    format!(
                        "removed {} unused image(s), {} layer(s), {}",
                        r.images.len(),
                        r.layers,
                        crate::tui::format::size(r.reclaimed)
                    )
                }
            })
        })
    }

    fn inspect(&self, kind: Kind, id: String) -> BoxFuture<'static, Result<String, String>> {
        let e = self.clone();
        call(async move {
            let value = match kind {
                Kind::Container => serde_json::to_value(e.inspect_container(id).await?)?,
                Kind::Volume => serde_json::to_value(e.inspect_volume(id).await?)?,
                Kind::Image => serde_json::to_value(e.image_inspect(id).await?)?,
                Kind::Network => serde_json::to_value(e.network_inspect(id).await?)?,
            };
            Ok(serde_json::to_string_pretty(&value)?)
        })
    }

    fn top(&self, id: String) -> BoxFuture<'static, Result<Vec<Vec<String>>, String>> {
        let e = self.clone();
        call(async move {
            let mut rows = vec![vec![
                "UID".into(),
                "PID".into(),
                "PPID".into(),
                "CMD".into(),
            ]];
            rows.extend(e.container_top(id).await?.into_iter().map(|p| {
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
        call(async move {
            let r = ImageRef::parse(&reference)?;
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
            result.map(|p| p.image.id)
        })
    }

    fn run(&self, spec: RunSpec) -> BoxFuture<'static, Result<(String, String), String>> {
        let e = self.clone();
        let opts = CreateOptions {
            name: spec.name.clone(),
            rootfs: spec.image.starts_with('/'),
            image: spec.image.clone(),
            cmd: spec.command.clone(),
            env: spec.env.clone(),
            auto_remove: spec.remove,
            publish: spec.ports.clone(),
            network: spec.network.clone(),
            network_aliases: spec.aliases.clone(),
            workdir: spec.workdir.clone(),
            user: spec.user.clone(),
            memory: spec.memory,
            cpus: spec.cpus,
            restart: spec.restart.clone(),
            tty: spec.tty,
            interactive: spec.tty,
            mounts: crate::engine::mounts::MountOptions {
                volumes: spec.volumes.clone(),
                ..Default::default()
            },
            ..Default::default()
        };
        // Not detached: only created here; the shell pane starts it attached.
        call(async move {
            let rec = e.run_container(opts, spec.detach).await?;
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
        let e = self.clone();
        let options = LogOptions {
            tail,
            since,
            until: None,
        };
        let id = container.clone();
        // The job's task is aborted when the viewer leaves: dropping this future wakes and
        // ends the watch.
        let stop = crate::engine::container::dir_events::WatchStop::new();
        // A viewer that drops its receiver without aborting the job ends the watch too.
        let closed = out.clone();
        call(async move {
            let watch = e.watch_logs(container, options, stop, move |entries| {
                let lines = entries
                    .iter()
                    .map(|en| LogLine {
                        time: en.time,
                        stream: match en.stream {
                            crate::engine::logs::Stream::Stdout => Stream::Stdout,
                            crate::engine::logs::Stream::Stderr => Stream::Stderr,
                        },
                        container: id.clone(),
                        text: en.line.trim_end_matches(['\n', '\r']).to_string(),
                    })
                    .collect();
                out.blocking_send(lines).is_ok()
            });
            tokio::select! {
                r = watch => r,
                _ = closed.closed() => Ok(()),
            }
        })
    }

    fn open_shell(
        &self,
        container: String,
        attach: bool,
        start: bool,
        cols: u16,
        rows: u16,
        exec: Option<crate::tui::msg::Exec>,
    ) -> BoxFuture<'static, Result<ShellIo, String>> {
        let engine = self.clone();
        call(async move {
            // A shell always has a tty; the main process has one when it was created with -t.
            let tty = if attach {
                engine.container(container.clone()).await?.config.tty
            } else {
                true
            };
            let session = if attach {
                engine.attach_session(container, start, rows, cols).await
            } else if let Some(x) = exec {
                let opts = ExecOptions {
                    cmd: x.cmd,
                    user: (!x.user.is_empty()).then_some(x.user),
                    tty: true,
                    interactive: true,
                    ..Default::default()
                };
                engine.exec_session(container, opts, rows, cols).await
            } else {
                engine.shell_session(container, rows, cols).await
            }?;
            Ok(pump(session, attach, tty))
        })
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
