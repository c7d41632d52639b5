//! `build` as an async `Engine` method (for the TUI): the build runs on tokio's blocking pool
//! and writes its output to `out` as it goes; `build_cancel` stops it.

use std::sync::Arc;

use super::cancel::BuildCancel;
use super::{BuildOptions, BuildOutput};
use crate::engine::error::Result;
use crate::engine::image::ImageRecord;
use crate::engine::{blocking, Engine};

impl Engine {
    /// Builds `opts`, its step lines and RUN output to `out`; returns the image recorded.
    pub async fn build_image(
        &self,
        opts: BuildOptions,
        mut out: Box<dyn BuildOutput>,
    ) -> Result<ImageRecord> {
        blocking(self, move |e| e.build(&opts, out.as_mut())).await
    }

    /// Stops the build `cancel` was given to (as SIGINT stops the CLI's): its RUN containers
    /// are killed, and the build removes them and its staging directories on the way out and
    /// ends with a `Cancelled` error.
    pub async fn build_cancel(&self, cancel: Arc<BuildCancel>) -> Result<()> {
        blocking(self, move |e| {
            cancel.cancel(e);
            Ok(())
        })
        .await
    }
}
