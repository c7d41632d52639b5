//! A container's files as async `Engine` methods (for the TUI): `export` to a file, and `cp`
//! of a path out of or into a container. The work runs on tokio's blocking pool.

use std::path::PathBuf;

use super::cp::{CopyOptions, HostSide};
use crate::engine::error::Result;
use crate::engine::image::archive::SaveOutput;
use crate::engine::{blocking, Engine};

impl Engine {
    /// `export -o PATH CONTAINER`: written beside `path` and renamed into place when complete.
    pub async fn container_export(&self, reference: String, path: PathBuf) -> Result<()> {
        blocking(self, move |e| {
            e.export_container(&reference, SaveOutput::File(path))
        })
        .await
    }

    /// `cp CONTAINER:SRC DEST`, with docker's rules.
    pub async fn container_copy_out(
        &self,
        container: String,
        src: String,
        dest: PathBuf,
        opts: CopyOptions,
    ) -> Result<()> {
        blocking(self, move |e| {
            e.copy_from_container(&container, &src, HostSide::Path(dest), opts)
        })
        .await
    }

    /// `cp SRC CONTAINER:DEST`, with docker's rules.
    pub async fn container_copy_in(
        &self,
        src: PathBuf,
        container: String,
        dest: String,
        opts: CopyOptions,
    ) -> Result<()> {
        blocking(self, move |e| {
            e.copy_to_container(HostSide::Path(src), &container, &dest, opts)
        })
        .await
    }
}
