//! `commit` and `diff`: a container's changes (its overlay upper directory) as a new layer on
//! top of its image, with the container's config, `-c` changes and a history entry.
//!
//! A container made with `--rootfs` has no image: its root directory becomes the base layer.
//! A running container is paused while its layer is written (`--pause`, the default), so the
//! layer is one moment of it. Nothing is recorded unless every step worked; a failed commit
//! leaves at most a layer blob no image refers to, which `image prune` removes.

use std::path::PathBuf;

use super::assemble::LayerBlob;
use super::config::{ConfigFile, History};
use super::record::{ImageConfig, ImageRecord};
use crate::engine::build::config_ops;
use crate::engine::container::{self, ContainerRecord, Status};
use crate::engine::content::ContentStore;
use crate::engine::error::{EngineError, Result};
use crate::engine::layer::diff::{self, Change};
use crate::engine::layer::writer::{write_layer, LayerOptions};
use crate::engine::Engine;

/// How to commit.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// `-a`.
    pub author: Option<String>,
    /// `-m`: the history entry's comment.
    pub message: Option<String>,
    /// `-c`: Dockerfile instructions applied to the config.
    pub changes: Vec<String>,
    /// Pause a running container while its layer is written.
    pub pause: bool,
    /// `REPO[:TAG]` for the new image.
    pub reference: Option<String>,
}

/// Unpauses on drop.
struct Paused<'e>(&'e Engine, String);

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        if let Err(e) = container::unpause(self.0, &self.1) {
            tracing::warn!(container = %self.1, "cannot unpause after commit: {e}");
        }
    }
}

impl Engine {
    fn upper_and_lowers(&self, rec: &ContainerRecord) -> (PathBuf, Vec<PathBuf>) {
        let upper = self.layout().container_dir(&rec.id).join("upper");
        (upper, rec.lowers.clone())
    }

    /// `diff`: what the container added (A), changed (C) and deleted (D), in path order.
    pub fn container_changes(&self, reference: &str) -> Result<Vec<Change>> {
        let id = container::resolve(self, reference)?;
        let rec = container::get(self, &id)?;
        let (upper, lowers) = self.upper_and_lowers(&rec);
        if !upper.is_dir() {
            return Ok(Vec::new());
        }
        diff::changes(&upper, &lowers)
    }

    /// `commit`: the container's changes as a new image. Blocking.
    pub fn commit_container(&self, reference: &str, opts: &CommitOptions) -> Result<ImageRecord> {
        let changes = config_ops::parse_changes(&opts.changes)?;
        let tags: Vec<String> = opts.reference.iter().cloned().collect();
        for t in &tags {
            crate::engine::ImageRef::parse(t)?;
        }
        let id = container::resolve(self, reference)?;
        let rec = container::get(self, &id)?;
        // Image gc waits until the layer written here is recorded (it would take the blob
        // being written, or the parent's layers, for garbage).
        let _gc = self.lock_images_shared()?;
        let store = ContentStore::new(self.layout());
        let (mut config, mut layers) = if rec.image_id.is_empty() {
            (ConfigFile::scratch(), Vec::new())
        } else {
            let image = self.image(&rec.image_id).map_err(|e| match e {
                EngineError::NotFound(_) => EngineError::InvalidState(format!(
                    "the image of container {} ({}) was removed; cannot commit it",
                    rec.name, rec.image_id
                )),
                e => e,
            })?;
            let layers = image.layers.iter().map(LayerBlob::from).collect();
            (ConfigFile::load(&store, &image.id)?, layers)
        };
        let (upper, lowers) = self.upper_and_lowers(&rec);
        let _paused = if opts.pause && rec.state.status == Status::Running {
            container::pause(self, &id)?;
            Some(Paused(self, id.clone()))
        } else {
            None
        };
        let skip = |p: &[u8]| diff::is_runtime_path(p);
        let layer_opts = LayerOptions {
            skip: Some(&skip),
            ..Default::default()
        };
        if rec.image_id.is_empty() {
            // `--rootfs`: the root directory is the base layer.
            let root = lowers.last().ok_or_else(|| {
                EngineError::InvalidState(format!("container {} has no root directory", rec.name))
            })?;
            let base = write_layer(&store, root, &layer_opts)?;
            config.rootfs.diff_ids.push(base.diff_id.clone());
            config.history.push(History {
                created: Some(rec.created.to_rfc3339()),
                created_by: Some(format!("berth --rootfs {}", root.display())),
                ..Default::default()
            });
            layers.push(blob(&base));
        }
        let written = write_layer(&store, &upper, &layer_opts)?;
        drop(_paused);

        config.config = merged_config(&config.config, &rec);
        let mut author = opts.author.clone();
        config_ops::apply_changes(&mut config.config, &mut author, &changes)?;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        config.created = Some(now.clone());
        config.author = author.clone();
        config.rootfs.diff_ids.push(written.diff_id.clone());
        config.history.push(History {
            created: Some(now),
            created_by: Some(rec.command_line()),
            author,
            comment: opts.message.clone().filter(|m| !m.is_empty()),
            empty_layer: false,
        });
        layers.push(blob(&written));
        self.import_image(&config, &layers, &tags, "commit")
    }

    /// `commit` (the CLI and the TUI).
    pub async fn commit(&self, reference: String, opts: CommitOptions) -> Result<ImageRecord> {
        crate::engine::blocking(self, move |e| e.commit_container(&reference, &opts)).await
    }

    /// `diff CONTAINER`: what changed in the container's filesystem, in docker's order.
    pub async fn container_diff(&self, reference: String) -> Result<Vec<Change>> {
        crate::engine::blocking(self, move |e| e.container_changes(&reference)).await
    }
}

fn blob(w: &crate::engine::layer::writer::WrittenLayer) -> LayerBlob {
    LayerBlob {
        digest: w.digest.clone(),
        size: w.size,
        media_type: w.media_type.to_string(),
    }
}

/// The image config a commit starts from: the parent's, with what the container ran with.
fn merged_config(parent: &ImageConfig, rec: &ContainerRecord) -> ImageConfig {
    let c = &rec.config;
    let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    let mut out = parent.clone();
    out.env = some(&c.env).or(out.env);
    out.cmd = some(&c.cmd);
    out.entrypoint = some(&c.entrypoint);
    out.user = (!c.user.is_empty()).then(|| c.user.clone());
    out.working_dir = (!c.working_dir.is_empty()).then(|| c.working_dir.clone());
    out.labels = (!c.labels.is_empty())
        .then(|| c.labels.clone())
        .or(out.labels);
    out.stop_signal = c.stop_signal.clone().or(out.stop_signal);
    out
}
