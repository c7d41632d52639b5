//! The host's processes by command line: what a test looks for to prove nothing of its engine
//! root is left running.
#![allow(dead_code)]

/// Every process whose command line (NULs as spaces) holds each of `words`, with that line.
pub fn with_words(words: &[&str]) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let line = String::from_utf8_lossy(&raw).replace('\0', " ");
        if words.iter().all(|w| line.contains(w)) {
            out.push((pid, line));
        }
    }
    out
}
