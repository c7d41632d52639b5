//! What a container takes on disk, as docker's `ps -s` and `inspect --size` report it: the
//! writable layer (`SizeRw`) and that plus its image (`SizeRootFs`, the "virtual" size).

use super::ContainerRecord;
use crate::engine::{staging, Engine};

/// A container's sizes in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerSize {
    /// The files the container wrote (its overlay upper directory).
    pub rw: u64,
    /// `rw` plus its image's size.
    pub root_fs: u64,
}

/// The sizes of `rec`; `image_size` is its image's size when the caller has it (lists), else
/// it is looked up.
pub fn size(engine: &Engine, rec: &ContainerRecord, image_size: Option<u64>) -> ContainerSize {
    let rw = staging::disk_usage(&engine.layout().container_dir(&rec.id).join("upper"));
    let image = image_size.unwrap_or_else(|| {
        if rec.image_id.is_empty() {
            0
        } else {
            engine.image(&rec.image_id).map(|i| i.size).unwrap_or(0)
        }
    });
    ContainerSize {
        rw,
        root_fs: rw + image,
    }
}
