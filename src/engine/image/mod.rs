//! Images: the records in `state.db` (references, tags, layers), `image inspect`, and removing
//! images and garbage (`rmi`, `image prune`), the config blob, the import pipeline shared by
//! pull, commit and build, `commit` and `history`.

pub mod api;
pub mod archive;
pub mod assemble;
pub mod commit;
pub mod config;
pub mod explore;
pub mod gc;
pub mod history;
pub mod import;
pub mod inspect;
pub mod record;
pub mod rootfs_import;
pub(crate) mod store;

pub use api::ImageUsage;
pub use record::{familiar, ImageConfig, ImageRecord, ImageSummary, LayerRecord};
