//! Staging directories under `tmp/`: created with a lock held, removed when dropped unless
//! committed, and swept when their owner died (its lock is free then).

use std::path::{Path, PathBuf};

use super::error::{EngineError, IoContext, Result};
use super::layout::Layout;
use super::lock::FileLock;

/// A fresh directory in `tmp/`, removed on drop unless [`StagedDir::commit_to`] moved it.
pub struct StagedDir {
    path: PathBuf,
    lock_path: PathBuf,
    lock: Option<FileLock>,
    committed: bool,
}

fn lock_for(layout: &Layout, name: &str) -> PathBuf {
    layout.locks_dir().join(format!("tmp-{name}.lock"))
}

impl StagedDir {
    /// Creates `tmp/<prefix>-<random>` (mode 0755) while holding its lock. Blocking.
    pub fn create(layout: &Layout, prefix: &str) -> Result<StagedDir> {
        let name = format!("{prefix}-{}", hex::encode(rand::random::<[u8; 8]>()));
        let lock_path = lock_for(layout, &name);
        let lock = FileLock::acquire(&lock_path)?;
        let path = layout.tmp_dir().join(&name);
        std::fs::create_dir(&path).ctx("cannot create staging directory", &path)?;
        Ok(StagedDir {
            path,
            lock_path,
            lock: Some(lock),
            committed: false,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the directory to `dest` (same filesystem) and keeps it there.
    pub fn commit_to(mut self, dest: &Path) -> Result<()> {
        std::fs::rename(&self.path, dest).ctx("cannot move layer into place", dest)?;
        self.committed = true;
        Ok(())
    }

    /// Renames the directory to `dest` unless something is there already (no replacing, even
    /// of an empty directory). Returns whether it moved; when `dest` was there, this directory
    /// is removed on drop.
    pub fn commit_new(mut self, dest: &Path) -> Result<bool> {
        use nix::fcntl::{renameat2, RenameFlags};
        match renameat2(None, &self.path, None, dest, RenameFlags::RENAME_NOREPLACE) {
            Ok(()) => {
                self.committed = true;
                Ok(true)
            }
            Err(nix::errno::Errno::EEXIST) => Ok(false),
            Err(e) => Err(EngineError::io_path(
                "cannot move into place",
                dest,
                std::io::Error::from(e),
            )),
        }
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.path);
        }
        drop(self.lock.take());
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Removes staging directories whose owner is gone (their lock is free). Best effort; returns
/// the bytes freed.
pub fn sweep(layout: &Layout) -> u64 {
    let Ok(entries) = std::fs::read_dir(layout.tmp_dir()) else {
        return 0;
    };
    let mut freed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let lock_path = lock_for(layout, &name);
        if let Ok(Some(_lock)) = FileLock::try_acquire(&lock_path) {
            let path = entry.path();
            // A killed build can leave a read-only view mounted in its directory.
            unmount_below(&path);
            freed += disk_usage(&path);
            if path.is_dir() {
                let _ = std::fs::remove_dir_all(&path);
            } else {
                let _ = std::fs::remove_file(&path);
            }
            let _ = std::fs::remove_file(&lock_path);
        }
    }
    freed
}

/// Detaches every mount at or below `path`, deepest first. Best effort.
fn unmount_below(path: &Path) {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let mut points: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape_mount_path)
        .filter(|p| p.starts_with(path))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for p in points {
        let _ = nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// mountinfo writes space, tab, newline and backslash as octal escapes.
fn unescape_mount_path(s: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            let digits = std::str::from_utf8(&b[i + 1..i + 4]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(digits, 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// Bytes used by the files under `path` (symlinks not followed).
pub fn disk_usage(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    let mut total = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_dirs_vanish_and_dead_ones_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        layout.create().unwrap();
        let s = StagedDir::create(&layout, "t").unwrap();
        let p = s.path().to_path_buf();
        std::fs::write(p.join("f"), b"x").unwrap();
        assert_eq!(sweep(&layout), 0, "a live staging dir is kept");
        drop(s);
        assert!(!p.exists());
        std::fs::create_dir(layout.tmp_dir().join("orphan")).unwrap();
        std::fs::write(layout.tmp_dir().join("orphan/f"), b"xy").unwrap();
        assert_eq!(sweep(&layout), 2);
        assert_eq!(std::fs::read_dir(layout.tmp_dir()).unwrap().count(), 0);
        let s = StagedDir::create(&layout, "c").unwrap();
        s.commit_to(&dir.path().join("kept")).unwrap();
        assert!(dir.path().join("kept").is_dir());
    }
}
