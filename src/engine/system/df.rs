//! `system df`: what images, containers and volumes take on disk, measured on disk (the files
//! under the root), and what pruning would give back.
//!
//! An image is what it keeps: its unpacked layers (`layers/<chain>`, and the init layer of its
//! top one, `layers/<chain>-init`) and its blobs (layer archives, config, manifests). A part shared by several images counts once in the totals and
//! as "shared" in each; it is reclaimable when no image that uses it has a container.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::engine::container::{self as ct, Status};
use crate::engine::error::Result;
use crate::engine::volume::VolumeFilter;
use crate::engine::{staging, Engine};

/// One image's use of the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUsage {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub created: Option<String>,
    /// Its layers and blobs.
    pub size: u64,
    /// The part of `size` other images share.
    pub shared_size: u64,
    /// Containers made from it.
    pub containers: usize,
}

/// One container's use of the disk (its writable layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUsage {
    pub id: String,
    pub name: String,
    pub image: String,
    pub command: String,
    pub created: DateTime<Utc>,
    pub status: String,
    pub running: bool,
    pub size_rw: u64,
    pub local_volumes: usize,
}

/// One volume's use of the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeUsage {
    pub name: String,
    /// Containers that mount it.
    pub links: usize,
    pub size: u64,
}

/// Everything `system df` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskUsage {
    pub images: Vec<ImageUsage>,
    /// Every image part once.
    pub images_size: u64,
    /// Parts only images without containers use.
    pub images_reclaimable: u64,
    pub containers: Vec<ContainerUsage>,
    pub volumes: Vec<VolumeUsage>,
    /// Build cache entries.
    pub build_cache_entries: usize,
    /// What only the build cache keeps (blobs no image uses, and the entries): all of it is
    /// what `builder prune` frees.
    pub build_cache: u64,
}

impl DiskUsage {
    pub fn containers_size(&self) -> u64 {
        self.containers.iter().map(|c| c.size_rw).sum()
    }

    /// The writable layers of containers that do not run.
    pub fn containers_reclaimable(&self) -> u64 {
        self.containers
            .iter()
            .filter(|c| !c.running)
            .map(|c| c.size_rw)
            .sum()
    }

    pub fn volumes_size(&self) -> u64 {
        self.volumes.iter().map(|v| v.size).sum()
    }

    /// Volumes no container mounts.
    pub fn volumes_reclaimable(&self) -> u64 {
        self.volumes
            .iter()
            .filter(|v| v.links == 0)
            .map(|v| v.size)
            .sum()
    }
}

impl Engine {
    /// Measures what images, containers and volumes take on disk.
    pub fn disk_usage(&self) -> Result<DiskUsage> {
        let layout = self.layout();
        let records = ct::list(self)?;
        let mut users: HashMap<String, usize> = HashMap::new();
        for r in &records {
            *users.entry(r.image_id.clone()).or_default() += 1;
        }
        let images = self.image_records()?;
        // Each part on disk, with the images that keep it.
        let mut parts: HashMap<PathBuf, Vec<usize>> = HashMap::new();
        for (i, img) in images.iter().enumerate() {
            let mut own: HashSet<PathBuf> = HashSet::new();
            for l in &img.layers {
                own.insert(layout.layer_dir(&l.chain_id)?);
                own.insert(layout.blob_path(&l.digest)?);
            }
            if let Some(top) = img.layers.last() {
                own.insert(layout.init_layer_dir(&top.chain_id)?);
            }
            for d in [&img.id, &img.manifest_digest, &img.platform_manifest_digest] {
                if d.starts_with("sha256:") {
                    own.insert(layout.blob_path(d)?);
                }
            }
            for p in own {
                parts.entry(p).or_default().push(i);
            }
        }
        let mut usage = DiskUsage::default();
        let cache = crate::engine::build::cache::BuildCache::new(layout);
        let entries = cache.entries();
        usage.build_cache_entries = entries.len();
        let mut cache_only: HashSet<PathBuf> = HashSet::new();
        for (file, state) in entries {
            usage.build_cache += staging::disk_usage(&file);
            for l in state.layers {
                let p = layout.blob_path(&l.digest)?;
                if !parts.contains_key(&p) {
                    cache_only.insert(p);
                }
            }
        }
        usage.build_cache += cache_only
            .iter()
            .map(|p| staging::disk_usage(p))
            .sum::<u64>();
        let mut size = vec![0u64; images.len()];
        let mut shared = vec![0u64; images.len()];
        for (path, owners) in &parts {
            let bytes = staging::disk_usage(path);
            usage.images_size += bytes;
            if owners
                .iter()
                .all(|&i| users.get(&images[i].id).copied().unwrap_or(0) == 0)
            {
                usage.images_reclaimable += bytes;
            }
            for &i in owners {
                size[i] += bytes;
                if owners.len() > 1 {
                    shared[i] += bytes;
                }
            }
        }
        usage.images = images
            .iter()
            .enumerate()
            .map(|(i, img)| ImageUsage {
                id: img.id.clone(),
                repo_tags: img.repo_tags.clone(),
                created: img.created.clone(),
                size: size[i],
                shared_size: shared[i],
                containers: users.get(&img.id).copied().unwrap_or(0),
            })
            .collect();
        let now = Utc::now();
        usage.containers = records
            .iter()
            .map(|r| ContainerUsage {
                id: r.id.clone(),
                name: r.name.clone(),
                image: r.image.clone(),
                command: r.command_line(),
                created: r.created,
                status: r.human_status(now),
                running: matches!(r.state.status, Status::Running | Status::Paused),
                size_rw: ct::disk::size(self, r, Some(0)).rw,
                local_volumes: r.mounts.iter().filter(|m| !m.name.is_empty()).count(),
            })
            .collect();
        usage.volumes = crate::engine::volume::ops::list(self, &VolumeFilter::default())?
            .into_iter()
            .map(|v| VolumeUsage {
                size: staging::disk_usage(&v.mountpoint),
                links: v.used_by.len(),
                name: v.name,
            })
            .collect();
        Ok(usage)
    }
}
