//! Combining the user's mounts, the mounts of `--volumes-from` containers and the image's
//! `VOLUME`s into one list with at most one mount per destination, as docker does: the user's
//! own flags must not collide; they override inherited mounts, and both override image volumes,
//! which otherwise become anonymous volumes.

use std::collections::{BTreeMap, HashMap};

use super::parse::{clean_destination, MountRequest, MountSource, ParsedMounts, VolumesFrom};
use super::{MountPoint, MountType};
use crate::engine::error::{EngineError, Result};

/// One mount of the planned container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    /// A mount still to be made real: volume created or looked up, host directory checked.
    New(MountRequest),
    /// A mount taken over from another container (`--volumes-from`), mode already applied.
    Inherited { mount: MountPoint, from: String },
}

impl Planned {
    /// Destination inside the container.
    pub fn destination(&self) -> &str {
        match self {
            Planned::New(r) => &r.destination,
            Planned::Inherited { mount, .. } => &mount.destination,
        }
    }
}

/// Plans the mounts. `from` holds each `--volumes-from` entry with the mounts of the container it
/// names (the caller resolves the container and reports an unknown one); `image_volumes` are the
/// keys of the image config's `Volumes`.
pub fn plan(
    parsed: &ParsedMounts,
    from: &[(VolumesFrom, Vec<MountPoint>)],
    image_volumes: &[String],
) -> Result<Vec<Planned>> {
    let mut out: Vec<Planned> = Vec::new();
    let mut by_dest: HashMap<String, usize> = HashMap::new();
    for req in &parsed.requests {
        if let Some(&i) = by_dest.get(&req.destination) {
            let other = match &out[i] {
                Planned::New(o) => o.flag.as_str(),
                Planned::Inherited { .. } => "another mount",
            };
            return Err(EngineError::InvalidInput(format!(
                "duplicate mount point {}: both `{other}` and `{}` mount there; keep one",
                req.destination, req.flag
            )));
        }
        by_dest.insert(req.destination.clone(), out.len());
        out.push(Planned::New(req.clone()));
    }
    let user_count = out.len();
    for (vf, mounts) in from {
        for m in mounts.iter().filter(|m| m.kind != MountType::Tmpfs) {
            let mut mount = m.clone();
            if let Some(ro) = vf.read_only {
                mount.rw = !ro;
            }
            match by_dest.get(&mount.destination) {
                Some(&i) if i < user_count => continue,
                Some(&i) => {
                    let Planned::Inherited { mount: have, from } = &out[i] else {
                        continue;
                    };
                    if have.kind == mount.kind && have.source == mount.source {
                        continue;
                    }
                    return Err(EngineError::InvalidInput(format!(
                        "conflicting --volumes-from: {} is mounted by both {from} and {}; mount \
                         it yourself with -v to choose",
                        mount.destination, vf.container
                    )));
                }
                None => {
                    by_dest.insert(mount.destination.clone(), out.len());
                    out.push(Planned::Inherited {
                        mount,
                        from: vf.container.clone(),
                    });
                }
            }
        }
    }
    for v in image_volumes {
        let flag = format!("image VOLUME {v}");
        let destination = clean_destination(&flag, v).map_err(|e| {
            EngineError::InvalidInput(format!(
                "{e} (the image declares it; mount something there with -v to override)"
            ))
        })?;
        if by_dest.contains_key(&destination) {
            continue;
        }
        by_dest.insert(destination.clone(), out.len());
        out.push(Planned::New(MountRequest {
            source: MountSource::Volume {
                name: None,
                labels: BTreeMap::new(),
            },
            destination,
            read_only: false,
            no_copy: false,
            propagation: String::new(),
            mode: String::new(),
            flag,
        }));
    }
    Ok(out)
}
