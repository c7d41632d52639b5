//! What a container needs from an image: its run configuration (OCI image config fields) and its
//! unpacked layer directories in overlay order, with the image's init layer on top. `--rootfs
//! DIR` (as in podman) uses a directory as the only, read-only layer.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::engine::error::{EngineError, Result};
use crate::engine::layer::init_layer;
use crate::engine::Engine;

/// The image config fields a container uses (OCI names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageRunConfig {
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub stop_signal: Option<String>,
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    /// `EXPOSE`d ports (`"80/tcp": {}`), what `-P` publishes.
    #[serde(default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    /// `HEALTHCHECK`, as the config has it (read when a container is created).
    #[serde(default)]
    pub healthcheck: Option<serde_json::Value>,
    /// `SHELL`.
    #[serde(default)]
    pub shell: Option<Vec<String>>,
}

/// An image resolved for running.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// What the user named (normalised reference, or the rootfs path).
    pub name: String,
    /// `sha256:…` image id; empty for a rootfs directory.
    pub id: String,
    pub config: ImageRunConfig,
    /// Layer dirs, top layer first (overlay `lowerdir` order); for an image, its init layer
    /// (`layer::init_layer`) above them when the image lacks a mount point of the runtime.
    pub lowers: Vec<PathBuf>,
}

/// Resolves `image` for `create`/`run`. With `rootfs`, `image` is a directory.
///
/// Hold [`Engine::lock_images_shared`] from this call until the container is recorded, so no
/// image gc removes the layers in between.
pub fn resolve(engine: &Engine, image: &str, rootfs: bool) -> Result<ResolvedImage> {
    if rootfs {
        let path = std::fs::canonicalize(image).map_err(|e| {
            EngineError::InvalidInput(format!(
                "--rootfs {image}: {e}: give an existing directory holding a root filesystem"
            ))
        })?;
        if !path.is_dir() {
            return Err(EngineError::InvalidInput(format!(
                "--rootfs {image}: not a directory"
            )));
        }
        return Ok(ResolvedImage {
            name: path.to_string_lossy().into_owned(),
            id: String::new(),
            config: ImageRunConfig::default(),
            lowers: vec![path],
        });
    }
    let rec = engine.image(image)?;
    let mut lowers = engine.image_layers_dirs(&rec)?;
    if let Some(top) = rec.layers.last() {
        if let Some(init) = init_layer::ensure(engine.layout(), &top.chain_id, &lowers)? {
            lowers.insert(0, init);
        }
    }
    let c = &rec.config;
    Ok(ResolvedImage {
        name: image.to_string(),
        lowers,
        id: rec.id,
        config: ImageRunConfig {
            entrypoint: c.entrypoint.clone(),
            cmd: c.cmd.clone(),
            env: c.env.clone(),
            working_dir: c.working_dir.clone().filter(|w| !w.is_empty()),
            user: c.user.clone().filter(|u| !u.is_empty()),
            stop_signal: c.stop_signal.clone(),
            volumes: c.volumes.clone(),
            labels: c.labels.clone(),
            exposed_ports: c.exposed_ports.clone(),
            healthcheck: c.healthcheck.clone(),
            shell: c.shell.clone().filter(|s| !s.is_empty()),
        },
    })
}
