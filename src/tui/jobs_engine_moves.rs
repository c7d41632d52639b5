//! [`MoveBackend`] over the real engine.

use std::path::PathBuf;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::mpsc;

use crate::engine::container::cp::{CopyOptions, HostSide};
use crate::engine::distribution::push::{PushOptions, PushState};
use crate::engine::image::archive::{ArchiveFormat, LoadInput, SaveOutput};
use crate::engine::{Engine, ImageRef};
use crate::tui::jobs_moves::MoveBackend;
use crate::tui::model::LayerRow;

impl MoveBackend for Engine {
    fn image_present(&self, image: String) -> BoxFuture<'static, Result<bool, String>> {
        let e = self.clone();
        async move {
            match e.image_inspect(image).await {
                Ok(_) => Ok(true),
                Err(err) if err.kind() == crate::engine::ErrorKind::NotFound => Ok(false),
                Err(err) => Err(err.to_string()),
            }
        }
        .boxed()
    }

    fn push(
        &self,
        image: String,
        progress: mpsc::UnboundedSender<LayerRow>,
    ) -> BoxFuture<'static, Result<String, String>> {
        let e = self.clone();
        async move {
            let r = ImageRef::parse(&image).map_err(|e| e.to_string())?;
            let (tx, mut rx) = mpsc::unbounded_channel();
            let forward = async move {
                while let Some(p) = rx.recv().await {
                    let p: crate::engine::distribution::push::PushProgress = p;
                    let finished = !matches!(p.state, PushState::Preparing | PushState::Pushing);
                    let _ = progress.send(LayerRow {
                        state: p.state.label(),
                        digest: p.digest,
                        done: p.done,
                        total: p.total,
                        finished,
                    });
                }
            };
            let opts = PushOptions { tls_verify: true };
            let push = e.push(&r, &opts, Some(tx));
            let (result, ()) = tokio::join!(push, forward);
            let pushed = result.map_err(|e| e.to_string())?;
            Ok(format!(
                "{}: digest: {} size: {}",
                pushed.tag, pushed.digest, pushed.size
            ))
        }
        .boxed()
    }

    fn save_image(&self, image: String, path: PathBuf) -> BoxFuture<'static, Result<(), String>> {
        let e = self.clone();
        async move {
            e.image_save(
                vec![image],
                ArchiveFormat::DockerArchive,
                SaveOutput::File(path),
            )
            .await
            .map_err(|e| e.to_string())
        }
        .boxed()
    }

    fn load_images(&self, path: PathBuf) -> BoxFuture<'static, Result<Vec<String>, String>> {
        let e = self.clone();
        async move {
            let loaded = e
                .load_images(LoadInput::Path(path))
                .await
                .map_err(|e| e.to_string())?;
            Ok(loaded
                .into_iter()
                .flat_map(|l| {
                    if l.names.is_empty() {
                        vec![crate::tui::format::short_id(&l.id).to_string()]
                    } else {
                        l.names
                    }
                })
                .collect())
        }
        .boxed()
    }

    fn export_container(
        &self,
        id: String,
        path: PathBuf,
    ) -> BoxFuture<'static, Result<(), String>> {
        let e = self.clone();
        async move {
            e.container_export(id, SaveOutput::File(path))
                .await
                .map_err(|e| e.to_string())
        }
        .boxed()
    }

    fn copy_files(
        &self,
        id: String,
        into: bool,
        container_path: String,
        host_path: PathBuf,
    ) -> BoxFuture<'static, Result<(), String>> {
        let e = self.clone();
        let opts = CopyOptions::default();
        async move {
            if into {
                e.container_copy_in(HostSide::Path(host_path), id, container_path, opts)
                    .await
            } else {
                e.container_copy_out(id, container_path, HostSide::Path(host_path), opts)
                    .await
            }
            .map_err(|e| e.to_string())
        }
        .boxed()
    }
}
