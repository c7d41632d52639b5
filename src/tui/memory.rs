//! The TUI process's memory: allocator settings for a long-lived process that must stay small,
//! giving freed heap back, and unmapping the code pages only the start-up used
//! (docs/benchmarks.md, the TUI's RSS).

use std::sync::atomic::{AtomicBool, Ordering};

/// Call before the async runtime starts its threads, in the TUI only.
/// - One malloc arena for the whole process. glibc gives each thread that allocates under
///   contention an arena of its own; log lines read on the blocking pool and freed on a worker
///   left each arena holding freed pages it could not give back (RSS following 10 chatty
///   containers: 91.9 MiB with the default, 53.4 MiB with one arena). The TUI's few threads
///   rarely allocate at once.
/// - Fixed mmap and trim thresholds (128 KiB, glibc's initial ones). Left to glibc, freeing a
///   large block (a list of 1,000 records, a growing buffer) raises both up to 32 and 64 MB,
///   after which such blocks come from the heap and their pages stay when freed.
pub fn lean_malloc() {
    // SAFETY: mallopt only sets allocator parameters; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

/// Gives the heap's free pages back to the kernel, after a burst of short-lived allocations
/// (a reload of the lists): glibc only returns free memory at the top of the heap by itself.
/// The first call also unmaps the start-up's code pages ([`drop_code_pages`]).
pub fn trim_heap() {
    // SAFETY: malloc_trim only releases free memory; any thread may call it.
    unsafe {
        libc::malloc_trim(0);
    }
    static FIRST: AtomicBool = AtomicBool::new(true);
    if FIRST.swap(false, Ordering::Relaxed) {
        drop_code_pages();
    }
}

/// Unmaps the pages of this executable's code and read-only data from the process, once the
/// start-up is over; they stay in the kernel's page cache, and the pages the TUI goes on using
/// fault back in. The kernel maps code in blocks of up to 128 KiB around each page touched
/// (fault-around), so the start-up of a 19 MB executable (argument parsing, the engine's
/// open, the first loads) left 11 MB of code mapped, of which the running TUI touches about
/// 1.6 MB. Only mappings of the executable file that are read-only and hold no page of their
/// own (no relocated data, no debugger breakpoint: no anonymous page) are dropped: their content is the file's.
pub fn drop_code_pages() {
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return;
    };
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for m in file_mappings(&smaps, &exe.to_string_lossy()) {
        // SAFETY: the range is a private, read-only, unmodified mapping of the executable
        // file: MADV_DONTNEED only drops its page table entries, and the next access maps the
        // same file content again.
        unsafe {
            libc::madvise(m.start as *mut libc::c_void, m.len, libc::MADV_DONTNEED);
        }
    }
}

/// A mapping [`drop_code_pages`] may drop.
#[derive(Debug, PartialEq, Eq)]
struct Mapping {
    start: usize,
    len: usize,
}

/// The read-only mappings of `path` in `/proc/self/smaps` text that hold no anonymous page.
fn file_mappings(smaps: &str, path: &str) -> Vec<Mapping> {
    let mut out = Vec::new();
    let mut current: Option<(Mapping, bool)> = None;
    let mut finish = |m: Option<(Mapping, bool)>| {
        if let Some((m, true)) = m {
            out.push(m);
        }
    };
    for line in smaps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let Some((range, perms)) = header(&fields) {
            finish(current.take());
            let mapped = fields.get(5..).map(|p| p.join(" ")).unwrap_or_default();
            let ok = (perms == "r-xp" || perms == "r--p") && mapped == path;
            current = range.map(|(a, b)| {
                (
                    Mapping {
                        start: a,
                        len: b - a,
                    },
                    ok,
                )
            });
            continue;
        }
        // A page written in a private mapping (relocated, or a debugger's breakpoint) is the
        // process's own, anonymous copy. (Dirty counts also count file pages the kernel has
        // not written back yet, e.g. of an executable just linked: their content is the file's.)
        if fields.first() == Some(&"Anonymous:") && fields.get(1) != Some(&"0") {
            if let Some((_, ok)) = current.as_mut() {
                *ok = false;
            }
        }
    }
    finish(current.take());
    out
}

