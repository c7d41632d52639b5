//! Mounts in the OCI runtime spec's form (`{"destination", "type", "source", "options"}`), in
//! the order they must be mounted.

use serde_json::{json, Value};

use super::{MountPoint, MountType};

/// Options every tmpfs gets unless the user asks otherwise (docker's defaults).
const TMPFS_DEFAULTS: [(&str, &str); 3] =
    [("nosuid", "suid"), ("nodev", "dev"), ("noexec", "exec")];

/// The runtime-spec mount for `m`. Volumes and binds are recursive bind mounts with their
/// propagation; `ro` makes them read-only.
pub fn oci_mount(m: &MountPoint) -> Value {
    let access = if m.rw { "rw" } else { "ro" };
    match m.kind {
        MountType::Volume | MountType::Bind => {
            let propagation = if m.propagation.is_empty() {
                "rprivate"
            } else {
                m.propagation.as_str()
            };
            json!({
                "destination": m.destination,
                "type": "bind",
                "source": m.source,
                "options": ["rbind", propagation, access],
            })
        }
        MountType::Tmpfs => {
            let mut options: Vec<String> = TMPFS_DEFAULTS
                .iter()
                .filter(|(_, opposite)| !m.options.iter().any(|o| o == opposite))
                .map(|(d, _)| (*d).to_owned())
                .collect();
            options.extend(m.options.iter().cloned());
            options.push(access.to_owned());
            json!({
                "destination": m.destination,
                "type": "tmpfs",
                "source": "tmpfs",
                "options": options,
            })
        }
    }
}

/// The runtime-spec mounts of a container's `mounts`, parents before children.
pub fn spec_mounts(mounts: &[MountPoint]) -> Vec<Value> {
    let mut sorted = mounts.to_vec();
    sort_for_mounting(&mut sorted);
    sorted.iter().map(oci_mount).collect()
}

/// Sorts mounts so that a parent is mounted before anything under it (by the number of path
/// components of the destination; stable otherwise).
pub fn sort_for_mounting(mounts: &mut [MountPoint]) {
    mounts.sort_by_key(|m| m.destination.split('/').filter(|p| !p.is_empty()).count());
}
