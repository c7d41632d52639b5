//! Samples of a set of containers, one after another: the cgroup counters, the network counters
//! of the container's namespace, and CPU % from the change since the previous sample (or, at the
//! first sample, since the container started, as podman does).

use std::collections::HashMap;
use std::time::Instant;

use chrono::Utc;

use super::cgroup::{Counters, Hierarchies};
use super::counter_files::CounterFiles;
use super::{ContainerStats, StatsSelection};
use crate::engine::container::store::ContainerStore;
use crate::engine::container::{self as ct, ContainerRecord, Status};
use crate::engine::error::Result;
use crate::engine::Engine;

/// Takes samples of the containers a [`StatsSelection`] names. Holds what the next sample needs
/// (the previous CPU time of each container, the host's hierarchies, the counter files of each
/// running container, kept open while its init stays the same process), so keep one per stream.
pub struct StatsSampler {
    engine: Engine,
    selection: StatsSelection,
    hierarchies: Hierarchies,
    host_memory: u64,
    cpus: f64,
    previous: HashMap<String, (u64, Instant)>,
    /// Each sampled running container's counter files, with the pid they were opened for.
    files: HashMap<String, (i32, CounterFiles)>,
    /// Scratch space for reading them.
    buf: Vec<u8>,
}

impl StatsSampler {
    pub(super) fn new(engine: Engine, selection: StatsSelection) -> Result<StatsSampler> {
        // Named containers must exist now (docker: "No such container"); all looked up in
        // one read (the TUI makes a sampler for the rows on screen at every tick).
        let selection = match selection {
            StatsSelection::Named(refs) => StatsSelection::Named(engine.state().read(|tx| {
                refs.iter()
                    .map(|r| ContainerStore::of(tx).resolve(r))
                    .collect::<Result<_>>()
            })?),
            other => other,
        };
        let (hierarchies, host_memory, cpus) = host();
        Ok(StatsSampler {
            engine,
            selection,
            hierarchies,
            host_memory,
            cpus,
            previous: HashMap::new(),
            files: HashMap::new(),
            buf: Vec::new(),
        })
    }

    /// One sample of every selected container, in the order they were named (else newest first,
    /// as `ps` lists them). A named container that was removed since is left out.
    pub fn sample(&mut self) -> Result<Vec<ContainerStats>> {
        let records = self.records()?;
        let mut out = Vec::with_capacity(records.len());
        let mut seen = HashMap::with_capacity(records.len());
        for rec in &records {
            let stats = self.sample_one(rec);
            seen.insert(rec.id.clone(), ());
            out.push(stats);
        }
        self.previous.retain(|id, _| seen.contains_key(id));
        self.files.retain(|id, _| seen.contains_key(id));
        Ok(out)
    }

    fn records(&self) -> Result<Vec<ContainerRecord>> {
        let all = ct::list(&self.engine)?;
        Ok(match &self.selection {
            StatsSelection::All => all,
            StatsSelection::Running => all
                .into_iter()
                .filter(|r| matches!(r.state.status, Status::Running | Status::Paused))
                .collect(),
            StatsSelection::Named(ids) => {
                let mut by_id: HashMap<String, ContainerRecord> =
                    all.into_iter().map(|r| (r.id.clone(), r)).collect();
                ids.iter().filter_map(|id| by_id.remove(id)).collect()
            }
        })
    }

    fn sample_one(&mut self, rec: &ContainerRecord) -> ContainerStats {
        let live = matches!(rec.state.status, Status::Running | Status::Paused);
        let Some((c, net)) = live.then(|| self.counters(rec)).flatten() else {
            self.previous.remove(&rec.id);
            self.files.remove(&rec.id);
            return ContainerStats::stopped(&rec.id, &rec.name);
        };
        let now = Instant::now();
        let previous = self.previous.insert(rec.id.clone(), (c.cpu_ns, now));
        stats_of(
            &rec.id,
            &rec.name,
            &c,
            net,
            previous,
            rec.state.started_at,
            (self.host_memory, self.cpus),
        )
    }

    /// A running container's counters and network bytes, through the files opened at an earlier
    /// sample of the same init process, else through newly opened ones. `None` when its cgroup
    /// is gone.
    fn counters(&mut self, rec: &ContainerRecord) -> Option<(Counters, (u64, u64))> {
        let pid = rec.state.pid;
        if let Some((opened_for, files)) = self.files.get(&rec.id) {
            if *opened_for == pid {
                if let Ok(read) = files.read(&mut self.buf) {
                    return Some(read);
                }
            }
        }
        let files = CounterFiles::for_record(&self.hierarchies, rec)?;
        let read = files.read(&mut self.buf).ok()?;
        self.files.insert(rec.id.clone(), (pid, files));
        Some(read)
    }
}