/// The address range and permissions of a mapping's first line (`START-END PERMS OFFSET DEV
/// INODE [PATH]`); `None` for the lines of fields below it.
fn header<'a>(fields: &[&'a str]) -> Option<(Option<(usize, usize)>, &'a str)> {
    let (range, perms) = (fields.first()?, fields.get(1)?);
    if fields.len() < 5 || !range.contains('-') || range.ends_with(':') {
        return None;
    }
    let (a, b) = range.split_once('-')?;
    let parse = |x| usize::from_str_radix(x, 16).ok();
    Some((parse(a).zip(parse(b)), perms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d4a0000000-55d4a0500000 r--p 00000000 fd:00 123 /usr/bin/berth
Size:               5120 kB
Anonymous:             0 kB
Private_Dirty:       128 kB
55d4a0500000-55d4a1700000 r-xp 00500000 fd:00 123 /usr/bin/berth
Size:              18432 kB
Anonymous:             0 kB
Private_Dirty:         0 kB
55d4a1700000-55d4a1800000 r--p 01700000 fd:00 123 /usr/bin/berth
Size:               1024 kB
Anonymous:           624 kB
Private_Dirty:       624 kB
55d4a1800000-55d4a1810000 rw-p 01800000 fd:00 123 /usr/bin/berth
Private_Dirty:        36 kB
7f0000000000-7f0000100000 r-xp 00000000 fd:00 456 /usr/lib/x86_64-linux-gnu/libc.so.6
Private_Dirty:         0 kB
7f0000200000-7f0000300000 r-xp 00000000 fd:00 789 /opt/my berth
Private_Dirty:         0 kB
";

    /// The executable's clean read-only mappings only: not its relocated data (anonymous
    /// pages), not its writable data, not another file's code.
    #[test]
    fn only_clean_read_only_mappings_of_the_executable() {
        let got = file_mappings(SMAPS, "/usr/bin/berth");
        assert_eq!(
            got,
            [
                Mapping {
                    start: 0x55d4a0000000,
                    len: 0x500000
                },
                Mapping {
                    start: 0x55d4a0500000,
                    len: 0x1200000
                },
            ]
        );
        let spaced = file_mappings(SMAPS, "/opt/my berth");
        assert_eq!(spaced.len(), 1, "a path with a space is matched whole");
        assert!(file_mappings(SMAPS, "/usr/bin/bert").is_empty());
    }

    /// On the real process: the executable's code is among the mappings, dropping its pages
    /// leaves fewer of them resident, and the process goes on running that code.
    #[test]
    fn drops_this_processes_code_pages() {
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let resident = || {
            let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
            let maps = file_mappings(&smaps, &exe.to_string_lossy());
            assert!(!maps.is_empty(), "no clean mapping of {}", exe.display());
            let starts: Vec<String> = maps.iter().map(|m| format!("{:x}-", m.start)).collect();
            let mut kib = 0u64;
            let mut counting = false;
            for line in smaps.lines() {
                if line.contains(" r-xp ") || line.contains(" r--p ") || line.contains(" rw-p ") {
                    counting = starts.iter().any(|s| line.starts_with(s.as_str()));
                } else if let Some(v) = line.strip_prefix("Rss:").filter(|_| counting) {
                    kib += v.trim().trim_end_matches(" kB").parse::<u64>().unwrap();
                }
            }
            kib
        };
        let before = resident();
        drop_code_pages();
        let after = resident();
        assert!(
            after < before,
            "{after} KiB resident after the drop, {before} KiB before"
        );
        let v: Vec<u64> = (0..1000).map(|x| x * 3).collect();
        assert_eq!(v.iter().sum::<u64>(), 1_498_500);
    }
}
