//! A snapshot of everything in a directory tree but one excluded subtree, to prove that unpacking
//! a layer created, changed or removed nothing outside the rootfs it was given.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What is recorded of one path: type and permission bits, owner, size, link count, modification
/// and change times (a chown, chmod, xattr or new hard link moves the change time), the data of
/// a file, the target of a symlink, and the xattrs.
#[derive(Debug, PartialEq, Eq)]
pub struct Node {
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    nlink: u64,
    rdev: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    data: Option<Vec<u8>>,
    link: Option<PathBuf>,
    xattrs: Vec<(String, Vec<u8>)>,
}

/// Every path below `top` (and `top` itself), without following symlinks and without descending
/// into `skip`, whose own entry is recorded as a name only (its metadata is the rootfs's own).
pub fn snapshot(top: &Path, skip: &Path) -> BTreeMap<PathBuf, Option<Node>> {
    let mut out = BTreeMap::new();
    walk(top, skip, &mut out);
    out
}

fn walk(path: &Path, skip: &Path, out: &mut BTreeMap<PathBuf, Option<Node>>) {
    if path == skip {
        out.insert(path.to_path_buf(), None);
        return;
    }
    let md = fs::symlink_metadata(path).expect("lstat of a path just listed");
    let ft = md.file_type();
    let mut xattrs: Vec<(String, Vec<u8>)> = Vec::new();
    if !ft.is_symlink() {
        if let Ok(names) = xattr::list(path) {
            for n in names {
                let v = xattr::get(path, &n).ok().flatten().unwrap_or_default();
                xattrs.push((n.to_string_lossy().into_owned(), v));
            }
        }
        xattrs.sort();
    }
    let node = Node {
        mode: md.mode(),
        uid: md.uid(),
        gid: md.gid(),
        size: if ft.is_dir() { 0 } else { md.size() },
        nlink: md.nlink(),
        rdev: md.rdev(),
        mtime: (md.mtime(), md.mtime_nsec()),
        ctime: (md.ctime(), md.ctime_nsec()),
        data: ft
            .is_file()
            .then(|| fs::read(path).expect("reading a sentinel file")),
        link: ft
            .is_symlink()
            .then(|| fs::read_link(path).expect("readlink")),
        xattrs,
    };
    out.insert(path.to_path_buf(), Some(node));
    if ft.is_dir() {
        let mut children: Vec<PathBuf> = fs::read_dir(path)
            .expect("listing a sentinel directory")
            .map(|e| e.expect("directory entry").path())
            .collect();
        children.sort();
        for c in children {
            walk(&c, skip, out);
        }
    }
}
