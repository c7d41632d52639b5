//! A directory tree as a comparable map: every entry's kind, mode, owner, and content digest or
//! link target (two unpacks of the same layers must give equal maps).

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::sha256_digest;

/// Every entry of a tree: kind, mode, owner, and content digest or link target.
pub fn tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let m = std::fs::symlink_metadata(&path).unwrap();
            let ft = m.file_type();
            let what = if ft.is_dir() {
                "dir".to_string()
            } else if ft.is_symlink() {
                format!("link {}", std::fs::read_link(&path).unwrap().display())
            } else if ft.is_file() {
                format!("file {}", sha256_digest(&std::fs::read(&path).unwrap()))
            } else if ft.is_char_device() || ft.is_block_device() {
                format!("dev {}", m.rdev())
            } else {
                "other".to_string()
            };
            let rel = path.strip_prefix(base).unwrap().display().to_string();
            out.insert(
                rel,
                format!("{what} {:o} {}:{}", m.mode() & 0o7777, m.uid(), m.gid()),
            );
            if ft.is_dir() {
                walk(base, &path, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
