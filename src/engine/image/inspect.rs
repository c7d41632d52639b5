//! `image inspect` in Docker's shape.

use serde_json::{json, Value};

use super::record::{familiar, ImageRecord};
use crate::engine::content::ContentStore;
use crate::engine::error::Result;
use crate::engine::Engine;

impl Engine {
    /// Docker's `image inspect` object for the image `r` names: Id, RepoTags, RepoDigests,
    /// Created, Author, Config, Architecture, Variant, Os, Size, RootFS, Metadata.
    pub fn inspect_image(&self, r: &str) -> Result<Value> {
        let rec = self.image(r)?;
        Ok(self.inspect_record(&rec))
    }

    /// The inspect object of a record. `Config` is the config blob's own section when the blob
    /// is in the store (every field kept), else berth's parsed copy.
    pub fn inspect_record(&self, rec: &ImageRecord) -> Value {
        let store = ContentStore::new(self.layout());
        let raw_config = store
            .read(&rec.id)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v.get("config").cloned());
        let config = raw_config.unwrap_or_else(|| json!(rec.config));
        let mut out = json!({
            "Id": rec.id,
            "RepoTags": rec.repo_tags.iter().map(|t| familiar(t)).collect::<Vec<_>>(),
            "RepoDigests": rec.repo_digests.iter().map(|t| familiar(t)).collect::<Vec<_>>(),
            "Parent": "",
            "Comment": "",
            "Created": rec.created.clone().unwrap_or_default(),
            "Author": rec.author.clone().unwrap_or_default(),
            "Config": config,
            "Architecture": rec.architecture,
            "Os": rec.os,
            "Size": rec.size,
            "RootFS": {
                "Type": "layers",
                "Layers": rec.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>(),
            },
            "Metadata": { "LastTagTime": rec.pulled },
        });
        if let (Some(v), Some(obj)) = (&rec.variant, out.as_object_mut()) {
            obj.insert("Variant".into(), json!(v));
        }
        out
    }
}
