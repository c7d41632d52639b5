//! Which containers use which volumes, read from the containers table, and how big a volume is.
//!
//! A container record (the JSON `record` column of `containers`) lists its mounts in a top-level
//! `mounts` array of objects in Docker's inspect shape: `{"Type": "volume", "Name": …, "Source":
//! …, "Destination": …, "RW": …}` (see [`crate::engine::mounts::MountPoint`]). Only entries of
//! type `volume` refer to volumes.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rusqlite::Transaction;

use crate::engine::container::store::ContainerStore;
use crate::engine::error::{EngineError, IoContext, Result};

/// Volume name → names of the containers whose mounts use it (sorted, deduplicated).
pub fn volumes_in_use(tx: &Transaction<'_>) -> Result<HashMap<String, Vec<String>>> {
    let mut used: HashMap<String, Vec<String>> = HashMap::new();
    ContainerStore::of(tx).each_raw(|_, container, record| {
        for volume in volumes_of_record(container, record)? {
            let users = used.entry(volume).or_default();
            if users.last().map(String::as_str) != Some(container) {
                users.push(container.to_string());
            }
        }
        Ok(())
    })?;
    Ok(used)
}

/// The part of a container record [`volumes_of_record`] reads: serde skips the rest without
/// building it (parsing every record into a `serde_json::Value` tree cost the TUI's start with
/// 1,000 containers more CPU than its own list did).
#[derive(serde::Deserialize)]
struct MountsOnly {
    #[serde(default)]
    mounts: Vec<MountRef>,
}

#[derive(serde::Deserialize)]
struct MountRef {
    #[serde(rename = "Type", default)]
    kind: serde_json::Value,
    #[serde(rename = "Name", default)]
    name: serde_json::Value,
}

/// The volume names a container record mounts.
fn volumes_of_record(container: &str, record: &str) -> Result<Vec<String>> {
    match serde_json::from_str::<MountsOnly>(record) {
        Ok(r) => Ok(r
            .mounts
            .iter()
            .filter(|m| m.kind.as_str() == Some("volume"))
            .filter_map(|m| m.name.as_str())
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect()),
        // Not the expected shape: the whole value, to say what is wrong with it.
        Err(_) => volumes_of_value(container, record),
    }
}

/// [`volumes_of_record`] through the record's whole JSON value.
fn volumes_of_value(container: &str, record: &str) -> Result<Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(record).map_err(|e| {
        EngineError::State(format!(
            "the record of container {container} is malformed ({e}); remove it with `berth rm -f \
             {container}`"
        ))
    })?;
    let Some(mounts) = value.get("mounts") else {
        return Ok(Vec::new());
    };
    let Some(mounts) = mounts.as_array() else {
        return Err(EngineError::State(format!(
            "the record of container {container} has a `mounts` field that is not a list"
        )));
    };
    Ok(mounts
        .iter()
        .filter(|m| m.get("Type").and_then(|t| t.as_str()) == Some("volume"))
        .filter_map(|m| m.get("Name").and_then(|n| n.as_str()))
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Apparent size in bytes of the tree at `dir` (hard links counted once, symlinks not followed,
/// other filesystems mounted inside not entered). A missing `dir` is 0.
pub fn dir_size(dir: &Path) -> Result<u64> {
    let top = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(EngineError::io_path("cannot stat", dir, e)),
    };
    let mut seen = HashSet::new();
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let entries = match std::fs::read_dir(&path) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(EngineError::io_path("cannot read directory", &path, e)),
        };
        for entry in entries {
            let entry = entry.ctx("cannot read directory", &path)?;
            let meta = match entry.metadata() {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(EngineError::io_path("cannot stat", &entry.path(), e)),
            };
            if meta.dev() != top.dev() {
                continue;
            }
            if meta.is_dir() {
                stack.push(entry.path());
                continue;
            }
            if meta.nlink() > 1 && !seen.insert((meta.dev(), meta.ino())) {
                continue;
            }
            total = total.saturating_add(meta.len());
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::state::StateStore;

    fn add_container(tx: &Transaction<'_>, name: &str, record: &str) {
        tx.execute(
            "INSERT INTO containers(id, name, image_id, record, created) VALUES (?1, ?2, 'img', ?3, 'now')",
            rusqlite::params![format!("id-{name}"), name, record],
        )
        .unwrap();
    }

    #[test]
    fn reads_volume_mounts_of_every_container() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateStore::open(&dir.path().join("state.db")).unwrap();
        let used = s
            .write(|tx| {
                add_container(
                    tx,
                    "web",
                    r#"{"mounts":[{"Type":"volume","Name":"data","Source":"/x","Destination":"/d","RW":true},
                                  {"Type":"bind","Source":"/host","Destination":"/h","RW":false},
                                  {"Type":"volume","Name":"data","Destination":"/e","RW":true}]}"#,
                );
                add_container(
                    tx,
                    "db",
                    r#"{"mounts":[{"Type":"volume","Name":"data","Destination":"/d","RW":true},
                                  {"Type":"volume","Name":"logs","Destination":"/l","RW":true}]}"#,
                );
                add_container(tx, "plain", r#"{"config":{}}"#);
                volumes_in_use(tx)
            })
            .unwrap();
        assert_eq!(used.len(), 2);
        assert_eq!(used["data"], vec!["db", "web"]);
        assert_eq!(used["logs"], vec!["db"]);
        assert!(!used.contains_key("/host"));
    }

    #[test]
    fn malformed_record_is_reported_with_container_name() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateStore::open(&dir.path().join("state.db")).unwrap();
        let err = s
            .write(|tx| {
                add_container(tx, "broken", r#"{"mounts": 3}"#);
                volumes_in_use(tx)
            })
            .unwrap_err();
        assert!(err.to_string().contains("broken"), "{err}");
    }

    #[test]
    fn size_counts_hard_links_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a"), vec![0u8; 1000]).unwrap();
        std::fs::hard_link(d.join("a"), d.join("b")).unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/c"), vec![0u8; 24]).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.join("link")).unwrap();
        let link_len = std::fs::symlink_metadata(d.join("link")).unwrap().len();
        assert_eq!(dir_size(d).unwrap(), 1024 + link_len);
        assert_eq!(dir_size(&d.join("missing")).unwrap(), 0);
    }
}
