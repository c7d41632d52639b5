//! A container's files as async `Engine` methods (for the CLI and the TUI): `export` to a file
//! or a stream, and `cp` of a path out of or into a container. The work runs on tokio's blocking
//! pool.

use super::cp::{CopyOptions, HostSide};
use crate::engine::error::Result;
use crate::engine::image::archive::SaveOutput;
use crate::engine::{blocking, Engine};

impl Engine {
    /// `export [-o PATH] CONTAINER`: a file is written beside its final name and renamed into
    /// place when complete.
    pub async fn container_export(&self, reference: String, output: SaveOutput) -> Result<()> {
        blocking(self, move |e| e.export_container(&reference, output)).await
    }

    /// `cp CONTAINER:SRC DEST`, with docker's rules.
    pub async fn container_copy_out(
        &self,
        container: String,
        src: String,
        dest: HostSide,
        opts: CopyOptions,
    ) -> Result<()> {
        blocking(self, move |e| {
            e.copy_from_container(&container, &src, dest, opts)
        })
        .await
    }

    /// `cp SRC CONTAINER:DEST`, with docker's rules.
    pub async fn container_copy_in(
        &self,
        src: HostSide,
        container: String,
        dest: String,
        opts: CopyOptions,
    ) -> Result<()> {
        blocking(self, move |e| {
            e.copy_to_container(src, &container, &dest, opts)
        })
        .await
    }
}
