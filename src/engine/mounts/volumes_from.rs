//! Finding the containers `--volumes-from` names, inside the create transaction, and reading
//! their mounts from their records.

use rusqlite::Transaction;

use super::parse::VolumesFrom;
use super::MountPoint;
use crate::engine::container::store::ContainerStore;
use crate::engine::error::{EngineError, Result};

/// The mounts of each container named by `from`, by exact name, exact id or unique id prefix.
pub fn resolve_volumes_from(
    tx: &Transaction<'_>,
    from: &[VolumesFrom],
) -> Result<Vec<(VolumesFrom, Vec<MountPoint>)>> {
    if from.is_empty() {
        return Ok(Vec::new());
    }
    let rows = ContainerStore::of(tx).raw_records()?;
    let mut out = Vec::with_capacity(from.len());
    for vf in from {
        let wanted = vf.container.trim_start_matches('/');
        let exact = rows
            .iter()
            .find(|(id, name, _)| name == wanted || id == wanted);
        let found = match exact {
            Some(row) => row,
            None => {
                let by_prefix: Vec<_> = if wanted.is_empty() {
                    Vec::new()
                } else {
                    rows.iter()
                        .filter(|(id, _, _)| id.starts_with(wanted))
                        .collect()
                };
                match by_prefix.as_slice() {
                    [one] => *one,
                    [] => {
                        return Err(EngineError::NotFound(format!(
                            "--volumes-from {}: no such container (see `berth ps -a`)",
                            vf.container
                        )))
                    }
                    _ => {
                        return Err(EngineError::InvalidInput(format!(
                            "--volumes-from {}: the id prefix matches {} containers; give more \
                             of the id or the name",
                            vf.container,
                            by_prefix.len()
                        )))
                    }
                }
            }
        };
        let (_, name, record) = found;
        out.push((vf.clone(), mounts_of_record(name, record)?));
    }
    Ok(out)
}

/// The `mounts` array of a container record (none when the record has no such field).
pub fn mounts_of_record(container: &str, record: &str) -> Result<Vec<MountPoint>> {
    let value: serde_json::Value = serde_json::from_str(record).map_err(|e| {
        EngineError::State(format!(
            "the record of container {container} is malformed: {e}"
        ))
    })?;
    match value.get("mounts") {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(m) => serde_json::from_value(m.clone()).map_err(|e| {
            EngineError::State(format!(
                "the mounts in the record of container {container} are malformed: {e}"
            ))
        }),
    }
}
