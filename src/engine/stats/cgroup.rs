//! A container's counters from its cgroup: CPU time, memory, block I/O and pids, on cgroup v1
//! (one hierarchy per controller) and v2 (one unified directory). Files are read with
//! libcgroups' readers (`read_cgroup_file`, `parse_single_value`, `pid_stats`); only the few
//! counters docker's columns need are read, so a sample stays a handful of small reads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use libcgroups::common::read_cgroup_file;
use libcgroups::stats::{parse_single_value, pid_stats};

use crate::engine::runtime::cgroups_path;

/// The raw counters of one cgroup at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// CPU time used since the cgroup was made, in nanoseconds.
    pub cpu_ns: u64,
    /// Memory charged to the cgroup, page cache included.
    pub memory_usage: u64,
    /// Inactive file cache (docker subtracts it from the usage it shows).
    pub inactive_file: u64,
    /// The memory limit (`u64::MAX` or a huge value when unlimited).
    pub memory_limit: u64,
    /// Bytes read from and written to block devices.
    pub block_read: u64,
    pub block_write: u64,
    /// Processes and threads in the cgroup.
    pub pids: u64,
}

/// Where the host mounts the controllers berth reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hierarchies {
    /// cgroup v1: the mount point of each controller.
    V1 {
        cpuacct: Option<PathBuf>,
        memory: Option<PathBuf>,
        blkio: Option<PathBuf>,
        pids: Option<PathBuf>,
    },
    /// cgroup v2: the unified mount point.
    V2(PathBuf),
}

