//! Media types of archives, and turning a Docker schema 2 manifest into an OCI one (the same
//! blobs under OCI types), as docker 25+ and skopeo do when they write an OCI layout.

use crate::engine::distribution::manifest::{DOCKER_MANIFEST, OCI_MANIFEST};
use crate::engine::error::{EngineError, Result};

/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker uncompressed layer.
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
/// Docker gzip layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// OCI zstd layer.
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// The OCI type of a Docker type (unchanged when it is not a Docker type).
fn to_oci(media_type: &str) -> &str {
    match media_type {
        DOCKER_MANIFEST => OCI_MANIFEST,
        DOCKER_CONFIG => OCI_CONFIG,
        DOCKER_LAYER_TAR => "application/vnd.oci.image.layer.v1.tar",
        DOCKER_LAYER_GZIP => "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        }
        other => other,
    }
}

/// The manifest `bytes` as an OCI manifest: `None` when it already is one (keep the bytes and
/// the digest), else the converted bytes.
pub fn oci_manifest(bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    let bad = |e: serde_json::Error| {
        EngineError::InvalidInput(format!("a stored manifest is malformed: {e}"))
    };
    let mut v: serde_json::Value = serde_json::from_slice(bytes).map_err(bad)?;
    if v["mediaType"].as_str() != Some(DOCKER_MANIFEST) {
        return Ok(None);
    }
    v["mediaType"] = OCI_MANIFEST.into();
    if let Some(t) = v["config"]["mediaType"].as_str() {
        v["config"]["mediaType"] = to_oci(t).to_string().into();
    }
    if let Some(layers) = v["layers"].as_array_mut() {
        for l in layers {
            if let Some(t) = l["mediaType"].as_str() {
                l["mediaType"] = to_oci(t).to_string().into();
            }
        }
    }
    serde_json::to_vec(&v).map(Some).map_err(bad)
}

/// The layer media type for a blob starting with `head` (gzip, zstd or plain tar).
pub fn layer_type_of(head: &[u8]) -> &'static str {
    if head.starts_with(&[0x1f, 0x8b]) {
        DOCKER_LAYER_GZIP
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        OCI_LAYER_ZSTD
    } else {
        DOCKER_LAYER_TAR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_manifests_become_oci() {
        let m = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"{DOCKER_CONFIG}","digest":"d","size":1}},"layers":[{{"mediaType":"{DOCKER_LAYER_GZIP}","digest":"e","size":2}}]}}"#
        );
        let out = oci_manifest(m.as_bytes()).unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["mediaType"], OCI_MANIFEST);
        assert_eq!(v["config"]["mediaType"], OCI_CONFIG);
        assert_eq!(
            v["layers"][0]["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
        assert_eq!(v["layers"][0]["digest"], "e");
        let oci = String::from_utf8(out).unwrap();
        assert!(oci_manifest(oci.as_bytes()).unwrap().is_none());
    }

    #[test]
    fn layer_types_from_magic() {
        assert_eq!(layer_type_of(&[0x1f, 0x8b, 8]), DOCKER_LAYER_GZIP);
        assert_eq!(layer_type_of(&[0x28, 0xb5, 0x2f, 0xfd]), OCI_LAYER_ZSTD);
        assert_eq!(layer_type_of(b"etc/passwd"), DOCKER_LAYER_TAR);
    }
}
