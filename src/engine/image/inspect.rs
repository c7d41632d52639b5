//! `image inspect` in Docker's shape.

use serde_json::Value;

use super::record::{familiar, ImageRecord};
use crate::engine::compat::image::{ImageInspect, ImageMetadata, RootFs};
use crate::engine::content::ContentStore;
use crate::engine::error::Result;
use crate::engine::Engine;

impl Engine {
    /// Docker's `image inspect` object for the image `r` names.
    pub fn inspect_image(&self, r: &str) -> Result<ImageInspect> {
        let rec = self.image(r)?;
        Ok(self.inspect_record(&rec))
    }

    /// The inspect object of a record. `Config` is the config blob's own section when the blob
    /// is in the store (every field kept), else berth's parsed copy.
    pub fn inspect_record(&self, rec: &ImageRecord) -> ImageInspect {
        let store = ContentStore::new(self.layout());
        let raw_config = store
            .read(&rec.id)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v.get("config").cloned());
        let config =
            raw_config.unwrap_or_else(|| serde_json::to_value(&rec.config).unwrap_or(Value::Null));
        ImageInspect {
            id: rec.id.clone(),
            repo_tags: rec.repo_tags.iter().map(|t| familiar(t)).collect(),
            repo_digests: rec.repo_digests.iter().map(|t| familiar(t)).collect(),
            parent: String::new(),
            comment: String::new(),
            created: rec.created.clone().unwrap_or_default(),
            author: rec.author.clone().unwrap_or_default(),
            config,
            architecture: rec.architecture.clone(),
            variant: rec.variant.clone(),
            os: rec.os.clone(),
            size: rec.size,
            root_fs: RootFs {
                kind: "layers".into(),
                layers: rec.layers.iter().map(|l| l.diff_id.clone()).collect(),
            },
            metadata: ImageMetadata {
                last_tag_time: rec.pulled.clone(),
            },
        }
    }
}
