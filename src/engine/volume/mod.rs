//! Named and anonymous volumes: `ROOT/volumes/NAME/_data`, recorded in the `volumes` table.
//!
//! The record (JSON `record` column) holds the driver (always `local`), labels, options and
//! whether the volume is anonymous (created for a container without a name; `volume prune`
//! removes those unless `--all`). Which containers use a volume is read from the containers'
//! own records ([`usage::volumes_in_use`]), in the same transaction that acts on the volume, so
//! a volume can never be removed while a container that mounts it is being created.
//!
//! The blocking functions in [`ops`] take `&Engine` and are what the container code calls; the
//! async methods on [`Engine`] run them on the blocking pool for the TUI and the CLI.

pub mod copyup;
pub mod filter;
pub mod name;
pub mod ops;
pub mod store;
pub mod usage;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{EngineError, Result};
use super::layout::Layout;
use super::{blocking, Engine};

pub use filter::VolumeFilter;
pub use ops::{create_in, NewDirs};
pub use usage::volumes_in_use;

/// The only volume driver.
pub const LOCAL_DRIVER: &str = "local";

/// A volume as `volume inspect` shows it (Docker's field names, plus `Anonymous` and `UsedBy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    /// The volume's name (given, or 64 hex digits when generated).
    pub name: String,
    /// Always `local`.
    pub driver: String,
    /// The host directory mounted into containers (`ROOT/volumes/NAME/_data`).
    pub mountpoint: PathBuf,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
    /// User labels.
    pub labels: BTreeMap<String, String>,
    /// Always `local`.
    pub scope: String,
    /// Driver options (none are supported yet; kept for Docker's shape).
    pub options: BTreeMap<String, String>,
    /// Created without a name, for a container (`-v /path`, an image's `VOLUME`).
    pub anonymous: bool,
    /// Names of the containers whose mounts use it.
    pub used_by: Vec<String>,
    /// Bytes used; only [`ops::inspect`] measures it (walking the tree), listings leave it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// What to create.
#[derive(Debug, Clone, Default)]
pub struct CreateVolume {
    /// The name; `None` generates one.
    pub name: Option<String>,
    /// Labels for a new volume (an existing volume keeps its own).
    pub labels: BTreeMap<String, String>,
    /// Mark the volume anonymous (a volume created without a name always is).
    pub anonymous: bool,
}

/// What to prune.
#[derive(Debug, Clone, Default)]
pub struct PruneVolumes {
    /// Named volumes too, not only anonymous ones.
    pub all: bool,
    /// Label filters (`label=…`, `label!=…`); other filter keys are refused.
    pub filter: VolumeFilter,
}

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PruneReport {
    /// Names of the removed volumes.
    pub volumes_deleted: Vec<String>,
    /// Bytes their data took.
    pub space_reclaimed: u64,
}

/// The stored record of a volume.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Record {
    pub driver: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub anonymous: bool,
}

/// `ROOT/volumes/NAME` (the name must be valid).
pub fn volume_dir(layout: &Layout, name: &str) -> PathBuf {
    layout.volumes_dir().join(name)
}

/// `ROOT/volumes/NAME/_data`, the directory containers see.
pub fn data_dir(layout: &Layout, name: &str) -> PathBuf {
    volume_dir(layout, name).join("_data")
}

/// Parses `KEY=VALUE` labels (`KEY` alone is an empty value, as docker does).
pub fn parse_labels<S: AsRef<str>>(labels: &[S]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for l in labels {
        let l = l.as_ref();
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        if k.is_empty() {
            return Err(EngineError::InvalidInput(format!(
                "bad label {l:?}: labels are KEY=VALUE with a non-empty KEY"
            )));
        }
        out.insert(k.to_owned(), v.to_owned());
    }
    Ok(out)
}

impl Engine {
    /// Creates a volume, or returns the existing one of that name (as docker does).
    pub async fn create_volume(&self, req: CreateVolume) -> Result<Volume> {
        blocking(self, move |e| ops::create(e, &req)).await
    }

    /// Lists volumes passing `filter`, sorted by name, without sizes.
    pub async fn volumes(&self, filter: VolumeFilter) -> Result<Vec<Volume>> {
        blocking(self, move |e| ops::list(e, &filter)).await
    }

    /// Lists volumes passing `filter` like [`Engine::volumes`], each with its size measured
    /// (as `inspect` does; the list leaves it out, as docker's does).
    pub async fn volumes_sized(&self, filter: VolumeFilter) -> Result<Vec<Volume>> {
        blocking(self, move |e| {
            let mut list = ops::list(e, &filter)?;
            for v in &mut list {
                if v.size.is_none() {
                    v.size = usage::dir_size(&v.mountpoint).ok();
                }
            }
            Ok(list)
        })
        .await
    }

    /// One volume, with its size.
    pub async fn inspect_volume(&self, name: String) -> Result<Volume> {
        blocking(self, move |e| ops::inspect(e, &name)).await
    }

    /// Removes a volume no container uses. With `force`, a missing volume is not an error
    /// (returns `false`); a volume in use is refused either way.
    pub async fn remove_volume(&self, name: String, force: bool) -> Result<bool> {
        blocking(self, move |e| ops::remove(e, &name, force)).await
    }

    /// Removes unused anonymous volumes (all unused ones with `all`).
    pub async fn prune_volumes(&self, opts: PruneVolumes) -> Result<PruneReport> {
        blocking(self, move |e| ops::prune(e, &opts)).await
    }
}

/// Whether `dir` is an empty directory (a missing one counts as empty).
pub fn is_empty_dir(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(EngineError::io_path("cannot read directory", dir, e)),
    }
}
