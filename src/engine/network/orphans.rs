//! Networks whose monitor is gone, collected when the engine opens: a container that holds an
//! address lease or a published port, or has a namespace mounted under the runtime directory,
//! while nobody holds its monitor lock (the monitor was killed, the machine lost power, a
//! record vanished) has its veths, firewall elements, DNS entries, namespace, leases and ports
//! removed, whether or not its record is still there. A container being started or stopped
//! (its lock held) or with a live monitor is left alone.

use std::collections::BTreeSet;

use super::{attach, netns, store::NetworkStore};
use crate::engine::error::Result;
use crate::engine::lock::FileLock;
use crate::engine::Engine;

fn candidates(engine: &Engine) -> Result<BTreeSet<String>> {
    let mut ids: BTreeSet<String> = engine
        .state()
        .read(|tx| NetworkStore::of(tx).holders())?
        .into_iter()
        .collect();
    let zero = "0".repeat(64);
    if let Ok(entries) = std::fs::read_dir(netns::dir(engine.layout(), &zero)) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                ids.insert(name);
            }
        }
    }
    Ok(ids)
}

/// Tears down the network of every container whose monitor is gone; returns their ids.
pub fn collect(engine: &Engine) -> Result<Vec<String>> {
    let layout = engine.layout();
    let mut done = Vec::new();
    for id in candidates(engine)? {
        let locks = layout.locks_dir();
        // Busy (a start, stop or rm runs): that operation settles the network.
        let Some(_lock) = FileLock::try_acquire(&locks.join(format!("{id}.lock")))? else {
            continue;
        };
        // A live monitor holds this for the container's life.
        let Some(_monitor) = FileLock::try_acquire(&locks.join(format!("{id}.monitor")))? else {
            continue;
        };
        attach::down(engine.state(), layout, &id);
        done.push(id);
    }
    Ok(done)
}
