//! A running container's counter files, opened once and read again at offset 0 for every later
//! sample (cgroupfs and `/proc/PID/net/dev` regenerate their text on each read from the start).
//! A repeated sample then costs one `pread` per counter instead of a path walk, an `open`, a
//! `statx`, two `read`s and a `close`, which is most of what the TUI's CPU column cost
//! (docs/benchmarks.md). A cgroup that is removed (the container stopped) answers `ENODEV`
//! through the descriptors it left: the caller drops the set then, and opens a new one when
//! the container runs again.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::cgroup::{blkio_bytes, flat_value, io_stat_bytes, Counters, Hierarchies};
use crate::engine::container::ContainerRecord;
use crate::engine::runtime::cgroups_path;

/// The open counter files of one container.
pub struct CounterFiles {
    kind: Kind,
    /// `/proc/PID/net/dev` of the container's init, when it has a network namespace of its own.
    net: Option<File>,
}

enum Kind {
    V1 {
        cpu: Option<File>,
        memory: Option<File>,
        limit: Option<File>,
        memory_stat: Option<File>,
        /// The CFQ/BFQ counters (when the scheduler keeps them), then the throttle layer's.
        blkio: Vec<File>,
        pids: Option<File>,
    },
    V2 {
        cpu: File,
        memory: Option<File>,
        limit: Option<File>,
        memory_stat: Option<File>,
        io: Option<File>,
        pids: Option<File>,
    },
}

/// Why a read gave nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// The cgroup was removed (or never existed): the container is not running.
    Cgroup,
}

fn open(path: PathBuf) -> Option<File> {
    File::open(path).ok()
}

impl CounterFiles {
    /// The counter files of running container `rec`: its cgroup's, and its init's `net/dev`
    /// unless it shares the host's network (whose traffic is not the container's to show).
    pub fn for_record(h: &Hierarchies, rec: &ContainerRecord) -> Option<CounterFiles> {
        let net_pid = (!rec.host_config.network_mode.is_host()).then_some(rec.state.pid);
        CounterFiles::open(h, &rec.id, net_pid)
    }

    /// Opens the counter files of container `id`'s cgroup; `net_pid` is the process whose
    /// network namespace counts (none: the host's network, not the container's to show).
    /// `None` when the cgroup does not exist.
    pub fn open(h: &Hierarchies, id: &str, net_pid: Option<i32>) -> Option<CounterFiles> {
        let rel = cgroups_path(id);
        let rel = rel.trim_start_matches('/');
        let kind = match h {
            Hierarchies::V2(root) => {
                let dir = root.join(rel);
                Kind::V2 {
                    cpu: open(dir.join("cpu.stat"))?,
                    memory: open(dir.join("memory.current")),
                    limit: open(dir.join("memory.max")),
                    memory_stat: open(dir.join("memory.stat")),
                    io: open(dir.join("io.stat")),
                    pids: open(dir.join("pids.current")),
                }
            }
            Hierarchies::V1 {
                cpuacct,
                memory,
                blkio,
                pids,
            } => {
                let dir = |m: &Option<PathBuf>| m.as_ref().map(|p| p.join(rel));
                let in_dir =
                    |d: &Option<PathBuf>, f: &str| d.as_ref().and_then(|d| open(d.join(f)));
                let (cpu_dir, mem_dir, blk_dir) = (dir(cpuacct), dir(memory), dir(blkio));
                let k = Kind::V1 {
                    cpu: in_dir(&cpu_dir, "cpuacct.usage"),
                    memory: in_dir(&mem_dir, "memory.usage_in_bytes"),
                    limit: in_dir(&mem_dir, "memory.limit_in_bytes"),
                    memory_stat: in_dir(&mem_dir, "memory.stat"),
                    blkio: [
                        "blkio.io_service_bytes_recursive",
                        "blkio.throttle.io_service_bytes_recursive",
                    ]
                    .iter()
                    .filter_map(|f| in_dir(&blk_dir, f))
                    .collect(),
                    pids: in_dir(&dir(pids), "pids.current"),
                };
                match &k {
                    Kind::V1 {
                        cpu: None,
                        memory: None,
                        ..
                    } => return None,
                    _ => k,
                }
            }
        };
        let net = net_pid
            .filter(|p| *p > 0)
            .and_then(|p| open(Path::new("/proc").join(p.to_string()).join("net/dev")));
        Some(CounterFiles { kind, net })
    }

