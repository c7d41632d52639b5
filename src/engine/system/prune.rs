//! `system prune [-a] [--volumes]`: stopped containers, then (with `--volumes`) anonymous
//! volumes no container uses, then dangling images (every image without a container with
//! `-a`) and whatever layers and blobs nothing references any more.

use crate::engine::container::{self as ct, Pruned};
use crate::engine::error::Result;
use crate::engine::image::gc::PruneReport as ImagesPruned;
use crate::engine::volume::{PruneReport as VolumesPruned, PruneVolumes};
use crate::engine::{Engine, EngineEvent};

/// What `system prune` removes besides stopped containers and dangling images.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemPrune {
    /// Every image no container uses, not only the dangling ones.
    pub all_images: bool,
    /// Anonymous volumes no container uses.
    pub volumes: bool,
}

/// What it removed.
#[derive(Debug, Default)]
pub struct SystemPruneReport {
    pub containers: Vec<Pruned>,
    pub volumes: Option<VolumesPruned>,
    pub images: ImagesPruned,
}

impl SystemPruneReport {
    /// Bytes given back.
    pub fn reclaimed(&self) -> u64 {
        self.containers.iter().map(|c| c.size).sum::<u64>()
            + self.volumes.as_ref().map_or(0, |v| v.space_reclaimed)
            + self.images.reclaimed
    }
}

impl Engine {
    /// Prunes as `system prune` does, in docker's order (containers free their images and
    /// volumes for the steps after).
    pub fn prune_system(&self, opts: SystemPrune) -> Result<SystemPruneReport> {
        let containers = ct::prune(self)?;
        let volumes = if opts.volumes {
            Some(crate::engine::volume::ops::prune(
                self,
                &PruneVolumes::default(),
            )?)
        } else {
            None
        };
        let images = self.prune_images_with(opts.all_images)?;
        self.emit(EngineEvent::ContainersChanged);
        Ok(SystemPruneReport {
            containers,
            volumes,
            images,
        })
    }
}
