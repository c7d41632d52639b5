//! What each layer of an image adds, changes and removes (the TUI's layer explorer): the
//! layers with the step that made each, and one layer's entries compared with the layers
//! below it. The unpacked layers are walked without following a link (`layer::tree`).

use serde::Serialize;

use super::config::ConfigFile;
use crate::engine::content::ContentStore;
use crate::engine::error::{EngineError, Result};
use crate::engine::layer::diff::exists_below;
use crate::engine::layer::tree::{self, NodeKind};
use crate::engine::{blocking, Engine};

/// One layer of an image, base first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerSummary {
    /// Position, 0 for the base.
    pub index: usize,
    /// The uncompressed tar's digest (`rootfs.diff_ids`).
    pub diff_id: String,
    /// Unpacked size in bytes.
    pub size: u64,
    /// The history entry that made it (the instruction), empty when the config has none.
    pub created_by: String,
}

/// What a layer does to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EntryChange {
    Added,
    Changed,
    Removed,
}

/// What the entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EntryKind {
    Dir,
    File,
    Symlink,
    Other,
}

/// One path a layer holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerEntry {
    /// Relative, components joined by `/` (no leading slash).
    pub path: String,
    pub change: EntryChange,
    pub kind: EntryKind,
    /// Bytes of a file (a symlink: its target's length); 0 otherwise.
    pub size: u64,
    /// A directory that hides what the layers below have in it (replaced as a whole).
    pub opaque: bool,
}

impl Engine {
    /// The layers of the image `r` names, base first, each with the step that made it.
    pub async fn image_layers(&self, r: String) -> Result<Vec<LayerSummary>> {
        blocking(self, move |e| {
            let image = e.image(&r)?;
            let config = ConfigFile::load(&ContentStore::new(e.layout()), &image.id)?;
            let mut steps = config
                .history
                .iter()
                .filter(|h| !h.empty_layer)
                .map(|h| h.created_by.clone().unwrap_or_default());
            Ok(image
                .layers
                .iter()
                .enumerate()
                .map(|(index, l)| LayerSummary {
                    index,
                    diff_id: l.diff_id.clone(),
                    size: l.unpacked_size,
                    created_by: steps.next().unwrap_or_default(),
                })
                .collect())
        })
        .await
    }

    /// Every path layer `index` (0 the base) of the image `r` holds, in path order: added,
    /// changed (present in a layer below) or removed (a whiteout).
    pub async fn image_layer_entries(&self, r: String, index: usize) -> Result<Vec<LayerEntry>> {
        blocking(self, move |e| {
            // Held while walking, so no prune removes the layers under us.
            let _gc = e.lock_images_shared()?;
            let image = e.image(&r)?;
            let Some(layer) = image.layers.get(index) else {
                return Err(EngineError::InvalidInput(format!(
                    "image {r} has {} layers: there is no layer {}",
                    image.layers.len(),
                    index + 1
                )));
            };
            let dir = e.layout().layer_dir(&layer.chain_id)?;
            let lowers = image.layers[..index]
                .iter()
                .rev()
                .map(|l| e.layout().layer_dir(&l.chain_id))
                .collect::<Result<Vec<_>>>()?;
            let mut out = Vec::new();
            tree::walk(&dir, &|_| false, &mut |node| {
                let (kind, size, opaque) = match &node.kind {
                    NodeKind::Dir { opaque } => (EntryKind::Dir, 0, *opaque),
                    NodeKind::File(_) => (EntryKind::File, node.stat.st_size as u64, false),
                    NodeKind::Symlink(t) => (EntryKind::Symlink, t.len() as u64, false),
                    NodeKind::Whiteout => (EntryKind::Other, 0, false),
                    _ => (EntryKind::Other, 0, false),
                };
                let change = match node.kind {
                    NodeKind::Whiteout => EntryChange::Removed,
                    _ if exists_below(&lowers, &node.path) => EntryChange::Changed,
                    _ => EntryChange::Added,
                };
                out.push(LayerEntry {
                    path: String::from_utf8_lossy(&node.path).into_owned(),
                    change,
                    kind,
                    size,
                    opaque,
                });
                Ok(())
            })?;
            Ok(out)
        })
        .await
    }
}
