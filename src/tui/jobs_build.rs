//! Making and exploring images, part of the job runner: commit, build (its lines streamed as
//! they come), an image's layers and one layer's entries, an image's history.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::jobs::Jobs;
use super::jobs_net::unsupported;
use super::model::{BuildLine, BuildSpec, CommitSpec, EntryRow, LayerInfo};
use super::msg::{Cmd, Msg, Output};
use crate::engine::build::cancel::BuildCancel;

/// Engine operations that make and explore images. The defaults refuse.
pub trait BuildBackend: Send + Sync + 'static {
    /// Commits container `id`; returns the new image's id.
    fn commit(&self, id: String, spec: CommitSpec) -> BoxFuture<'static, Result<String, String>> {
        let _ = (id, spec);
        unsupported()
    }
    /// Builds, sending its lines as they come; returns the image id. `cancel` stops it.
    fn build(
        &self,
        spec: BuildSpec,
        lines: mpsc::UnboundedSender<BuildLine>,
        cancel: Arc<BuildCancel>,
    ) -> BoxFuture<'static, Result<String, String>> {
        let _ = (spec, lines, cancel);
        unsupported()
    }
    /// Stops the build `cancel` was given to (it then ends with an error).
    fn cancel_build(&self, cancel: Arc<BuildCancel>) -> BoxFuture<'static, Result<(), String>> {
        let _ = cancel;
        unsupported()
    }
    fn layers(&self, image: String) -> BoxFuture<'static, Result<Vec<LayerInfo>, String>> {
        let _ = image;
        unsupported()
    }
    fn layer_entries(
        &self,
        image: String,
        index: usize,
    ) -> BoxFuture<'static, Result<Vec<EntryRow>, String>> {
        let _ = (image, index);
        unsupported()
    }
    /// A header row, then one row a history entry, newest first.
    fn history(&self, image: String) -> BoxFuture<'static, Result<Vec<Vec<String>>, String>> {
        let _ = image;
        unsupported()
    }
}

/// Runs a command that makes or explores images; gives `cmd` back when it is not one.
pub(super) fn run(jobs: &mut Jobs, cmd: Cmd) -> Option<Cmd> {
    let b = jobs.backend();
    match cmd {
        Cmd::Commit {
            job,
            id,
            name,
            spec,
        } => jobs.spawn_job(job, async move {
            let to = spec.reference.clone();
            Output::Done(
                b.commit(id, spec)
                    .await
                    .map(|image| match to {
                        Some(r) => format!(
                            "committed {name} as {r} ({})",
                            super::format::short_id(&image)
                        ),
                        None => format!("committed {name} as {}", super::format::short_id(&image)),
                    })
                    .map_err(|e| format!("cannot commit {name}: {e}")),
            )
        }),
        Cmd::Build { job, spec } => {
            let tx = jobs.sender();
            let cancel = Arc::new(BuildCancel::new());
            jobs.build_cancel = Some((job, Arc::clone(&cancel)));
            jobs.spawn_long(job, async move {
                let (ltx, mut lrx) = mpsc::unbounded_channel();
                let forward = async move {
                    while let Some(line) = lrx.recv().await {
                        let mut batch = vec![line];
                        while batch.len() < 1024 {
                            match lrx.try_recv() {
                                Ok(more) => batch.push(more),
                                Err(_) => break,
                            }
                        }
                        let _ = tx.send(Msg::Job(job, Output::BuildLines(batch))).await;
                    }
                };
                let (result, ()) = tokio::join!(b.build(spec, ltx, cancel), forward);
                Output::Built(result)
            });
        }
        Cmd::CancelBuild { job } => {
            // Only the build under way; one that ended has nothing to stop.
            if let Some((_, cancel)) = jobs.build_cancel.take().filter(|(j, _)| *j == job) {
                let tx = jobs.sender();
                tokio::spawn(async move {
                    if let Err(e) = b.cancel_build(cancel).await {
                        let _ = tx
                            .send(Msg::Job(
                                job,
                                Output::Done(Err(format!("cannot cancel the build: {e}"))),
                            ))
                            .await;
                    }
                });
            }
        }
        Cmd::LoadLayers { job, image } => {
            jobs.spawn_job(job, async move { Output::Layers(b.layers(image).await) })
        }
        Cmd::LoadLayerEntries { job, image, index } => jobs.spawn_job(job, async move {
            Output::LayerEntries(b.layer_entries(image, index).await)
        }),
        Cmd::History { job, image } => {
            jobs.spawn_job(job, async move { Output::Top(b.history(image).await) })
        }
        other => return Some(other),
    }
    None
}
