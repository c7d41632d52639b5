//! Moving images and files, part of the job runner: push (with per-layer progress as engine
//! news), save and load of image archives, export of a container, copy of a path out of or
//! into a container.

use std::path::PathBuf;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::jobs::Jobs;
use super::jobs_net::unsupported;
use super::model::LayerRow;
use super::msg::{Cmd, Msg, News, Output};

/// Engine operations that move images and files. The defaults refuse.
pub trait MoveBackend: Send + Sync + 'static {
    /// Whether the image `image` names is stored here.
    fn image_present(&self, image: String) -> BoxFuture<'static, Result<bool, String>> {
        let _ = image;
        Box::pin(async { Ok(true) })
    }
    /// Pushes `image`, sending layer progress; returns docker's last line
    /// (`TAG: digest: sha256:… size: N`).
    fn push(
        &self,
        image: String,
        tls_verify: bool,
        progress: mpsc::UnboundedSender<LayerRow>,
    ) -> BoxFuture<'static, Result<String, String>> {
        let _ = (image, tls_verify, progress);
        unsupported()
    }
    fn save_image(&self, image: String, path: PathBuf) -> BoxFuture<'static, Result<(), String>> {
        let _ = (image, path);
        unsupported()
    }
    /// Returns the names (or ids) of the images loaded.
    fn load_images(&self, path: PathBuf) -> BoxFuture<'static, Result<Vec<String>, String>> {
        let _ = path;
        unsupported()
    }
    fn export_container(
        &self,
        id: String,
        path: PathBuf,
    ) -> BoxFuture<'static, Result<(), String>> {
        let _ = (id, path);
        unsupported()
    }
    fn copy_files(
        &self,
        id: String,
        into: bool,
        container_path: String,
        host_path: PathBuf,
    ) -> BoxFuture<'static, Result<(), String>> {
        let _ = (id, into, container_path, host_path);
        unsupported()
    }
}

/// Runs a command that moves images or files; gives `cmd` back when it is not one.
pub(super) fn run(jobs: &mut Jobs, cmd: Cmd) -> Option<Cmd> {
    let b = jobs.backend();
    match cmd {
        Cmd::Push {
            job,
            image,
            tls_verify,
        } => {
            let tx = jobs.sender();
            jobs.spawn_job(job, async move {
                let (ptx, mut prx) = mpsc::unbounded_channel();
                let forward = {
                    let tx = tx.clone();
                    let image = image.clone();
                    tokio::spawn(async move {
                        while let Some(layer) = prx.recv().await {
                            let news = News::PushLayer {
                                image: image.clone(),
                                layer,
                            };
                            let _ = tx.send(Msg::Engine(news)).await;
                        }
                    })
                };
                let result = b.push(image.clone(), tls_verify, ptx).await;
                let _ = forward.await;
                let _ = tx
                    .send(Msg::Engine(News::PushFinished { image, result }))
                    .await;
                // The push news said it all.
                Output::Done(Ok(String::new()))
            });
        }
        Cmd::SaveImage { job, image, path } => jobs.spawn_job(job, async move {
            let shown = path.display().to_string();
            Output::Done(
                b.save_image(image.clone(), path)
                    .await
                    .map(|()| format!("saved {image} to {shown}"))
                    .map_err(|e| format!("cannot save {image} to {shown}: {e}")),
            )
        }),
        Cmd::LoadArchive { job, path } => jobs.spawn_job(job, async move {
            let shown = path.display().to_string();
            Output::Done(
                b.load_images(path)
                    .await
                    .map(|names| format!("loaded {} from {shown}", names.join(", ")))
                    .map_err(|e| format!("cannot load {shown}: {e}")),
            )
        }),
        Cmd::ExportContainer {
            job,
            id,
            name,
            path,
        } => jobs.spawn_job(job, async move {
            let shown = path.display().to_string();
            Output::Done(
                b.export_container(id, path)
                    .await
                    .map(|()| format!("exported {name} to {shown}"))
                    .map_err(|e| format!("cannot export {name} to {shown}: {e}")),
            )
        }),
        Cmd::CopyFiles {
            job,
            id,
            name,
            into,
            container_path,
            host_path,
        } => jobs.spawn_job(job, async move {
            let host = host_path.display().to_string();
            let (from, to) = if into {
                (host.clone(), format!("{name}:{container_path}"))
            } else {
                (format!("{name}:{container_path}"), host.clone())
            };
            Output::Done(
                b.copy_files(id, into, container_path, host_path)
                    .await
                    .map(|()| format!("copied {from} to {to}"))
                    .map_err(|e| format!("cannot copy {from} to {to}: {e}")),
            )
        }),
        other => return Some(other),
    }
    None
}
