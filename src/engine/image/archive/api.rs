//! The archive operations as async `Engine` methods (for the TUI): the work runs on tokio's
//! blocking pool.

use std::path::PathBuf;

use super::{ArchiveFormat, SaveOutput};
use crate::engine::error::Result;
use crate::engine::{blocking, Engine};

impl Engine {
    /// `save -o PATH IMAGE…`: written beside `path` and renamed into place when complete;
    /// nothing is left of a failed save.
    pub async fn image_save(
        &self,
        names: Vec<String>,
        format: ArchiveFormat,
        path: PathBuf,
    ) -> Result<()> {
        blocking(self, move |e| {
            e.save_images(&names, format, SaveOutput::File(path))
        })
        .await
    }
}
