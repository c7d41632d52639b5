//! Live resource use of containers (`berth stats`, the TUI's CPU and memory columns): CPU,
//! memory, block I/O and pids from the container's cgroup (v1 or v2), network bytes from its
//! network namespace (`/proc/PID/net/dev` of its init). Nothing runs in the background: a
//! sample reads a few files per container when asked, so a stream costs what its reader asks.

pub mod cgroup;
pub mod counter_files;
pub mod sampler;
pub mod tracker;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::mpsc;

pub use sampler::StatsSampler;
pub use tracker::StatsTracker;

use crate::engine::error::Result;
use crate::engine::Engine;

/// Which containers a sample covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsSelection {
    /// Running and paused containers, as they come and go.
    Running,
    /// Every container; stopped ones show zeros.
    All,
    /// These containers (names, ids or id prefixes), in this order.
    Named(Vec<String>),
}

/// One container's resource use at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerStats {
    pub id: String,
    pub name: String,
    /// Whether the container had a cgroup to read (running or paused).
    pub running: bool,
    /// CPU use since the previous sample (the first: since the container started), in percent
    /// of one CPU.
    pub cpu_percent: f64,
    /// CPU time used since the start, in nanoseconds.
    pub cpu_total_ns: u64,
    /// Memory in use, less the inactive file cache (docker's figure).
    pub memory_usage: u64,
    /// The memory limit, or the host's memory when there is none.
    pub memory_limit: u64,
    pub memory_percent: f64,
    /// Bytes received and sent on the container's interfaces (loopback aside).
    pub net_rx: u64,
    pub net_tx: u64,
    /// Bytes read from and written to block devices.
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
    pub read_at: DateTime<Utc>,
}

impl Engine {
    /// A sampler over `selection`, for repeated samples (a stream keeps one). Fails when a
    /// named container does not exist.
    pub fn stats_sampler(&self, selection: StatsSelection) -> Result<StatsSampler> {
        StatsSampler::new(self.clone(), selection)
    }

    /// One sample of `selection` (CPU % since each container started).
    pub fn stats_once(&self, selection: StatsSelection) -> Result<Vec<ContainerStats>> {
        self.stats_sampler(selection)?.sample()
    }

    /// [`Engine::stats_once`] off the async runtime.
    pub async fn container_stats(&self, selection: StatsSelection) -> Result<Vec<ContainerStats>> {
        crate::engine::blocking(self, move |e| e.stats_once(selection)).await
    }

    /// A sample of `selection` now and then every `interval`, until the receiver is dropped.
    /// The first sample's CPU % is since each container started, later ones since the
    /// previous sample. A failed sample is sent and ends the stream.
    pub fn stats_stream(
        &self,
        selection: StatsSelection,
        interval: Duration,
    ) -> Result<mpsc::Receiver<Result<Vec<ContainerStats>>>> {
        let mut sampler = self.stats_sampler(selection)?;
        let (tx, rx) = mpsc::channel(1);
        std::thread::Builder::new()
            .name("berth-stats".into())
            .spawn(move || loop {
                let sample = sampler.sample();
                let failed = sample.is_err();
                if tx.blocking_send(sample).is_err() || failed {
                    return;
                }
                std::thread::sleep(interval);
                if tx.is_closed() {
                    return;
                }
            })
            .map_err(|e| crate::engine::EngineError::io("cannot start the stats thread", e))?;
        Ok(rx)
    }
}
