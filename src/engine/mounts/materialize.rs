//! Making a plan real inside the container's create transaction: host paths checked, volumes
//! created or found, missing `-v` host directories made. Everything made is recorded in the
//! caller's [`NewDirs`], so a transaction that does not commit leaves nothing behind.

use std::path::Path;

use rusqlite::Transaction;

use super::parse::MountSource;
use super::plan::Planned;
use super::{MountPoint, MountType};
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::layout::Layout;
use crate::engine::volume::copyup::copy_up_if_empty;
use crate::engine::volume::{create_in, CreateVolume, NewDirs, LOCAL_DRIVER};

/// Turns `planned` into the container's mounts. Checks every bind source first (a `--mount`
/// bind must exist; a `-v` one may be missing and is then created, last, as a directory).
pub fn materialize(
    tx: &Transaction<'_>,
    layout: &Layout,
    planned: &[Planned],
    dirs: &mut NewDirs,
) -> Result<Vec<MountPoint>> {
    let mut to_create = Vec::new();
    for p in planned {
        let Planned::New(req) = p else { continue };
        let MountSource::Bind { path, create } = &req.source else {
            continue;
        };
        match std::fs::symlink_metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && *create => {
                to_create.push(path.clone());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(EngineError::InvalidInput(format!(
                    "invalid {}: bind source path {} does not exist; create it first, or use -v \
                     (which creates a missing directory)",
                    req.flag,
                    path.display()
                )))
            }
            Err(e) => return Err(EngineError::io_path("cannot stat bind source", path, e)),
        }
    }
    let mut out = Vec::with_capacity(planned.len());
    for p in planned {
        let req = match p {
            Planned::Inherited { mount, .. } => {
                out.push(mount.clone());
                continue;
            }
            Planned::New(req) => req,
        };
        let base = MountPoint {
            kind: MountType::Bind,
            name: String::new(),
            source: String::new(),
            destination: req.destination.clone(),
            driver: String::new(),
            mode: req.mode.clone(),
            rw: !req.read_only,
            propagation: req.propagation.clone(),
            options: Vec::new(),
            no_copy: req.no_copy,
        };
        out.push(match &req.source {
            MountSource::Volume { name, labels } => {
                let create = CreateVolume {
                    name: name.clone(),
                    labels: labels.clone(),
                    anonymous: name.is_none(),
                };
                let (volume, _) = create_in(tx, layout, &create, dirs)?;
                MountPoint {
                    kind: MountType::Volume,
                    name: volume.name,
                    source: volume.mountpoint.to_string_lossy().into_owned(),
                    driver: LOCAL_DRIVER.to_owned(),
                    ..base
                }
            }
            MountSource::Bind { path, .. } => MountPoint {
                source: path.to_string_lossy().into_owned(),
                ..base
            },
            MountSource::Tmpfs { options } => MountPoint {
                kind: MountType::Tmpfs,
                options: options.clone(),
                ..base
            },
        });
    }
    for path in to_create {
        create_host_dir(&path, dirs)?;
    }
    Ok(out)
}

/// `mkdir -p path`, recording the topmost directory it made.
fn create_host_dir(path: &Path, dirs: &mut NewDirs) -> Result<()> {
    let mut top = None;
    let mut cur = Some(path);
    while let Some(p) = cur {
        if p.exists() {
            break;
        }
        top = Some(p.to_path_buf());
        cur = p.parent();
    }
    std::fs::create_dir_all(path).ctx("cannot create host directory", path)?;
    if let Some(top) = top {
        dirs.record(top);
    }
    Ok(())
}

/// Copies the image's content into every empty volume mounted without `nocopy`; `rootfs` is the
/// container's mounted root. Returns the names of the volumes that received content.
pub fn copy_up(rootfs: &Path, mounts: &[MountPoint]) -> Result<Vec<String>> {
    let mut copied = Vec::new();
    for m in mounts {
        if m.kind != MountType::Volume || m.no_copy {
            continue;
        }
        if copy_up_if_empty(rootfs, Path::new(&m.destination), Path::new(&m.source))? {
            copied.push(m.name.clone());
        }
    }
    Ok(copied)
}
