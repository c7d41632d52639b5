//! The files of one log: `log.json` (current), then `log.json.1` (newest rotated) up to
//! `log.json.N`, each possibly gzipped as `log.json.N.gz`. Rotation shifts them up by one and
//! drops the oldest; compression writes `log.json.1.gz.tmp` and renames it into place, so a
//! reader never sees half a compressed file.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// One file of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub path: PathBuf,
    pub compressed: bool,
}

impl LogFile {
    /// A reader of the file's json lines (decompressed).
    pub fn reader(&self) -> std::io::Result<Box<dyn Read + Send>> {
        let f = File::open(&self.path)?;
        Ok(if self.compressed {
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(f)))
        } else {
            Box::new(f)
        })
    }
}

/// Opens `path` for appending (created 0640 if missing, never following a symlink).
pub fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

fn numbered(path: &Path, n: u32, gz: bool) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{n}"));
    if gz {
        s.push(".gz");
    }
    PathBuf::from(s)
}

/// The rotated file `n` of the log at `path`, if it exists (the plain one wins over `.gz`).
fn rotated(path: &Path, n: u32) -> Option<LogFile> {
    for gz in [false, true] {
        let p = numbered(path, n, gz);
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_file()) {
            return Some(LogFile {
                path: p,
                compressed: gz,
            });
        }
    }
    None
}

/// The rotated files of the log at `path`, oldest first (not the current file).
pub fn rotated_files(path: &Path) -> Vec<LogFile> {
    let mut out = Vec::new();
    let mut n = 1;
    while let Some(f) = rotated(path, n) {
        out.push(f);
        n += 1;
    }
    out.reverse();
    out
}

fn remove_if_present(p: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Shifts `path.1…` up by one (dropping what would pass `max_file` files in all), renames
/// `path` to `path.1` and, with `compress`, gzips it to `path.1.gz`.
pub fn rotate(path: &Path, max_file: u32, compress: bool) -> std::io::Result<()> {
    let keep = max_file.saturating_sub(1);
    for gz in [false, true] {
        remove_if_present(&numbered(path, keep, gz))?;
    }
    for n in (1..keep).rev() {
        for gz in [false, true] {
            let from = numbered(path, n, gz);
            if from.exists() {
                std::fs::rename(&from, numbered(path, n + 1, gz))?;
            }
        }
    }
    let first = numbered(path, 1, false);
    match std::fs::rename(path, &first) {
        // Removed under us: the next write starts a new file anyway.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        r => r?,
    }
    if compress {
        // A failed compression keeps the plain file: still read back, just larger.
        if gzip(&first).is_ok() {
            let _ = std::fs::remove_file(&first);
        }
    }
    Ok(())
}

fn gzip(plain: &Path) -> std::io::Result<()> {
    let done = numbered_gz(plain);
    let mut tmp = done.as_os_str().to_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut input = File::open(plain)?;
        let out = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o640)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        std::io::copy(&mut input, &mut enc)?;
        enc.finish()?;
        std::fs::rename(&tmp, &done)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn numbered_gz(plain: &Path) -> PathBuf {
    let mut s = plain.as_os_str().to_os_string();
    s.push(".gz");
    PathBuf::from(s)
}

/// Removes every rotated file of the log at `path` (not the current one).
pub fn remove_rotated(path: &Path) {
    for f in rotated_files(path) {
        let _ = std::fs::remove_file(f.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_shifts_compresses_and_drops_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.json");
        for i in 0..5 {
            std::fs::write(&log, format!("gen {i}\n")).unwrap();
            rotate(&log, 3, i % 2 == 0).unwrap();
        }
        let files = rotated_files(&log);
        assert_eq!(files.len(), 2, "{files:?}");
        let text: Vec<String> = files
            .iter()
            .map(|f| {
                let mut s = String::new();
                f.reader().unwrap().read_to_string(&mut s).unwrap();
                s
            })
            .collect();
        assert_eq!(text, vec!["gen 3\n", "gen 4\n"]);
        assert!(files[1].compressed && !files[0].compressed);
        assert!(!log.exists());
    }
}