    /// Reads every counter again; `buf` is scratch space kept by the caller. `Err` when the
    /// cgroup is gone. The network bytes are (0, 0) without a namespace of the container's.
    pub fn read(&self, buf: &mut Vec<u8>) -> Result<(Counters, (u64, u64)), Gone> {
        let mut c = Counters::default();
        match &self.kind {
            Kind::V1 {
                cpu,
                memory,
                limit,
                memory_stat,
                blkio,
                pids,
            } => {
                // The first counter read tells whether the cgroup is still there.
                let mut found = false;
                if let Some(f) = cpu {
                    c.cpu_ns = number(f, buf)?;
                    found = true;
                }
                if let Some(f) = memory {
                    c.memory_usage = number(f, buf)?;
                    found = true;
                }
                if !found {
                    return Err(Gone::Cgroup);
                }
                c.memory_limit = limit.as_ref().map_or(0, |f| number(f, buf).unwrap_or(0));
                if let Some(text) = memory_stat.as_ref().and_then(|f| text(f, buf).ok()) {
                    c.inactive_file = flat_value(text, "total_inactive_file").unwrap_or(0);
                }
                for (i, f) in blkio.iter().enumerate() {
                    if let Ok(text) = text(f, buf) {
                        let (r, w) = blkio_bytes(text);
                        if r + w > 0 || i + 1 == blkio.len() {
                            c.block_read = r;
                            c.block_write = w;
                            break;
                        }
                    }
                }
                c.pids = pids.as_ref().map_or(0, |f| number(f, buf).unwrap_or(0));
            }
            Kind::V2 {
                cpu,
                memory,
                limit,
                memory_stat,
                io,
                pids,
            } => {
                c.cpu_ns = flat_value(text(cpu, buf)?, "usage_usec").unwrap_or(0) * 1000;
                c.memory_usage = memory.as_ref().map_or(0, |f| number(f, buf).unwrap_or(0));
                c.memory_limit = limit
                    .as_ref()
                    .map_or(u64::MAX, |f| number(f, buf).unwrap_or(u64::MAX));
                if let Some(text) = memory_stat.as_ref().and_then(|f| text(f, buf).ok()) {
                    c.inactive_file = flat_value(text, "inactive_file").unwrap_or(0);
                }
                if let Some(text) = io.as_ref().and_then(|f| text(f, buf).ok()) {
                    (c.block_read, c.block_write) = io_stat_bytes(text);
                }
                c.pids = pids.as_ref().map_or(0, |f| number(f, buf).unwrap_or(0));
            }
        }
        let net = match &self.net {
            Some(f) => text(f, buf).map(net_bytes).unwrap_or((0, 0)),
            None => (0, 0),
        };
        Ok((c, net))
    }
}

/// The whole text of `f`, read from offset 0 into `buf`.
fn text<'a>(f: &File, buf: &'a mut Vec<u8>) -> Result<&'a str, Gone> {
    if buf.len() < 4096 {
        buf.resize(4096, 0);
    }
    let mut len = 0;
    loop {
        match f.read_at(&mut buf[len..], len as u64) {
            // A seq_file read fills what was asked unless the text ends first.
            Ok(n) if len + n < buf.len() => {
                len += n;
                break;
            }
            Ok(n) => {
                len += n;
                let grown = buf.len() * 2;
                buf.resize(grown, 0);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(Gone::Cgroup),
        }
    }
    std::str::from_utf8(&buf[..len]).map_err(|_| Gone::Cgroup)
}

/// A file holding one number (`max` reads as unlimited).
fn number(f: &File, buf: &mut Vec<u8>) -> Result<u64, Gone> {
    let t = text(f, buf)?.trim();
    Ok(if t == "max" {
        u64::MAX
    } else {
        t.parse().unwrap_or(0)
    })
}

/// Received and sent bytes of every interface but loopback, from `/proc/PID/net/dev`'s text
/// (parsed by procfs).
pub fn net_bytes(text: &str) -> (u64, u64) {
    use procfs::FromBufRead;
    let Ok(devs) = procfs::net::InterfaceDeviceStatus::from_buf_read(text.as_bytes()) else {
        return (0, 0);
    };
    devs.0
        .values()
        .filter(|d| d.name != "lo")
        .fold((0, 0), |(rx, tx), d| (rx + d.recv_bytes, tx + d.sent_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_dev_sums_every_interface_but_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit\n \
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
             lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  \
             eth0:    5000      10    0    0    0     0          0         0     7000      12    0    0    0     0       0          0\n  \
             eth1:       1       1    0    0    0     0          0         0        2       1    0    0    0     0       0          0\n";
        assert_eq!(net_bytes(text), (5001, 7002));
        assert_eq!(net_bytes(""), (0, 0));
    }

    #[test]
    fn a_kept_file_reads_fresh_text_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n");
        std::fs::write(&p, "12\n").unwrap();
        let f = File::open(&p).unwrap();
        let mut buf = Vec::new();
        assert_eq!(number(&f, &mut buf), Ok(12));
        std::fs::write(&p, "345\n").unwrap();
        assert_eq!(number(&f, &mut buf), Ok(345));
        // Longer than the scratch buffer: read whole.
        let long = format!("{}total_inactive_file 9\n", "x 1\n".repeat(3000));
        std::fs::write(&p, &long).unwrap();
        assert_eq!(
            flat_value(text(&f, &mut buf).unwrap(), "total_inactive_file"),
            Some(9)
        );
    }
}
