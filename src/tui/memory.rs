//! The TUI process's memory: allocator settings for a long-lived process that must stay small,
//! giving freed heap back, and unmapping the code pages only the start-up used
//! (docs/benchmarks.md, the TUI's RSS).

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

/// Gives the heap's free pages back to the kernel and unmaps the clean pages of the process's
/// read-only file mappings (code and read-only data of the executable and its libraries), after
/// a burst of short-lived allocations (a reload of the lists): glibc only returns free memory
/// at the top of the heap by itself. The monitor's page drop ([`crate::engine::monitor::trim`])
/// does both (`malloc_trim` after reading the mappings, then the drops). The dropped pages stay
/// in the kernel's page cache, and the pages the TUI goes on using fault back in. The kernel
/// maps code in blocks of up to 128 KiB around each page touched (fault-around), so the
/// start-up of a 19 MB executable (argument parsing, the engine's open, the first loads) left
/// 11 MB of code mapped, and each reload, each pane opened once, added its own blocks for good;
/// the TUI following logs touches about 1.6 MB of code. Called after each reload of the
/// containers list: a few hundred page faults.
pub fn trim_heap() {
    crate::engine::monitor::trim::drop_clean_file_pages();
}
