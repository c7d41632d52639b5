//! The archive operations as async `Engine` methods (for the CLI and the TUI): the work runs on tokio's
//! blocking pool.

use super::{ArchiveFormat, SaveOutput};
use crate::engine::error::Result;
use crate::engine::{blocking, Engine};

impl Engine {
    /// `save [-o PATH] IMAGE…`: a file is written beside its final name and renamed into place
    /// when complete; nothing is left of a failed save.
    pub async fn image_save(
        &self,
        names: Vec<String>,
        format: ArchiveFormat,
        output: SaveOutput,
    ) -> Result<()> {
        blocking(self, move |e| e.save_images(&names, format, output)).await
    }
}
