//! Images: the records in `state.db` (references, tags, layers), `image inspect`, and removing
//! images and garbage (`rmi`, `image prune`).

pub mod api;
pub mod archive;
pub mod changes;
pub mod gc;
pub mod import;
pub mod inspect;
pub mod record;
pub mod rootfs_import;

pub use api::ImageUsage;
pub use record::{familiar, ImageConfig, ImageRecord, ImageSummary, LayerRecord};
