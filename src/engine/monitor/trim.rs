//! Keeping the monitor small. Once the container runs, the monitor only polls pipes and writes
//! the log, yet start-up (argument parsing, SQLite, libcontainer) touched many pages of the
//! berth binary and its libraries. Read-only file mappings that hold no private (copied) pages
//! are dropped with `MADV_DONTNEED`: their pages are exactly the file's, so whatever the relay
//! loop needs faults back in from the page cache. Nothing that holds private data is touched,
//! except the main thread's stack below the current frame: start-up ran deep (libcontainer,
//! SQLite) and left those pages resident, but nothing lives below the stack pointer.

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

/// Drops the resident pages of read-only, unmodified file mappings (see the module docs).
pub fn drop_clean_file_pages() {
    for m in mappings() {
        if !m.file || m.writable || m.anonymous_kb != 0 {
            continue;
        }
        // SAFETY: the range is one of our own read-only file mappings without private pages;
        // MADV_DONTNEED only drops page-table entries, and the pages refault unchanged from
        // the file.
        unsafe {
            libc::madvise(
                m.start as *mut libc::c_void,
                m.end - m.start,
                libc::MADV_DONTNEED,
            );
        }
    }
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
}
