//! Images: the records in `state.db` (references, tags, layers), `image inspect`, and removing
//! images and garbage (`rmi`, `image prune`).

pub mod api;
pub mod gc;
pub mod inspect;
pub mod record;

pub use api::ImageUsage;
pub use record::{familiar, ImageConfig, ImageRecord, ImageSummary, LayerRecord};
