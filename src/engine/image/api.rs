//! The async face of the image side for the TUI and other async callers (named after the
//! Docker Engine API's operations): each call runs the blocking operation on tokio's blocking
//! pool.

use std::collections::HashMap;

use super::gc::{PruneReport, RemoveReport};
use super::record::{ImageRecord, ImageSummary};
use crate::engine::compat::image::ImageInspect;
use crate::engine::container::store::ContainerStore;
use crate::engine::error::Result;
use crate::engine::{blocking, Engine};

/// An image with the number of containers made from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUsage {
    /// The image.
    pub image: ImageSummary,
    /// Containers (in any state) created from it.
    pub containers: usize,
}

impl Engine {
    /// Containers per image id.
    pub fn image_usage(&self) -> Result<HashMap<String, usize>> {
        self.state()
            .read(|tx| ContainerStore::of(tx).count_by_image())
    }

    /// Every image with how many containers use it.
    pub async fn image_list(&self) -> Result<Vec<ImageUsage>> {
        blocking(self, |e| {
            let users = e.image_usage()?;
            Ok(e.images()?
                .into_iter()
                .map(|image| ImageUsage {
                    containers: users.get(&image.id).copied().unwrap_or(0),
                    image,
                })
                .collect())
        })
        .await
    }

    /// Docker's `image inspect` JSON of one image.
    pub async fn image_inspect(&self, reference: String) -> Result<ImageInspect> {
        blocking(self, move |e| e.inspect_image(&reference)).await
    }

    /// Removes an image (see [`Engine::remove_image`]).
    pub async fn image_delete(&self, reference: String, force: bool) -> Result<RemoveReport> {
        blocking(self, move |e| e.remove_image(&reference, force)).await
    }

    /// The record of the image `reference` names (name, id or unique id prefix).
    pub async fn image_get(&self, reference: String) -> Result<ImageRecord> {
        blocking(self, move |e| e.image(&reference)).await
    }

    /// Every image record (with its layers and config).
    pub async fn image_record_list(&self) -> Result<Vec<ImageRecord>> {
        blocking(self, |e| e.image_records()).await
    }

    /// `tag SOURCE TARGET` (see [`Engine::tag`]).
    pub async fn image_tag(&self, source: String, target: String) -> Result<ImageRecord> {
        blocking(self, move |e| e.tag(&source, &target)).await
    }

    /// Removes dangling images, or with `all` every image no container uses.
    pub async fn image_prune(&self, all: bool) -> Result<PruneReport> {
        blocking(self, move |e| e.prune_images_with(all)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_empty_store_lists_no_images_and_no_usage() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        assert!(engine.image_list().await.unwrap().is_empty());
        assert!(engine.image_usage().unwrap().is_empty());
        let e = engine
            .image_delete("nope:1".into(), false)
            .await
            .unwrap_err();
        assert!(e.is(crate::engine::ErrorKind::NotFound), "{e}");
    }
}
