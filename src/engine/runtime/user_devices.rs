//! `--device HOST[:CONTAINER][:PERMISSIONS]`: a host device node made in the container's
//! `/dev` and allowed in its device cgroup (docker's `HostConfig.Devices`).

use std::os::unix::fs::{FileTypeExt, MetadataExt};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::engine::error::{EngineError, Result};

/// One device as docker's inspect shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeviceMapping {
    pub path_on_host: String,
    pub path_in_container: String,
    pub cgroup_permissions: String,
}

fn bad(value: &str, why: &str) -> EngineError {
    EngineError::InvalidInput(format!(
        "invalid argument {value:?} for \"--device\" flag: {why}"
    ))
}

fn is_permissions(s: &str) -> bool {
    !s.is_empty() && s.len() <= 3 && s.chars().all(|c| matches!(c, 'r' | 'w' | 'm'))
}

/// The host device node at `path`: its type (`c` or `b`), major, minor and metadata.
fn node(path: &str) -> std::result::Result<(&'static str, std::fs::Metadata), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot use {path}: {e}"))?;
    let ft = meta.file_type();
    let typ = if ft.is_char_device() {
        "c"
    } else if ft.is_block_device() {
        "b"
    } else {
        return Err(format!(
            "{path} is not a device node; give a path under /dev"
        ));
    };
    Ok((typ, meta))
}

/// Parses and checks `--device` (the host node must exist).
pub fn parse(value: &str) -> Result<DeviceMapping> {
    let parts: Vec<&str> = value.split(':').collect();
    let (host, inside, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, p] if is_permissions(p) => (*h, *h, *p),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] => (*h, *c, *p),
        _ => return Err(bad(value, "use HOST[:CONTAINER][:PERMISSIONS]")),
    };
    if !host.starts_with('/') || !inside.starts_with('/') {
        return Err(bad(value, "both paths need to be absolute"));
    }
    if !is_permissions(perms) {
        return Err(bad(
            value,
            &format!("permissions {perms:?} are not a combination of r, w and m"),
        ));
    }
    node(host).map_err(|why| bad(value, &why))?;
    Ok(DeviceMapping {
        path_on_host: host.to_string(),
        path_in_container: inside.to_string(),
        cgroup_permissions: perms.to_string(),
    })
}

/// The spec's `linux.devices` entries and device cgroup rules for `devices`, from the host
/// nodes as they are now.
pub fn spec_entries(devices: &[DeviceMapping]) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut nodes = Vec::new();
    let mut rules = Vec::new();
    for d in devices {
        let (typ, meta) = node(&d.path_on_host).map_err(|why| {
            EngineError::InvalidInput(format!("--device {}: {why}", d.path_on_host))
        })?;
        let (major, minor) = (
            nix::sys::stat::major(meta.rdev()),
            nix::sys::stat::minor(meta.rdev()),
        );
        nodes.push(json!({
            "path": d.path_in_container, "type": typ, "major": major, "minor": minor,
            "fileMode": meta.mode() & 0o7777, "uid": meta.uid(), "gid": meta.gid(),
        }));
        rules.push(json!({
            "allow": true, "type": typ, "major": major, "minor": minor,
            "access": d.cgroup_permissions,
        }));
    }
    Ok((nodes, rules))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_flags_parse_like_docker() {
        let d = parse("/dev/null").unwrap();
        assert_eq!(
            (d.path_in_container.as_str(), d.cgroup_permissions.as_str()),
            ("/dev/null", "rwm")
        );
        let d = parse("/dev/null:r").unwrap();
        assert_eq!(d.cgroup_permissions, "r");
        let d = parse("/dev/zero:/dev/z:rw").unwrap();
        assert_eq!(d.path_in_container, "/dev/z");
        assert!(parse("/etc/passwd")
            .unwrap_err()
            .to_string()
            .contains("not a device"));
        assert!(parse("/dev/zero:z").is_err());
        assert!(parse("/dev/zero:/z:x").is_err());
        assert!(parse("/nonexistent").is_err());
    }
}
