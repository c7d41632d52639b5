//! `history`: an image's history entries, newest first, each with the size of the layer it made.

use serde::Serialize;

use super::config::ConfigFile;
use crate::engine::content::ContentStore;
use crate::engine::error::Result;
use crate::engine::Engine;

/// One row of `history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    /// The image id for the newest row, `<missing>` for the others (docker's wording).
    pub id: String,
    /// RFC 3339.
    pub created: Option<String>,
    /// The instruction or command.
    pub created_by: String,
    /// Unpacked size of the layer the step made (0 for an empty step).
    pub size: u64,
    /// The comment.
    pub comment: String,
    /// The image's tags (newest row only).
    pub tags: Vec<String>,
}

impl Engine {
    /// The history of the image `r` names, newest first. A config without history gives one
    /// row per layer.
    pub fn image_history(&self, r: &str) -> Result<Vec<HistoryRow>> {
        let image = self.image(r)?;
        let config = ConfigFile::load(&ContentStore::new(self.layout()), &image.id)?;
        let mut sizes = image.layers.iter().rev().map(|l| l.unpacked_size);
        let mut rows = Vec::new();
        if config.history.is_empty() {
            for size in sizes {
                rows.push(HistoryRow {
                    id: "<missing>".into(),
                    created: config.created.clone(),
                    created_by: String::new(),
                    size,
                    comment: String::new(),
                    tags: Vec::new(),
                });
            }
        } else {
            for h in config.history.iter().rev() {
                let size = if h.empty_layer {
                    0
                } else {
                    sizes.next().unwrap_or(0)
                };
                rows.push(HistoryRow {
                    id: "<missing>".into(),
                    created: h.created.clone(),
                    created_by: h.created_by.clone().unwrap_or_default(),
                    size,
                    comment: h.comment.clone().unwrap_or_default(),
                    tags: Vec::new(),
                });
            }
        }
        if let Some(top) = rows.first_mut() {
            top.id = image.id.clone();
            top.tags = image.summary().repo_tags;
        }
        Ok(rows)
    }
}

impl Engine {
    /// [`Engine::image_history`] from async code (the TUI).
    pub async fn image_history_of(&self, r: String) -> Result<Vec<HistoryRow>> {
        crate::engine::blocking(self, move |e| e.image_history(&r)).await
    }
}
