//! Repeated samples of a changing set of containers named by id (the TUI's rows on screen,
//! once a second): each container's record is read once, when it first appears, and its
//! counter files are kept open ([`CounterFiles`]) while it stays in the set, so a sample reads
//! a few kernel files per container and nothing else: no state query, no record parsed, no
//! reconcile of the whole list (which a [`super::StatsSampler`] of `berth stats` does to follow
//! containers as they come and go).

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::counter_files::CounterFiles;
use super::sampler::{host, stats_of};
use super::ContainerStats;
use crate::engine::container::store::ContainerStore;
use crate::engine::container::Status;
use crate::engine::error::Result;
use crate::engine::Engine;

/// Containers whose files stay open between samples at most (each holds 6–8 descriptors);
/// beyond them a sample opens and closes their files as it goes.
const KEPT: usize = 128;

struct Tracked {
    name: String,
    started_at: Option<DateTime<Utc>>,
    files: CounterFiles,
    previous: Option<(u64, Instant)>,
}

/// What an engine keeps between [`Engine::tracked_stats`] calls.
#[derive(Default)]
pub struct StatsTracker {
    tracked: HashMap<String, Tracked>,
    buf: Vec<u8>,
}

impl StatsTracker {
    /// One sample of containers `ids` (full ids), in that order; a container that is not
    /// running (or not there) comes back with `running: false` and zeros.
    pub fn sample(&mut self, engine: &Engine, ids: &[String]) -> Result<Vec<ContainerStats>> {
        let (hierarchies, host_memory, cpus) = host();
        // Containers no longer asked for let their files go.
        self.tracked.retain(|id, _| ids.contains(id));
        let new: Vec<&String> = ids
            .iter()
            .filter(|id| !self.tracked.contains_key(*id))
            .collect();
        let mut names = HashMap::new();
        if !new.is_empty() {
            let records = engine.state().read(|tx| {
                let store = ContainerStore::of(tx);
                new.iter()
                    .map(|id| store.get(id))
                    .collect::<Result<Vec<_>>>()
            })?;
            for rec in records.into_iter().flatten() {
                names.insert(rec.id.clone(), rec.name.clone());
                if !matches!(rec.state.status, Status::Running | Status::Paused) {
                    continue;
                }
                if let Some(files) = CounterFiles::for_record(&hierarchies, &rec) {
                    self.tracked.insert(
                        rec.id.clone(),
                        Tracked {
                            name: rec.name,
                            started_at: rec.state.started_at,
                            files,
                            previous: None,
                        },
                    );
                }
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let read = self
                .tracked
                .get(id)
                .map(|t| t.files.read(&mut self.buf).ok());
            let now = Instant::now();
            match (self.tracked.get_mut(id), read.flatten()) {
                (Some(t), Some((counters, net))) => {
                    let previous = t.previous.replace((counters.cpu_ns, now));
                    out.push(stats_of(
                        id,
                        &t.name,
                        &counters,
                        net,
                        previous,
                        t.started_at,
                        (host_memory, cpus),
                    ));
                }
                (tracked, _) => {
                    // Stopped since (its cgroup is gone), or never running.
                    let name = tracked
                        .map(|t| t.name.clone())
                        .or_else(|| names.get(id).cloned())
                        .unwrap_or_default();
                    self.tracked.remove(id);
                    out.push(ContainerStats::stopped(id, &name));
                }
            }
        }
        // Past the cap, the files of the last containers go again.
        for id in ids.iter().skip(KEPT) {
            self.tracked.remove(id);
        }
        Ok(out)
    }
}

impl Engine {
    /// A sample of running containers `ids` for a viewer that asks again and again (the TUI):
    /// see [`StatsTracker`]. CPU % is since the previous call that included the container.
    pub fn tracked_stats(&self, ids: &[String]) -> Result<Vec<ContainerStats>> {
        let mut tracker = self.stats_tracker();
        tracker.sample(self, ids)
    }

    /// [`Engine::tracked_stats`] off the async runtime.
    pub async fn container_stats_tracked(&self, ids: Vec<String>) -> Result<Vec<ContainerStats>> {
        crate::engine::blocking(self, move |e| e.tracked_stats(&ids)).await
    }
}
