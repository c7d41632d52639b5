//! Writes a test image as an OCI image layout (for peers such as skopeo and umoci).
//!
//! ```text
//! DIR/oci-layout            {"imageLayoutVersion":"1.0.0"}
//! DIR/index.json            one descriptor: the image's manifest (or index), named TAG
//! DIR/blobs/sha256/<hex>    configs, layers, manifests (children of an index too)
//! ```
//! `skopeo copy oci:DIR:TAG docker://…` then reads it.

use std::fs;
use std::path::Path;

use serde_json::json;

use super::images::Image;

impl Image {
    /// Writes this image into `dir` (created if missing) as an OCI layout with ref name `tag`.
    pub fn write_oci_layout(&self, dir: &Path, tag: &str) {
        let blobs = dir.join("blobs/sha256");
        fs::create_dir_all(&blobs).unwrap_or_else(|e| panic!("create {}: {e}", blobs.display()));
        let put = |digest: &str, data: &[u8]| {
            let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
            let path = blobs.join(hex);
            fs::write(&path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        };
        for (digest, blob) in &self.blobs {
            put(digest, &blob.data);
        }
        for child in &self.children {
            put(&child.digest, &child.manifest);
        }
        put(&self.digest, &self.manifest);
        let index = json!({
            "schemaVersion": 2,
            "mediaType": super::images::MT_OCI_INDEX,
            "manifests": [{
                "mediaType": self.media_type,
                "digest": self.digest,
                "size": self.manifest.len(),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }],
        });
        fs::write(dir.join("index.json"), index.to_string()).expect("write index.json");
        fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
            .expect("write oci-layout");
    }
}
