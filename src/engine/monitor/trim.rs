//! Keeping the monitor small. Once the container runs, the monitor only polls pipes and writes
//! the log, yet start-up (argument parsing, SQLite, libcontainer) touched many pages of the
//! berth binary and its libraries. The pages of read-only file mappings that are the file's own
//! (never copied: found in `/proc/self/pagemap`) are dropped with `MADV_DONTNEED`; whatever the
//! relay loop needs faults back in from the page cache, each fault mapping the 64 KiB around
//! it, so the drop comes last and nothing runs between the drops. Nothing that holds private
//! data is touched, except the main thread's stack below the current frame: start-up ran deep
//! (libcontainer, SQLite) and left those pages resident, but nothing lives below the stack
//! pointer.

use std::time::Duration;

struct Mapping {
    start: usize,
    end: usize,
    writable: bool,
    file: bool,
    stack: bool,
    anonymous_kb: u64,
}

fn mappings() -> Vec<Mapping> {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return Vec::new();
    };
    let mut out: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if let Some((start, end)) = first.split_once('-') {
            if let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            ) {
                let perms = fields.next().unwrap_or("");
                let inode = fields.nth(2).unwrap_or("0");
                let path = fields.next().unwrap_or("");
                out.push(Mapping {
                    start,
                    end,
                    writable: perms.contains('w'),
                    file: inode != "0" && path.starts_with('/'),
                    stack: path == "[stack]",
                    // Unknown until the Anonymous line: assume private pages.
                    anonymous_kb: u64::MAX,
                });
                continue;
            }
        }
        if first == "Anonymous:" {
            if let Some(m) = out.last_mut() {
                m.anonymous_kb = fields
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(u64::MAX);
            }
        }
    }
    out
}

/// Most ranges [`drop_clean_file_pages`] drops at once.
const MAX_RANGES: usize = 128;

/// Drops the resident pages of read-only file mappings that are the file's own (see the module
/// docs). A mapping whose pages were all copied (relocated data) keeps them; one with some
/// copied pages (the relocation-read-only segment: the GOT beside data that needed no
/// relocation) gives back the others, found page by page in `/proc/self/pagemap`. Call it last:
/// whatever runs after it faults its code back in. It sits in the relay's own section (see
/// `super::rawsys`), so it costs no window of its own when the relay calls it again.
#[link_section = ".berth_relay"]
pub fn drop_clean_file_pages() {
    let mut ranges = [(0usize, 0usize); MAX_RANGES];
    let (count, more) = clean_ranges(&mut ranges);
    // All ranges are known, and everything allocated and opened to find them freed and
    // closed, before the first drop: no libc code (free, close, the madvise wrapper) and none
    // of the code that found them runs between or after the drops to fault its pages back in.
    for &(start, end) in &ranges[..count] {
        dont_need(start, end);
    }
    // A process with more ranges than that (many libraries, a fragmented relocated segment:
    // never the relay) drops the rest too, and frees their list after.
    for &(start, end) in &more {
        dont_need(start, end);
    }
}

/// Fills `ranges` with what [`drop_clean_file_pages`] drops; returns how many, and the ranges
/// past [`MAX_RANGES`] (none, and nothing allocated, in the relay).
#[inline(never)]
fn clean_ranges(ranges: &mut [(usize, usize); MAX_RANGES]) -> (usize, Vec<(usize, usize)>) {
    let mut count = 0;
    let mut more = Vec::new();
    {
        let pagemap = std::fs::File::open("/proc/self/pagemap").ok();
        let mut push = |r: (usize, usize)| {
            if count < MAX_RANGES {
                ranges[count] = r;
                count += 1;
            } else {
                more.push(r);
            }
        };
        for m in mappings() {
            if !m.file || m.writable {
                continue;
            }
            if m.anonymous_kb == 0 {
                push((m.start, m.end));
            } else if let Some(pagemap) = &pagemap {
                file_page_runs(pagemap, m.start, m.end)
                    .into_iter()
                    .for_each(&mut push);
            }
        }
    }
    // What reading smaps and pagemap allocated is free again: its heap pages go back too.
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    (count, more)
}

#[link_section = ".berth_relay"]
fn dont_need(start: usize, end: usize) {
    // The range lies in one of our own read-only file mappings and holds only pages that are
    // the file's (never written: the mapping is read-only); MADV_DONTNEED only drops
    // page-table entries, and the pages refault unchanged from the file.
    super::rawsys::madvise_dontneed(start, end - start);
}