impl Hierarchies {
    /// The running host's hierarchies, from this process's mountinfo.
    pub fn detect() -> Hierarchies {
        let mounts = procfs::process::Process::myself()
            .and_then(|p| p.mountinfo())
            .map(|m| m.0)
            .unwrap_or_default();
        let mut v1: HashMap<&str, PathBuf> = HashMap::new();
        for m in &mounts {
            match m.fs_type.as_str() {
                "cgroup2" if m.mount_point == Path::new("/sys/fs/cgroup") => {
                    return Hierarchies::V2(m.mount_point.clone());
                }
                "cgroup" => {
                    for c in ["cpuacct", "memory", "blkio", "pids"] {
                        if m.super_options.contains_key(c) {
                            v1.entry(c).or_insert_with(|| m.mount_point.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        Hierarchies::V1 {
            cpuacct: v1.remove("cpuacct"),
            memory: v1.remove("memory"),
            blkio: v1.remove("blkio"),
            pids: v1.remove("pids"),
        }
    }

    /// Reads container `id`'s counters. `None` when its cgroup is gone (it stopped) or cannot
    /// be read at all; a counter whose file is missing reads as 0.
    pub fn read(&self, id: &str) -> Option<Counters> {
        let rel = cgroups_path(id);
        let rel = rel.trim_start_matches('/');
        match self {
            Hierarchies::V2(root) => read_v2(&root.join(rel)),
            Hierarchies::V1 {
                cpuacct,
                memory,
                blkio,
                pids,
            } => {
                let dir = |m: &Option<PathBuf>| m.as_ref().map(|p| p.join(rel));
                read_v1(dir(cpuacct), dir(memory), dir(blkio), dir(pids))
            }
        }
    }
}

fn read_v1(
    cpuacct: Option<PathBuf>,
    memory: Option<PathBuf>,
    blkio: Option<PathBuf>,
    pids: Option<PathBuf>,
) -> Option<Counters> {
    let mut c = Counters::default();
    let mut found = false;
    if let Some(dir) = cpuacct {
        if let Ok(v) = parse_single_value(&dir.join("cpuacct.usage")) {
            c.cpu_ns = v;
            found = true;
        }
    }
    if let Some(dir) = memory {
        if let Ok(v) = parse_single_value(&dir.join("memory.usage_in_bytes")) {
            c.memory_usage = v;
            found = true;
        }
        c.memory_limit = parse_single_value(&dir.join("memory.limit_in_bytes")).unwrap_or(0);
        if let Ok(text) = read_cgroup_file(dir.join("memory.stat")) {
            c.inactive_file = flat_value(&text, "total_inactive_file").unwrap_or(0);
        }
    }
    if let Some(dir) = blkio {
        // The CFQ/BFQ counters when the scheduler keeps them, else the throttle layer's.
        for file in [
            "blkio.io_service_bytes_recursive",
            "blkio.throttle.io_service_bytes_recursive",
        ] {
            if let Ok(text) = read_cgroup_file(dir.join(file)) {
                let (r, w) = blkio_bytes(&text);
                if r + w > 0 || file.contains("throttle") {
                    c.block_read = r;
                    c.block_write = w;
                    break;
                }
            }
        }
    }
    if let Some(dir) = pids {
        if let Ok(p) = pid_stats(&dir) {
            c.pids = p.current;
        }
    }
    found.then_some(c)
}

fn read_v2(dir: &Path) -> Option<Counters> {
    let cpu = read_cgroup_file(dir.join("cpu.stat")).ok()?;
    let mut c = Counters {
        cpu_ns: flat_value(&cpu, "usage_usec").unwrap_or(0) * 1000,
        memory_usage: parse_single_value(&dir.join("memory.current")).unwrap_or(0),
        memory_limit: parse_single_value(&dir.join("memory.max")).unwrap_or(u64::MAX),
        ..Counters::default()
    };
    if let Ok(text) = read_cgroup_file(dir.join("memory.stat")) {
        c.inactive_file = flat_value(&text, "inactive_file").unwrap_or(0);
    }
    if let Ok(text) = read_cgroup_file(dir.join("io.stat")) {
        let (r, w) = io_stat_bytes(&text);
        c.block_read = r;
        c.block_write = w;
    }
    if let Ok(p) = pid_stats(dir) {
        c.pids = p.current;
    }
    Some(c)
}

/// The value of `key` in a flat keyed file (`key value` lines: `memory.stat`, `cpu.stat`).
pub fn flat_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Read and write bytes summed over devices from a v1 `blkio.*io_service_bytes*` file
/// (`MAJ:MIN Read N` lines, then `Total N`).
pub fn blkio_bytes(text: &str) -> (u64, u64) {
    let (mut read, mut write) = (0u64, 0u64);
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(_dev), Some(op), Some(v)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let Ok(v) = v.parse::<u64>() else { continue };
        if op.eq_ignore_ascii_case("read") {
            read = read.saturating_add(v);
        } else if op.eq_ignore_ascii_case("write") {
            write = write.saturating_add(v);
        }
    }
    (read, write)
}

/// Read and write bytes summed over devices from a v2 `io.stat` (`MAJ:MIN rbytes=N wbytes=N …`).
pub fn io_stat_bytes(text: &str) -> (u64, u64) {
    let (mut read, mut write) = (0u64, 0u64);
    for line in text.lines() {
        for field in line.split_whitespace().skip(1) {
            let Some((k, v)) = field.split_once('=') else {
                continue;
            };
            let Ok(v) = v.parse::<u64>() else { continue };
            match k {
                "rbytes" => read = read.saturating_add(v),
                "wbytes" => write = write.saturating_add(v),
                _ => {}
            }
        }
    }
    (read, write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_files() {
        let stat = "cache 10\ninactive_file 7\ntotal_inactive_file 99\n";
        assert_eq!(flat_value(stat, "inactive_file"), Some(7));
        assert_eq!(flat_value(stat, "total_inactive_file"), Some(99));
        assert_eq!(flat_value(stat, "missing"), None);
        assert_eq!(
            flat_value("usage_usec 1500\nuser_usec 1", "usage_usec"),
            Some(1500)
        );
    }

    #[test]
    fn blkio_sums_reads_and_writes_over_devices() {
        let text = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\n8:0 Total 12288\n\
                    8:16 Read 1\n8:16 Write 2\nTotal 12291\n";
        assert_eq!(blkio_bytes(text), (4097, 8194));
        assert_eq!(blkio_bytes("Total 0\n"), (0, 0));
    }

    #[test]
    fn io_stat_sums_reads_and_writes_over_devices() {
        let text = "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n\
                    253:0 rbytes=5 wbytes=6\n";
        assert_eq!(io_stat_bytes(text), (105, 206));
    }
}
