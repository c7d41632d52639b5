//! Where everything lives under the engine root.
//!
//! ```text
//! ROOT/state.db                    images, tags, containers, volumes (SQLite, WAL)
//! ROOT/blobs/sha256/<hex>          verified content (manifests, configs, layer archives)
//! ROOT/ingest/                     blobs being written (partial files, resumable)
//! ROOT/layers/<chain-hex>/         one unpacked layer per chain id, shared by every image
//! ROOT/layers/<chain-hex>-init/    the runtime's mount points the image whose top layer it is lacks
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
        mark_top_of_trees(&self.tmp_dir());
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

    /// The init layer of the image whose top layer has chain id `top_chain`
    /// (`layer::init_layer`): `layers/<hex>-init`.
    pub fn init_layer_dir(&self, top_chain: &str) -> Result<PathBuf> {
        let dir = self.layer_dir(top_chain)?;
        let mut name = dir.file_name().unwrap_or_default().to_os_string();
        name.push(super::layer::init_layer::SUFFIX);
        Ok(dir.with_file_name(name))
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

/// ext4's "top of directory hierarchies" flag (`chattr +T`, `FS_TOPDIR_FL`).
const FS_TOPDIR_FL: libc::c_int = 0x0002_0000;

/// Marks `dir` as holding independent directory trees (`chattr +T`): ext4's Orlov allocator
/// then places each directory made in it (a layer being unpacked, a volume, a build stage) in
/// a block group of its own choosing, with room and few directories, instead of next to its
/// parent, and the tree's files follow it. Unpacking into the parent's group costs far more
/// where many files were deleted there lately: without a journal, ext4 skips every inode freed
/// in the last minutes by reading its inode table block, for every inode it allocates. Best
/// effort: other file systems have no such flag and are left as they are.
fn mark_top_of_trees(dir: &Path) {
    use std::os::fd::AsRawFd;
    let Ok(d) = std::fs::File::open(dir) else {
        return;
    };
    let mut flags: libc::c_int = 0;
    // SAFETY: FS_IOC_GETFLAGS and FS_IOC_SETFLAGS read and write one int through the pointer,
    // which lives across the calls.
    unsafe {
        if libc::ioctl(d.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) != 0
            || flags & FS_TOPDIR_FL != 0
        {
            return;
        }
        flags |= FS_TOPDIR_FL;
        if libc::ioctl(d.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags) != 0 {
            tracing::debug!(dir = %dir.display(), "could not mark as the top of directory trees");
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmp_is_marked_as_the_top_of_directory_trees_on_ext4() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path().join("root"));
        layout.create().expect("create layout");
        let st = nix::sys::statfs::statfs(dir.path()).expect("statfs");
        if st.filesystem_type() != nix::sys::statfs::EXT4_SUPER_MAGIC {
            eprintln!("not ext4: the flag does not exist here");
            return;
        }
        let out = std::process::Command::new("lsattr")
            .arg("-d")
            .arg(layout.tmp_dir())
            .output()
            .expect("run lsattr (e2fsprogs)");
        let flags = String::from_utf8_lossy(&out.stdout);
        let flags = flags.split_whitespace().next().unwrap_or_default();
        assert!(flags.contains('T'), "tmp/ flags: {flags}");
        // Marking again (every engine open) changes nothing.
        layout.create().expect("create layout again");
    }
}
