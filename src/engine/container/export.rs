//! `export`: a container's filesystem (its image's layers with its own changes on top, no
//! volumes) as one tar. A running container's mounted rootfs is read where it is; a stopped
//! one's is mounted read-only for the export (its upper dir as the top lower layer) in a staging
//! dir, while the container's lock keeps it from starting, and unmounted after.

use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::store;
use super::tree_tar::TreeTar;
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::image::archive::save::write_to_new_path;
use crate::engine::image::archive::SaveOutput;
use crate::engine::snapshot::Snapshot;
use crate::engine::staging::StagedDir;
use crate::engine::Engine;

/// A read-only overlay of a stopped container, unmounted (then its staging dir removed) on drop.
struct ReadOnlyView {
    mount: PathBuf,
    _dir: StagedDir,
}

impl Drop for ReadOnlyView {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.mount, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// Mounts `upper` over the layers of the container in `dir` read-only at a new staging dir.
fn mount_view(engine: &Engine, dir: &Path, layers: &[PathBuf]) -> Result<ReadOnlyView> {
    let staged = StagedDir::create(engine.layout(), "export")?;
    let mount = staged.path().to_path_buf();
    // Short relative names keep the options within a page: mount from the container's dir, in
    // a child process (changing the working directory is not for a threaded process).
    let mut lowers = vec!["upper".to_string()];
    lowers.extend(crate::engine::snapshot::lower_names(layers));
    let out = std::process::Command::new("mount")
        .current_dir(dir)
        .args(["-t", "overlay", "overlay", "-o"])
        .arg(format!("ro,lowerdir={}", lowers.join(":")))
        .arg(&mount)
        .output()
        .map_err(|e| EngineError::io("cannot run mount(8) for the export", e))?;
    if !out.status.success() {
        return Err(EngineError::Runtime(format!(
            "cannot mount the container's filesystem for the export: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(ReadOnlyView {
        mount,
        _dir: staged,
    })
}

impl Engine {
    /// Writes the filesystem of container `reference` as a tar to `output`. Blocking.
    pub fn export_container(&self, reference: &str, output: SaveOutput) -> Result<()> {
        let id = store::resolve(self.state(), reference)?;
        let rec = store::load(self.state(), &id)?;
        let dir = self.layout().container_dir(&id);
        let snap = Snapshot::new(&dir);
        let mut _lock = None;
        let mut _view = None;
        let root = if snap.is_mounted()? {
            snap.merged()
        } else {
            _lock = Some(store::lock(self.layout(), &id)?);
            if snap.is_mounted()? {
                snap.merged()
            } else {
                let view = mount_view(self, &dir, &rec.lowers)?;
                let p = view.mount.clone();
                _view = Some(view);
                p
            }
        };
        let root_dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
            .open(&root)
            .ctx("cannot open the container's filesystem at", &root)?;
        let write = |w: &mut dyn Write| -> Result<()> {
            let mut builder = tar::Builder::new(w);
            TreeTar::new(&mut builder).add_dir(&root_dir, "")?;
            builder
                .into_inner()
                .and_then(|w| w.flush())
                .map_err(|e| EngineError::io("cannot write the export", e))
        };
        match output {
            SaveOutput::File(path) => write_to_new_path(&path, false, |tmp| {
                let f = std::fs::File::create(tmp).ctx("cannot create", tmp)?;
                let mut w = BufWriter::with_capacity(1 << 20, f);
                write(&mut w)?;
                let f = w
                    .into_inner()
                    .map_err(|e| EngineError::io_path("cannot write", tmp, e.into_error()))?;
                f.sync_all().ctx("cannot sync", tmp)
            }),
            SaveOutput::Stream(s) => {
                let mut w = BufWriter::with_capacity(1 << 20, s);
                write(&mut w)
            }
        }
    }
}