/// `/proc/self/pagemap` entry bits: present, and file page (or shared anonymous).
const PRESENT: u64 = 1 << 63;
const FILE_PAGE: u64 = 1 << 61;

/// The runs of resident pages in `[start, end)` that are the file's (not private copies).
fn file_page_runs(pagemap: &std::fs::File, start: usize, end: usize) -> Vec<(usize, usize)> {
    use std::os::unix::fs::FileExt;
    let page = 4096;
    let count = (end - start) / page;
    let mut raw = vec![0u8; count * 8];
    if pagemap
        .read_exact_at(&mut raw, (start / page * 8) as u64)
        .is_err()
    {
        return Vec::new();
    }
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, entry) in raw.chunks_exact(8).enumerate() {
        let bits = u64::from_le_bytes(entry.try_into().unwrap_or([0; 8]));
        if bits & (PRESENT | FILE_PAGE) != PRESENT | FILE_PAGE {
            continue;
        }
        let at = start + i * page;
        match runs.last_mut() {
            Some(last) if last.1 == at => last.1 = at + page,
            _ => runs.push((at, at + page)),
        }
    }
    runs
}

/// Drops the main thread's stack pages more than 16 KiB below the current frame: dead frames
/// of start-up, refaulted as zero pages if the stack ever grows that deep again.
pub fn drop_unused_stack() {
    let here = 0u8;
    let sp = std::hint::black_box(&here) as *const u8 as usize;
    let Some(stack) = mappings().into_iter().find(|m| m.stack) else {
        return;
    };
    if !(stack.start..stack.end).contains(&sp) {
        return;
    }
    let end = (sp - 16 * 1024) & !4095;
    if end > stack.start {
        // SAFETY: [stack.start, end) is our own main-thread stack, more than 16 KiB below the
        // live frame of this function: no frame that is still live lies there.
        unsafe {
            libc::madvise(
                stack.start as *mut libc::c_void,
                end - stack.start,
                libc::MADV_DONTNEED,
            );
        }
    }
}

/// Waits up to `limit` until the read end of the pipe `w` is closed (the writer sees POLLERR).
pub fn wait_reader_gone(w: &impl std::os::fd::AsFd, limit: Duration) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let ms = u16::try_from(limit.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(w.as_fd(), PollFlags::empty())];
    let _ = poll(&mut fds, PollTimeout::from(ms));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rss_file_kb() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("RssFile:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    }

    #[test]
    fn dropping_clean_pages_shrinks_rss_and_keeps_working() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let before = rss_file_kb();
        drop_clean_file_pages();
        let after = rss_file_kb();
        assert!(after < before, "RssFile {before} kB -> {after} kB");
        // Code and read-only data fault back in; private data is untouched.
        let again: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(data, again);
    }

    fn present(addr: usize) -> bool {
        use std::os::unix::fs::FileExt;
        let pagemap = std::fs::File::open("/proc/self/pagemap").unwrap();
        let mut entry = [0u8; 8];
        pagemap
            .read_exact_at(&mut entry, (addr / 4096 * 8) as u64)
            .unwrap();
        u64::from_le_bytes(entry) & PRESENT != 0
    }

    #[test]
    fn more_mappings_than_the_ranges_room_are_all_dropped() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pages");
        std::fs::write(&path, [7u8; 4096]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let maps: Vec<usize> = (0..MAX_RANGES + 40)
            .map(|_| {
                // SAFETY: a new read-only private mapping of our own file, unmapped below.
                let p = unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        4096,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE,
                        file.as_raw_fd(),
                        0,
                    )
                };
                assert_ne!(p, libc::MAP_FAILED);
                // SAFETY: the mapping is 4096 readable bytes.
                assert_eq!(unsafe { *(p as *const u8) }, 7);
                p as usize
            })
            .collect();
        assert!(maps.iter().all(|&a| present(a)));
        drop_clean_file_pages();
        assert!(maps.iter().all(|&a| !present(a)));
        for &a in &maps {
            // SAFETY: still mapped: the page faults back in from the file.
            assert_eq!(unsafe { *(a as *const u8) }, 7);
            // SAFETY: unmapping the mapping made above.
            unsafe { libc::munmap(a as *mut libc::c_void, 4096) };
        }
    }
}
