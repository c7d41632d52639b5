//! Leftovers of containers that have no record: a directory under `containers/` that a killed
//! `create` left, or a container whose record is gone while its monitor, mount, cgroups,
//! runtime state or network (namespace, veths and firewall elements, address leases,
//! published ports) live on. `container prune` (and so `system prune`) collects them.
//!
//! Only ids found under this engine root (its `containers/`, `locks/` and runtime directory)
//! are considered, so another root's containers are never touched.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use super::cleanup;
use super::store::ContainerStore;
use crate::engine::error::Result;
use crate::engine::lock::FileLock;
use crate::engine::network;
use crate::engine::{Engine, Layout};

/// How long a monitor gets to notice its container was killed and exit.
const MONITOR_EXIT: Duration = Duration::from_secs(10);

fn is_id(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

fn ids_in(dir: &Path, suffix: &str, out: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_suffix(suffix) {
            if is_id(id) {
                out.insert(id.to_string());
            }
        }
    }
}

/// Ids that something under this root belongs to but no record names.
pub fn find(engine: &Engine) -> Result<Vec<String>> {
    let layout = engine.layout();
    let mut ids = BTreeSet::new();
    ids_in(&layout.containers_dir(), "", &mut ids);
    ids_in(&layout.locks_dir(), ".monitor", &mut ids);
    ids_in(&layout.locks_dir(), ".lock", &mut ids);
    // The runtime root does not depend on the id when /run exists.
    let zero = "0".repeat(64);
    let rt = cleanup::runtime_root(layout, &zero);
    if !rt.starts_with(layout.container_dir(&zero)) {
        ids_in(&rt, "", &mut ids);
    }
    ids_in(&network::netns::dir(layout, &zero), "", &mut ids);
    engine.state().read(|tx| {
        for id in network::store::NetworkStore::of(tx).holders()? {
            if is_id(&id) {
                ids.insert(id);
            }
        }
        let mut out = Vec::new();
        for id in ids {
            if ContainerStore::of(tx).get(&id)?.is_none() {
                out.push(id);
            }
        }
        Ok(out)
    })
}

/// Collects every orphan ([`find`]) not busy with a concurrent operation; returns those whose
/// leftovers were removed, with the size of their writable layer.
pub fn collect(engine: &Engine) -> Result<Vec<super::remove::Pruned>> {
    let mut done = Vec::new();
    for id in find(engine)? {
        let upper = engine.layout().container_dir(&id).join("upper");
        let size = crate::engine::staging::disk_usage(&upper);
        match collect_one(engine, &id) {
            Ok(true) => done.push(super::remove::Pruned { id, size }),
            Ok(false) => {}
            Err(e) => tracing::warn!("cannot collect the leftovers of container {id}: {e}"),
        }
    }
    Ok(done)
}

/// Takes the container's lock if free and the record is still missing.
fn claim(engine: &Engine, id: &str) -> Result<Option<FileLock>> {
    let Some(lock) = FileLock::try_acquire(&lock_path(engine.layout(), id, "lock"))? else {
        return Ok(None);
    };
    if engine
        .state()
        .read(|tx| ContainerStore::of(tx).get(id))?
        .is_some()
    {
        return Ok(None);
    }
    Ok(Some(lock))
}

fn lock_path(layout: &Layout, id: &str, suffix: &str) -> std::path::PathBuf {
    layout.locks_dir().join(format!("{id}.{suffix}"))
}

fn collect_one(engine: &Engine, id: &str) -> Result<bool> {
    let layout = engine.layout();
    // A lock file alone is not worth reporting.
    let mut found = layout.container_dir(id).exists()
        || cleanup::runtime_root(layout, id).join(id).exists()
        || network::netns::path(layout, id).exists();
    {
        let Some(_lock) = claim(engine, id)? else {
            return Ok(false);
        };
        // Kills whatever runs in the container; its monitor then records nothing (there is no
        // record), unmounts and exits. It takes the container's lock to do so: let go first.
        cleanup::delete_runtime(layout, id)?;
    }
    let monitor = lock_path(layout, id, "monitor");
    let deadline = Instant::now() + MONITOR_EXIT;
    loop {
        if !monitor.exists() || FileLock::try_acquire(&monitor)?.is_some() {
            break;
        }
        found = true;
        if Instant::now() >= deadline {
            tracing::warn!("the monitor of container {id} does not exit; leaving it");
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Some(_lock) = claim(engine, id)? else {
        return Ok(false);
    };
    cleanup::delete_runtime(layout, id)?;
    cleanup::remove_cgroups(id);
    let had_network = engine
        .state()
        .read(|tx| {
            Ok(!network::store::NetworkStore::of(tx)
                .endpoints_of(id)?
                .is_empty())
        })
        .unwrap_or(false);
    network::attach::down(engine.state(), layout, id);
    found |= had_network;
    cleanup::unmount_rootfs(layout, id)?;
    cleanup::remove_files(layout, id)?;
    Ok(found)
}
