//! The image config blob (OCI `application/vnd.oci.image.config.v1+json`, which docker's config
//! is a superset of): what commit and build read from a parent image and write for a new one.

use serde::{Deserialize, Serialize};

use super::record::ImageConfig;
use crate::engine::content::ContentStore;
use crate::engine::error::{EngineError, Result};

/// OCI media type of an image config.
pub const MEDIA_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI media type of an image manifest.
pub const MEDIA_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// An image config blob.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// When the image was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Who made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// `amd64`, …
    #[serde(default)]
    pub architecture: String,
    /// `linux`.
    #[serde(default)]
    pub os: String,
    /// `v8`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Runtime defaults.
    #[serde(default)]
    pub config: ImageConfig,
    /// The layers' diff ids.
    pub rootfs: RootFs,
    /// How each layer (and each empty step) was made, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

/// `rootfs` of a config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Uncompressed digests of the layers, base first.
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

impl Default for RootFs {
    fn default() -> Self {
        RootFs {
            kind: "layers".into(),
            diff_ids: Vec::new(),
        }
    }
}

/// One history entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// When (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The command or instruction that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Comment (`commit -m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// True when the step added no layer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

impl ConfigFile {
    /// Reads the config blob of the image with id `id`.
    pub fn load(store: &ContentStore, id: &str) -> Result<ConfigFile> {
        let bytes = store.read(id)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            EngineError::InvalidState(format!(
                "the config of image {id} is malformed ({e}); pull or build the image again"
            ))
        })
    }

    /// An empty config for this host's platform (`FROM scratch`).
    pub fn scratch() -> ConfigFile {
        let host = crate::engine::distribution::manifest::Platform::host();
        ConfigFile {
            architecture: host.architecture,
            os: host.os,
            variant: host.variant,
            ..Default::default()
        }
    }
}
