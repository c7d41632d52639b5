//! `build` as async `Engine` methods (for the CLI and the TUI): the build runs on tokio's
//! blocking pool and writes its output to `out` as it goes.

use std::path::PathBuf;
use std::sync::Arc;

use super::{BuildCancel, BuildOptions, BuildOutput};
use crate::engine::error::{EngineError, Result};
use crate::engine::image::ImageRecord;
use crate::engine::staging::StagedDir;
use crate::engine::{blocking, Engine};

/// A build context read from standard input (`build -`), staged under the engine root.
pub struct StdinContext {
    /// The staging directory; removed when dropped, so keep it until the build is over.
    pub staged: StagedDir,
    /// The context's root directory (empty when stdin held only a Dockerfile).
    pub root: PathBuf,
    /// The Dockerfile's text.
    pub dockerfile: String,
}

impl Engine {
    /// Builds `opts`, its step lines and RUN output to `out`; returns the image recorded.
    pub async fn build_image(
        &self,
        opts: BuildOptions,
        mut out: Box<dyn BuildOutput>,
    ) -> Result<ImageRecord> {
        blocking(self, move |e| e.build(&opts, out.as_mut())).await
    }

    /// `builder prune` (see [`Engine::prune_build_cache`]).
    pub async fn build_cache_prune(&self) -> Result<super::cache::BuildPruneReport> {
        blocking(self, |e| e.prune_build_cache()).await
    }

    /// Cancels the build `cancel` belongs to: its RUN containers are killed; the build removes
    /// them and its staging directories before it returns.
    pub async fn build_cancel(&self, cancel: Arc<BuildCancel>) -> Result<()> {
        blocking(self, move |e| {
            cancel.cancel(e);
            Ok(())
        })
        .await
    }

    /// `build -`: `data` is either a context archive (tar, plain or compressed with gzip,
    /// zstd, xz or bzip2), unpacked into a staging directory, with its Dockerfile named `file`
    /// (default `Dockerfile`) read from it; or a Dockerfile's text, with an empty context.
    pub async fn build_context_from_stdin(
        &self,
        data: Vec<u8>,
        file: Option<String>,
    ) -> Result<StdinContext> {
        blocking(self, move |e| {
            if crate::engine::compression::looks_like_archive(&data) {
                let staged = e.context_from_archive(&data[..])?;
                let root = staged.path().join("context");
                let name = file.unwrap_or_else(|| "Dockerfile".into());
                let dockerfile = std::fs::read_to_string(root.join(&name)).map_err(|err| {
                    EngineError::InvalidInput(format!(
                        "cannot read {name} in the context on stdin: {err}"
                    ))
                })?;
                Ok(StdinContext {
                    staged,
                    root,
                    dockerfile,
                })
            } else {
                let dockerfile = String::from_utf8(data).map_err(|_| {
                    EngineError::InvalidInput(
                        "the Dockerfile on stdin is not UTF-8 text (and not a tar archive)".into(),
                    )
                })?;
                let staged = StagedDir::create(e.layout(), "build-context")?;
                let root = staged.path().to_path_buf();
                Ok(StdinContext {
                    staged,
                    root,
                    dockerfile,
                })
            }
        })
        .await
    }
}
