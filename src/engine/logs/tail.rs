//! `--tail N` without reading the whole log: complete lines from the end of a file, read
//! backwards in blocks.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// Bytes read per step.
const BLOCK: u64 = 64 * 1024;
/// A "line" longer than this (garbage, not an entry) is skipped rather than buffered.
const MAX_CARRY: usize = 4 << 20;

/// Calls `f` with each complete (newline-terminated) line of `file` before offset `end`,
/// newest first and without its newline, until `f` returns `false`. Returns the offset just
/// past the last complete line (where reading forward should go on).
pub fn lines_backwards(
    file: &File,
    end: u64,
    mut f: impl FnMut(&[u8]) -> bool,
) -> std::io::Result<u64> {
    let mut pos = end;
    let mut carry: Vec<u8> = Vec::new();
    let mut complete_end: Option<u64> = None;
    while pos > 0 {
        let start = pos.saturating_sub(BLOCK);
        let mut block = vec![0u8; (pos - start) as usize];
        file.read_exact_at(&mut block, start)?;
        block.extend_from_slice(&carry);
        let mut seg_end = block.len();
        for i in (0..block.len()).rev() {
            if block[i] != b'\n' {
                continue;
            }
            if complete_end.is_none() {
                // What follows the last newline is an entry still being written.
                complete_end = Some(start + i as u64 + 1);
            } else if i + 1 < seg_end && !f(&block[i + 1..seg_end]) {
                return Ok(complete_end.unwrap_or(0));
            }
            seg_end = i;
        }
        block.truncate(seg_end);
        carry = if block.len() > MAX_CARRY {
            Vec::new()
        } else {
            block
        };
        pos = start;
    }
    if let Some(done) = complete_end {
        if !carry.is_empty() {
            f(&carry);
        }
        return Ok(done);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(text: &[u8], limit: usize) -> (Vec<String>, u64) {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(text).unwrap();
        let mut got = Vec::new();
        let end = lines_backwards(&f, text.len() as u64, |l| {
            got.push(String::from_utf8_lossy(l).into_owned());
            got.len() < limit
        })
        .unwrap();
        (got, end)
    }

    #[test]
    fn newest_first_across_blocks_without_the_partial_line() {
        let mut text = Vec::new();
        for i in 0..50_000 {
            writeln!(text, "line {i}").unwrap();
        }
        let full = text.len() as u64;
        text.extend_from_slice(b"partial");
        let (got, end) = collect(&text, usize::MAX);
        assert_eq!(got.len(), 50_000);
        assert_eq!(got[0], "line 49999");
        assert_eq!(got[49_999], "line 0");
        assert_eq!(end, full);
        let (got, _) = collect(&text, 3);
        assert_eq!(got, vec!["line 49999", "line 49998", "line 49997"]);
        assert_eq!(collect(b"no newline", 5).0, Vec::<String>::new());
        assert_eq!(collect(b"", 5), (vec![], 0));
        assert_eq!(collect(b"a\n\nb\n", 5).0, vec!["b", "a"]);
    }
}
