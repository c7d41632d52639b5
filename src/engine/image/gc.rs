//! Removing images and garbage: `rmi` and `image prune`.
//!
//! Layers and blobs are removed only while `locks/gc.lock` is held exclusively. Every pull holds
//! it shared for its whole run, so nothing a pull is about to use disappears under it. A layer
//! directory is first renamed into `tmp/` and then deleted, so a crash never leaves a half-removed
//! layer under its name. An image's init layer (`layers/<chain>-init`) goes with its top layer.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::record::{familiar, ImageRecord};
use super::store::ImageStore;
use crate::engine::container::store::ContainerStore;
use crate::engine::distribution::reference::ImageRef;
use crate::engine::error::{EngineError, Result};
use crate::engine::journal::{self, Event, EventType};
use crate::engine::layer::init_layer;
use crate::engine::layout::Layout;
use crate::engine::lock::FileLock;
use crate::engine::staging;
use crate::engine::{Engine, EngineEvent};

/// The gc lock: shared by pulls, exclusive for removal of layers and blobs.
pub fn gc_lock_path(layout: &Layout) -> PathBuf {
    layout.locks_dir().join("gc.lock")
}

/// What `rmi` did, in docker's words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RemoveReport {
    /// Names untagged (familiar form).
    pub untagged: Vec<String>,
    /// Image ids deleted.
    pub deleted: Vec<String>,
}

/// What `image prune` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Names untagged from the removed images (familiar form; `prune -a` only).
    pub untagged: Vec<String>,
    /// Image ids removed.
    pub images: Vec<String>,
    /// Unpacked layers removed.
    pub layers: usize,
    /// Blobs removed.
    pub blobs: usize,
    /// Bytes freed.
    pub reclaimed: u64,
}

/// An image event on image `id`, `name` as docker's attribute.
fn image_event(action: &str, id: &str, name: &str) -> Event {
    Event::new(EventType::Image, action, id).with("name", familiar(name))
}

impl Engine {
    /// Takes the gc lock shared (blocking): while held, no layer or blob of any recorded image
    /// is removed. Hold it from reading an image record until the container that uses it is
    /// recorded (pulls hold it the same way).
    pub fn lock_images_shared(&self) -> Result<FileLock> {
        FileLock::acquire_shared(&gc_lock_path(self.layout()))
    }

