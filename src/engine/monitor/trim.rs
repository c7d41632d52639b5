//! Keeping the monitor small. Once the container runs, the monitor only polls pipes and writes
//! the log, yet start-up (argument parsing, SQLite, libcontainer) touched many pages of the
//! berth binary. `MADV_PAGEOUT` hands the file-backed ones back to the page cache; the few the
//! relay loop needs fault back in cheaply. It never discards data: pages that cannot be written
//! back (modified private pages without swap) simply stay.

/// Pages out every file-backed mapping of this process.
pub fn page_out_file_mappings() {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(_perms), Some(_off), Some(_dev), Some(inode)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        let path = fields.next().unwrap_or("");
        if inode == "0" || !path.starts_with('/') {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // SAFETY: MADV_PAGEOUT on our own mapping only reclaims pages (writing them back
        // where needed); it never changes their contents as seen by this process.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT);
        }
    }
}
