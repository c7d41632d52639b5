//! The files of docker's image archives (`docker save`/`load`): `manifest.json` (one entry per
//! image), and the OCI layout's `index.json` and `oci-layout` that docker 25+ writes beside it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One entry of a docker-archive's `manifest.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArchiveManifestEntry {
    /// Path of the config inside the archive (`blobs/sha256/<hex>`, `<hex>.json`).
    pub config: String,
    /// Familiar `repo:tag` names (`busybox:latest`); null for an image saved by id.
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    /// Paths of the layer tars, base first (`blobs/sha256/<hex>`, `<id>/layer.tar`).
    #[serde(default)]
    pub layers: Vec<String>,
}

/// The OCI layout's `index.json` (only what archives use).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciIndex {
    /// Always 2.
    pub schema_version: u32,
    /// `application/vnd.oci.image.index.v1+json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The images (manifests or indexes).
    #[serde(default)]
    pub manifests: Vec<OciIndexEntry>,
}

/// One descriptor of `index.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciIndexEntry {
    /// Media type of the manifest or index it names.
    #[serde(default)]
    pub media_type: String,
    /// `sha256:…`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// `io.containerd.image.name` (full name) and `org.opencontainers.image.ref.name` (tag).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The annotation docker and containerd put the full image name in.
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";
/// The OCI annotation naming a reference inside a layout (a tag, or a whole name).
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The content of `oci-layout`.
pub const OCI_LAYOUT: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;
