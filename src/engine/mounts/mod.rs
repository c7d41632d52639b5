//! Mounts of a container: parsing `-v`, `--mount`, `--tmpfs` and `--volumes-from` ([`parse`]),
//! combining them with the image's `VOLUME`s and the mounts of `--volumes-from` containers into
//! one checked list ([`plan`]), turning that into stored [`MountPoint`]s inside the container's
//! create transaction (volumes created, missing `-v` host directories made: [`materialize`]),
//! and into OCI runtime-spec mounts ([`oci`]).
//!
//! A container record stores its mounts as a top-level `mounts` array of [`MountPoint`]s, Docker's
//! inspect `Mounts` shape; [`crate::engine::volume::volumes_in_use`] reads it from there.

pub mod kernel_fs;
pub mod materialize;
pub mod mount_flag;
pub mod oci;
pub mod parse;
pub mod plan;
pub mod volumes_from;

#[cfg(test)]
mod tests;

use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

use super::error::Result;
use super::layout::Layout;
use super::volume::NewDirs;

pub use materialize::{copy_up, materialize};
pub use oci::{oci_mount, sort_for_mounting, spec_mounts};
pub use parse::{parse, MountOptions, MountRequest, MountSource, ParsedMounts, VolumesFrom};
pub use plan::{plan, Planned};
pub use volumes_from::{mounts_of_record, resolve_volumes_from};

/// What kind of mount a [`MountPoint`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    /// A named or anonymous volume (`ROOT/volumes/NAME/_data`).
    Volume,
    /// A host path.
    Bind,
    /// A fresh tmpfs.
    Tmpfs,
}

/// One mount of a container, as stored in its record and shown by `inspect` (Docker's fields,
/// plus `Options` for tmpfs and `NoCopy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    /// `volume`, `bind` or `tmpfs`.
    #[serde(rename = "Type")]
    pub kind: MountType,
    /// The volume's name (volumes only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Host path: the volume's `_data` directory or the bind source; empty for tmpfs.
    pub source: String,
    /// Absolute path inside the container.
    pub destination: String,
    /// `local` for volumes, empty otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub driver: String,
    /// The mode text as given (`ro`, `rw,z`, …).
    #[serde(default)]
    pub mode: String,
    /// Writable.
    #[serde(rename = "RW")]
    pub rw: bool,
    /// Mount propagation of binds (`rprivate` unless asked otherwise); empty for others.
    #[serde(default)]
    pub propagation: String,
    /// tmpfs mount options given by the user (`size=…`, `mode=…`, `exec`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Do not copy the image's content into an empty volume.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_copy: bool,
}

/// Names of the volumes among `mounts` (for `rm -v`: pass them to
/// [`crate::engine::volume::ops::remove_anonymous`]).
pub fn volume_names(mounts: &[MountPoint]) -> Vec<String> {
    mounts
        .iter()
        .filter(|m| m.kind == MountType::Volume && !m.name.is_empty())
        .map(|m| m.name.clone())
        .collect()
}

/// Everything `create` needs in one call, inside its transaction: finds the `--volumes-from`
/// containers, plans against the image's `VOLUME`s, creates volumes and missing `-v` host
/// directories (recorded in `dirs`: call [`NewDirs::keep`] after the commit). Store the result
/// as the record's `mounts`; after mounting the rootfs call [`copy_up`], and add [`oci_mount`]
/// of each (in [`sort_for_mounting`] order) to the runtime spec.
pub fn prepare(
    tx: &Transaction<'_>,
    layout: &Layout,
    parsed: &ParsedMounts,
    image_volumes: &[String],
    dirs: &mut NewDirs,
) -> Result<Vec<MountPoint>> {
    let from = resolve_volumes_from(tx, &parsed.volumes_from)?;
    let planned = plan(parsed, &from, image_volumes)?;
    materialize(tx, layout, &planned, dirs)
}
