//! Engine-wide operations: `system df` (disk usage) and `system prune`.

pub mod api;
pub mod df;
pub mod prune;

pub use df::{ContainerUsage, DiskUsage, ImageUsage, VolumeUsage};
pub use prune::{SystemPrune, SystemPruneReport};
