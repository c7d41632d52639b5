//! Image archives: `save` and `load`.
//!
//! - [`save`]: images to a docker-archive that is also an OCI layout (as docker 25+ writes it:
//!   `blobs/sha256/…`, `index.json`, `oci-layout`, `manifest.json`, `repositories`), to an
//!   oci-archive (the layout alone, in a tar) or to an OCI layout directory;
//! - [`reader`]: an archive (tar, gzip or zstd, from a file or a stream) or a layout directory,
//!   every blob streamed through the content ingest and verified on the way;
//! - [`load`]: what was read, interpreted as an OCI layout or a docker-archive (docker 25+ or the
//!   older `<id>/layer.tar` form, podman's too), then the import pipeline
//!   ([`crate::engine::image::import`]).
//!
//! Docker manifests become OCI manifests in what berth writes (as docker 25+ does); the blobs
//! are written as stored, compressed.

pub mod api;
pub mod load;
pub mod media;
pub mod prestage;
pub mod reader;
pub mod save;

use std::io::{Read, Write};
use std::path::PathBuf;

use crate::engine::error::{EngineError, Result};

/// What `save` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchiveFormat {
    /// A tar with `manifest.json` and `repositories` that is also an OCI layout (docker 25+).
    #[default]
    DockerArchive,
    /// A tar of an OCI image layout.
    OciArchive,
    /// An OCI image layout directory.
    OciDir,
}

impl std::str::FromStr for ArchiveFormat {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "docker-archive" | "docker" => Ok(ArchiveFormat::DockerArchive),
            "oci-archive" => Ok(ArchiveFormat::OciArchive),
            "oci-dir" => Ok(ArchiveFormat::OciDir),
            other => Err(EngineError::InvalidInput(format!(
                "unknown archive format \"{other}\": use docker-archive, oci-archive or oci-dir"
            ))),
        }
    }
}

/// Where `save` writes.
pub enum SaveOutput {
    /// A file, written beside its final name and renamed into place when complete.
    File(PathBuf),
    /// A stream (standard output): on failure the reader has part of an archive.
    Stream(Box<dyn Write + Send>),
}

/// Where `load` reads.
pub enum LoadInput {
    /// A file (a tar, compressed or not) or an OCI layout / extracted archive directory.
    Path(PathBuf),
    /// A stream (standard input).
    Stream(Box<dyn Read + Send>),
}

/// One image `load` stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    /// Image id (`sha256:…`).
    pub id: String,
    /// Familiar names pointed at it (`busybox:latest`); empty when the archive named none.
    pub names: Vec<String>,
}
