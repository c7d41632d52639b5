//! A container's counters from its cgroup: CPU time, memory, block I/O and pids, on cgroup v1
//! (one hierarchy per controller) and v2 (one unified directory): where the controllers are
//! mounted, and the parsers of their files. The files themselves are opened and read by
//! [`super::counter_files`]; only the few counters docker's columns need are read, so a sample
//! stays a handful of small reads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