    /// Removes the image `r` names, as `docker rmi` does: a tag of an image with other tags is
    /// only untagged; otherwise the image is deleted, unless a container uses it (then `force`
    /// only untags it) or it has several tags and was named by id (then `force` is needed).
    pub fn remove_image(&self, r: &str, force: bool) -> Result<RemoveReport> {
        let report = self.state().write(|tx| {
            let rec = ImageStore::of(tx).resolve(r)?;
            let named_tag = ImageRef::parse(r)
                .ok()
                .filter(|x| x.digest.is_none())
                .and_then(|x| x.tagged())
                .filter(|t| rec.repo_tags.contains(t));
            let mut report = RemoveReport::default();
            if let Some(tag) = &named_tag {
                if rec.repo_tags.len() > 1 {
                    ImageStore::of(tx).untag(tag)?;
                    report.untagged.push(familiar(tag));
                    journal::record(tx, &image_event("untag", &rec.id, tag))?;
                    return Ok(report);
                }
            } else if rec.repo_tags.len() > 1 && !force {
                return Err(EngineError::Conflict(format!(
                    "unable to delete {} (must be forced): image is referenced in multiple \
                     repositories ({})",
                    rec.short_id(),
                    rec.repo_tags
                        .iter()
                        .map(|t| familiar(t))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let users = ContainerStore::of(tx).names_using_image(&rec.id)?;
            if !users.is_empty() && !force {
                return Err(EngineError::Conflict(format!(
                    "unable to remove image {r}: it is used by container(s) {}; remove them \
                     first or use -f to untag it",
                    users.join(", ")
                )));
            }
            for tag in &rec.repo_tags {
                report.untagged.push(familiar(tag));
                journal::record(tx, &image_event("untag", &rec.id, tag))?;
            }
            ImageStore::of(tx).untag_all(&rec.id)?;
            if users.is_empty() {
                for d in &rec.repo_digests {
                    report.untagged.push(familiar(d));
                }
                ImageStore::of(tx).delete(&rec.id)?;
                report.deleted.push(rec.id.clone());
                journal::record(tx, &image_event("delete", &rec.id, r))?;
            }
            Ok(report)
        })?;
        self.emit(EngineEvent::ImagesChanged);
        if !report.deleted.is_empty() {
            // Free the layers now if no pull is running; otherwise `image prune` will.
            let lock = gc_lock_path(self.layout());
            if let Some(_lock) = FileLock::try_acquire(&lock)? {
                self.collect_garbage()?;
            }
        }
        Ok(report)
    }

    /// Removes dangling images (no tags) that no container uses, then every layer, blob,
    /// partial download and staging dir nothing references. Waits for running pulls.
    pub fn prune_images(&self) -> Result<PruneReport> {
        self.prune_images_with(false)
    }

    /// [`Engine::prune_images`]; with `all`, every image no container uses (`prune -a`), its
    /// tags included, not only the dangling ones.
    pub fn prune_images_with(&self, all: bool) -> Result<PruneReport> {
        let _lock = FileLock::acquire(&gc_lock_path(self.layout()))?;
        let (untagged, images) = self.state().write(|tx| {
            let mut untagged = Vec::new();
            let mut removed = Vec::new();
            for rec in ImageStore::of(tx).list()? {
                if (all || rec.repo_tags.is_empty())
                    && ContainerStore::of(tx)
                        .names_using_image(&rec.id)?
                        .is_empty()
                {
                    ImageStore::of(tx).untag_all(&rec.id)?;
                    ImageStore::of(tx).delete(&rec.id)?;
                    for tag in &rec.repo_tags {
                        journal::record(tx, &image_event("untag", &rec.id, tag))?;
                    }
                    let name = rec.repo_tags.first().unwrap_or(&rec.id);
                    journal::record(tx, &image_event("delete", &rec.id, name))?;
                    untagged.extend(rec.repo_tags.iter().map(|t| familiar(t)));
                    untagged.extend(rec.repo_digests.iter().map(|d| familiar(d)));
                    removed.push(rec.id);
                }
            }
            Ok((untagged, removed))
        })?;
        let mut report = self.collect_garbage()?;
        report.untagged = untagged;
        report.images = images;
        if !report.images.is_empty() {
            self.emit(EngineEvent::ImagesChanged);
        }
        Ok(report)
    }

    /// Removes unreferenced layers, blobs, partial downloads and staging dirs; the blobs the
    /// build cache names stay. The caller holds the gc lock exclusively.
    pub(crate) fn collect_garbage(&self) -> Result<PruneReport> {
        let layout = self.layout();
        let records: Vec<ImageRecord> = self.image_records()?;
        let mut chains = HashSet::new();
        let mut blobs = HashSet::new();
        for rec in &records {
            blobs.insert(hex(&rec.id));
            blobs.insert(hex(&rec.manifest_digest));
            blobs.insert(hex(&rec.platform_manifest_digest));
            for l in &rec.layers {
                chains.insert(hex(&l.chain_id));
                blobs.insert(hex(&l.digest));
            }
        }
        for d in crate::engine::build::cache::BuildCache::new(layout).blobs() {
            blobs.insert(hex(&d));
        }
        let mut report = PruneReport::default();
        for (name, path) in entries(&layout.layers_dir()) {
            // An init layer goes with its top layer.
            let init_of = name.strip_suffix(init_layer::SUFFIX);
            if chains.contains(init_of.unwrap_or(&name)) {
                continue;
            }
            let doomed = layout.tmp_dir().join(format!("gc-{name}"));
            if std::fs::rename(&path, &doomed).is_ok() {
                report.reclaimed += staging::disk_usage(&doomed);
                let _ = std::fs::remove_dir_all(&doomed);
                report.layers += usize::from(init_of.is_none());
            }
            let _ = std::fs::remove_file(layout.locks_dir().join(format!("layer-{name}.lock")));
        }
        for (name, path) in entries(&layout.blobs_dir()) {
            if blobs.contains(&name) {
                continue;
            }
            report.reclaimed += staging::disk_usage(&path);
            if std::fs::remove_file(&path).is_ok() {
                report.blobs += 1;
            }
        }
        // Partial downloads nobody is writing (their blob lock is free). No pull runs now, so
        // removing blob lock files cannot split a lock between two holders.
        for (name, path) in entries(&layout.ingest_dir()) {
            let hex = name.split('.').next().unwrap_or_default();
            let lock = layout.locks_dir().join(format!("blob-{hex}.lock"));
            if let Ok(Some(_held)) = FileLock::try_acquire(&lock) {
                report.reclaimed += staging::disk_usage(&path);
                let _ = std::fs::remove_file(&path);
            }
        }
        for (name, path) in entries(&layout.locks_dir()) {
            if let Some(hex) = name
                .strip_prefix("blob-")
                .and_then(|n| n.strip_suffix(".lock"))
            {
                if !blobs.contains(hex) {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        report.reclaimed += staging::sweep(layout);
        Ok(report)
    }
}

fn hex(digest: &str) -> String {
    digest.strip_prefix("sha256:").unwrap_or(digest).to_string()
}

fn entries(dir: &Path) -> Vec<(String, PathBuf)> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect()
        })
        .unwrap_or_default()
}