/// The cgroup mounts, the host's memory and its CPUs: they do not change while berth runs, so
/// they are read once per process.
pub(super) fn host() -> (Hierarchies, u64, f64) {
    static HOST: std::sync::OnceLock<(Hierarchies, u64, f64)> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        (
            Hierarchies::detect(),
            host_memory(),
            std::thread::available_parallelism().map_or(1, |n| n.get()) as f64,
        )
    })
    .clone()
}

impl ContainerStats {
    /// A container with no cgroup to read: zeros.
    pub(super) fn stopped(id: &str, name: &str) -> ContainerStats {
        ContainerStats {
            id: id.to_string(),
            name: name.to_string(),
            running: false,
            cpu_percent: 0.0,
            cpu_total_ns: 0,
            memory_usage: 0,
            memory_limit: 0,
            memory_percent: 0.0,
            net_rx: 0,
            net_tx: 0,
            block_read: 0,
            block_write: 0,
            pids: 0,
            read_at: Utc::now(),
        }
    }
}

/// A running container's figures from its counters `c` and network bytes `net`; CPU % since
/// `previous` (CPU time and when it was read), or without one since `started_at`.
pub(super) fn stats_of(
    id: &str,
    name: &str,
    c: &Counters,
    net: (u64, u64),
    previous: Option<(u64, Instant)>,
    started_at: Option<chrono::DateTime<Utc>>,
    (host_memory, cpus): (u64, f64),
) -> ContainerStats {
    let now = Instant::now();
    let mut stats = ContainerStats::stopped(id, name);
    stats.running = true;
    stats.cpu_total_ns = c.cpu_ns;
    stats.cpu_percent = match previous {
        Some((cpu, at)) => percent(
            c.cpu_ns.saturating_sub(cpu),
            now.duration_since(at).as_nanos() as u64,
        ),
        None => {
            let up = started_at
                .map(|t| (Utc::now() - t).num_nanoseconds().unwrap_or(0).max(0) as u64)
                .unwrap_or(0);
            // The start time is recorded after the process began: never more than every
            // CPU busy.
            percent(c.cpu_ns, up).min(cpus * 100.0)
        }
    };
    stats.memory_usage = memory_shown(c);
    stats.memory_limit = match c.memory_limit {
        0 => host_memory,
        l if host_memory > 0 => l.min(host_memory),
        l => l,
    };
    stats.memory_percent = if stats.memory_limit > 0 {
        stats.memory_usage as f64 * 100.0 / stats.memory_limit as f64
    } else {
        0.0
    };
    stats.block_read = c.block_read;
    stats.block_write = c.block_write;
    stats.pids = c.pids;
    stats.net_rx = net.0;
    stats.net_tx = net.1;
    stats
}

/// `used` CPU nanoseconds over `wall` nanoseconds, as a percentage of one CPU (docker's CPU %:
/// 200 % is two CPUs busy).
fn percent(used: u64, wall: u64) -> f64 {
    if wall == 0 {
        0.0
    } else {
        used as f64 * 100.0 / wall as f64
    }
}

/// The memory docker shows: the usage less the inactive file cache (what the kernel can drop
/// without asking anyone).
fn memory_shown(c: &Counters) -> u64 {
    if c.inactive_file < c.memory_usage {
        c.memory_usage - c.inactive_file
    } else {
        c.memory_usage
    }
}

/// The host's memory (`MemTotal`), the limit shown for a container without one.
fn host_memory() -> u64 {
    use procfs::Current;
    procfs::Meminfo::current().map(|m| m.mem_total).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_percent_is_of_one_cpu() {
        assert_eq!(percent(500_000_000, 1_000_000_000), 50.0);
        assert_eq!(percent(2_000_000_000, 1_000_000_000), 200.0);
        assert_eq!(percent(5, 0), 0.0);
    }

    #[test]
    fn memory_leaves_out_inactive_file_cache() {
        let c = Counters {
            memory_usage: 100,
            inactive_file: 30,
            ..Counters::default()
        };
        assert_eq!(memory_shown(&c), 70);
        let odd = Counters {
            memory_usage: 10,
            inactive_file: 30,
            ..Counters::default()
        };
        assert_eq!(memory_shown(&odd), 10);
    }
}
