//! Where everything lives under the engine root.
//!
//! ```text
//! ROOT/state.db                    images, tags, containers, volumes (SQLite, WAL)
//! ROOT/blobs/sha256/<hex>          verified content (manifests, configs, layer archives)
//! ROOT/ingest/                     blobs being written (partial files, resumable)
//! ROOT/layers/<chain-hex>/         one unpacked layer per chain id, shared by every image
//! ROOT/containers/<id>/            config.json, upper/, work/, merged/, log.json, attach.sock, exit
//! ROOT/volumes/<name>/_data        named and anonymous volumes
//! ROOT/locks/                      lock files (per container, per blob, per layer)
//! ROOT/tmp/                        staging dirs, always on the same filesystem as the store
//! ```

use std::path::{Path, PathBuf};

use super::distribution::reference::validate_digest;
use super::error::{EngineError, Result};

/// Paths under one engine root.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// A layout rooted at `root` (not created yet; see [`Layout::create`]).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Layout { root: root.into() }
    }

    /// Creates the root and its directories. The root is closed to every other user (mode 0700
    /// when berth creates it; an existing root only ever loses group and other bits, so a mode
    /// an admin tightened stays). A root on a read-only file system is one clear error.
    pub fn create(&self) -> Result<()> {
        self.refuse_read_only()?;
        for dir in [
            self.root.clone(),
            self.root.join("blobs/sha256"),
            self.ingest_dir(),
            self.layers_dir(),
            self.containers_dir(),
            self.volumes_dir(),
            self.locks_dir(),
            self.tmp_dir(),
        ] {
            create_private_dir(&dir).map_err(|e| self.create_error(&dir, e))?;
        }
        Ok(())
    }

    /// The error for a directory of the root that cannot be made: read-only is named as such.
    fn create_error(&self, dir: &Path, e: std::io::Error) -> EngineError {
        if e.raw_os_error() == Some(libc::EROFS) {
            return self.read_only_error();
        }
        EngineError::io_path("cannot create engine directory", dir, e)
    }

    fn read_only_error(&self) -> EngineError {
        EngineError::InvalidState(format!(
            "the engine root {} is on a read-only file system: remount it read-write, or give \
             a writable root with --root or BERTH_ROOT",
            self.root.display()
        ))
    }

    /// Fails when the root (or, before it exists, its nearest existing parent) is read-only.
    fn refuse_read_only(&self) -> Result<()> {
        let Some(existing) = self.root.ancestors().find(|p| p.exists()) else {
            return Ok(());
        };
        match nix::sys::statvfs::statvfs(existing) {
            Ok(st) if st.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY) => {
                Err(self.read_only_error())
            }
            _ => Ok(()),
        }
    }

    /// The engine root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite state database.
    pub fn state_db(&self) -> PathBuf {
        self.root.join("state.db")
    }

    /// Path of a verified blob. The digest is validated first, so it can never escape the store.
    pub fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        validate_digest(digest)?;
        let hex = &digest["sha256:".len()..];
        Ok(self.root.join("blobs/sha256").join(hex))
    }

    /// Directory of blobs.
    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs/sha256")
    }

    /// Directory of downloads in progress.
    pub fn ingest_dir(&self) -> PathBuf {
        self.root.join("ingest")
    }

    /// Directory of unpacked layers.
    pub fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }

    /// Unpacked layer for a chain id (`sha256:…`), validated like a digest.
    pub fn layer_dir(&self, chain_id: &str) -> Result<PathBuf> {
        validate_digest(chain_id)?;
        Ok(self.layers_dir().join(&chain_id["sha256:".len()..]))
    }

    /// Compiled seccomp programs by digest (`runtime::seccomp_cache`).
    pub fn seccomp_dir(&self) -> PathBuf {
        self.root.join("seccomp")
    }

    /// Directory of containers.
    pub fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }

    /// One container's directory.
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.containers_dir().join(id)
    }

    /// Directory of volumes.
    pub fn volumes_dir(&self) -> PathBuf {
        self.root.join("volumes")
    }

    /// Directory of lock files.
    pub fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// Staging area on the store's filesystem (renames from here are atomic).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
}

/// Creates `dir` (and missing parents) closed to other users: new directories get mode 0700,
/// and `dir` itself, if it exists, loses its group and other bits (never gains any).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & !0o077))?;
    }
    Ok(())
}

/// The default engine root: `/var/lib/berth` for root, `$XDG_DATA_HOME/berth` otherwise.
pub fn default_root() -> PathBuf {
    if nix::unistd::geteuid().is_root() {
        PathBuf::from("/var/lib/berth")
    } else {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from(".local/share"))
            .join("berth")
    }
}

/// berth's config directory (credentials, registries, TUI config): `$BERTH_CONFIG_DIR`, else
/// `$XDG_CONFIG_HOME/berth`, else `~/.config/berth`.
pub fn config_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BERTH_CONFIG_DIR") {
        return PathBuf::from(dir);
    }
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("/etc"))
        .join("berth")
}
