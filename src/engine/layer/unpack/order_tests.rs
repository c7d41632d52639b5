//! Parallel extraction ([`super::pool`]) against the sequential one: the same archive, full of
//! entries that depend on earlier ones still being written by a worker, must give the same tree
//! byte for byte, owners, modes, times, links and whiteouts included.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use sha2::{Digest, Sha256};
use tar::{Builder, EntryType};

use super::entry::Extractor;
use super::fsops::open_root;
use super::pool::JOB_DATA_MAX;
use super::tests::{dir, file, header, link, tar_of};
use crate::engine::error::Result;

/// A file with its own owner, mode and mtime.
fn owned_file(b: &mut Builder<Vec<u8>>, name: &str, data: &[u8], id: u64, mode: u32, mtime: u64) {
    let mut h = header(name, EntryType::Regular, data.len() as u64);
    h.set_uid(id);
    h.set_gid(id);
    h.set_mode(mode);
    h.set_mtime(mtime);
    h.set_cksum();
    b.append(&h, data).expect("append file");
}

fn owned_dir(b: &mut Builder<Vec<u8>>, name: &str, gid: u64, mode: u32, mtime: u64) {
    let mut h = header(name, EntryType::Directory, 0);
    h.set_gid(gid);
    h.set_mode(mode);
    h.set_mtime(mtime);
    h.set_cksum();
    b.append(&h, &[][..]).expect("append dir");
}

fn data(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|k| (i * 31 + k * 7) as u8).collect()
}

/// Entries that each depend on something a worker may still be doing.
fn archive() -> Vec<u8> {
    tar_of(|b| {
        dir(b, "./");
        for d in 0..12 {
            owned_dir(b, &format!("d{d}/"), 0, 0o755, 1_500_000_000 + d);
            for f in 0..60 {
                let name = format!("d{d}/f{f}");
                // Two files the reader writes itself, between the workers' ones.
                let len = if f == 17 && d < 2 {
                    JOB_DATA_MAX as usize + 4099
                } else {
                    f * 97
                };
                owned_file(
                    b,
                    &name,
                    &data(d as usize * 100 + f, len),
                    (f % 3) as u64 * 500,
                    0o640,
                    1_600_000_000 + f as u64,
                );
                if f % 5 == 0 {
                    // A hard link to the file just handed to a worker.
                    link(b, &format!("d{d}/h{f}"), EntryType::Link, &name);
                }
                if f % 7 == 0 {
                    // The same path again: the later entry wins.
                    file(b, &name, b"second");
                }
                if f % 11 == 0 {
                    // A whiteout of a file still being written: overlay form keeps the later.
                    file(b, &format!("d{d}/.wh.f{f}"), b"");
                }
                if f % 13 == 0 {
                    link(
                        b,
                        &format!("d{d}/s{f}"),
                        EntryType::Symlink,
                        &format!("f{f}"),
                    );
                    // A file replacing the symlink just handed over.
                    file(b, &format!("d{d}/s{f}"), b"not a link");
                }
            }
        }
        // A directory whose files are in flight, replaced by a file, then a whiteout of another.
        for f in 0..200 {
            file(b, &format!("gone/f{f}"), &data(f, 300));
            file(b, &format!("white/f{f}"), &data(f, 300));
        }
        file(b, "gone", b"a file now");
        file(b, ".wh.white", b"");
        // Listed again as setgid to another group while its first files are in flight: those
        // keep the group they were given, the later ones are chowned back.
        owned_dir(b, "g/", 0, 0o755, 1_400_000_000);
        for f in 0..100 {
            owned_file(b, &format!("g/a{f}"), b"a", 0, 0o644, 1_600_000_000);
        }
        owned_dir(b, "g/", 4321, 0o2775, 1_400_000_001);
        for f in 0..100 {
            owned_file(b, &format!("g/b{f}"), b"b", 0, 0o644, 1_600_000_000);
        }
        // An opaque directory with files, and a directory listed after its children.
        for f in 0..50 {
            file(b, &format!("o/f{f}"), b"o");
        }
        file(b, "o/.wh..wh..opq", b"");
        owned_dir(b, "o/", 0, 0o700, 1_300_000_000);
    })
}

/// Every entry below `root`: path → what it is, owner, mode, times, size, links, content or
/// target, xattrs.
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for item in fs::read_dir(dir).expect("read_dir") {
            let path = item.expect("entry").path();
            let md = fs::symlink_metadata(&path).expect("lstat");
            let ft = md.file_type();
            let what = if ft.is_file() {
                hex::encode(Sha256::digest(fs::read(&path).expect("read")))
            } else if ft.is_symlink() {
                fs::read_link(&path)
                    .expect("readlink")
                    .display()
                    .to_string()
            } else if ft.is_char_device() {
                format!("chr {}", md.rdev())
            } else {
                "dir".to_string()
            };
            let xattrs: Vec<String> = xattr::list(&path)
                .expect("xattrs")
                .map(|k| {
                    let v = xattr::get(&path, &k).ok().flatten().unwrap_or_default();
                    format!("{}={}", k.to_string_lossy(), String::from_utf8_lossy(&v))
                })
                .collect();
            let rel = path
                .strip_prefix(root)
                .expect("below root")
                .display()
                .to_string();
            // A whiteout's times are not the archive's (the unpacker leaves them).
            let mtime = if ft.is_char_device() {
                "-".to_string()
            } else {
                format!("{}.{}", md.mtime(), md.mtime_nsec())
            };
            out.insert(
                rel,
                format!(
                    "{what} {}:{} {:o} m{mtime} n{} {:?}",
                    md.uid(),
                    md.gid(),
                    md.mode(),
                    md.nlink(),
                    xattrs
                ),
            );
            if ft.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn extract(tar: &[u8], dest: &Path, parallel: bool) -> Result<()> {
    fs::create_dir(dest).expect("mkdir dest");
    let root = open_root(dest).expect("open dest");
    let mut ex = Extractor::new(root, true);
    if parallel {
        ex = ex.parallel();
    }
    ex.extract_all(&mut tar::Archive::new(tar))
}

#[test]
fn parallel_extraction_makes_the_same_tree_as_sequential() {
    let tar = archive();
    let tmp = tempfile::tempdir().expect("tempdir");
    let seq = tmp.path().join("seq");
    extract(&tar, &seq, false).expect("sequential");
    let want = tree(&seq);
    // What the archive asks for, checked on the sequential tree (so the comparison is worth it).
    assert!(want["d0/f5"].ends_with("n2 []"), "{}", want["d0/f5"]);
    assert!(want["d0/f11"].starts_with("chr 0"), "{}", want["d0/f11"]);
    assert!(
        want["d0/f13"].contains("500:500 100640"),
        "{}",
        want["d0/f13"]
    );
    assert!(want["d1/s13"].starts_with(&hex::encode(Sha256::digest(b"not a link"))));
    assert!(want["gone"].starts_with(&hex::encode(Sha256::digest(b"a file now"))));
    assert!(want["white"].starts_with("chr 0"));
    assert!(want["g/a1"].contains(" 0:0 ") && want["g/b1"].contains(" 0:0 "));
    assert!(
        want["g"].contains("0:4321 42775 m1400000001.0"),
        "{}",
        want["g"]
    );
    assert!(want["d3"].contains("m1500000003.0"), "{}", want["d3"]);
    assert!(want["o"].contains("40700 m1300000000.0") && want["o"].contains("opaque=y"));
    // Several runs: the workers finish in a different order each time.
    for run in 0..4 {
        let par = tmp.path().join(format!("par{run}"));
        extract(&tar, &par, true).expect("parallel");
        let got = tree(&par);
        let differ: Vec<_> = want
            .iter()
            .filter(|(k, v)| got.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: want {v}, got {:?}", got.get(k)))
            .chain(
                got.keys()
                    .filter(|k| !want.contains_key(*k))
                    .map(|k| format!("extra {k}")),
            )
            .collect();
        assert!(differ.is_empty(), "run {run}:\n{}", differ.join("\n"));
    }
}

#[test]
fn a_path_through_a_file_in_flight_is_refused_as_sequentially() {
    let tar = tar_of(|b| {
        for f in 0..300 {
            file(b, &format!("a{f}"), &data(f, 2000));
        }
        file(b, "a299/b", b"below a file");
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, parallel) in [false, true].into_iter().enumerate() {
        let err = extract(&tar, &tmp.path().join(i.to_string()), parallel)
            .expect_err("a file is not a directory")
            .to_string();
        assert!(
            err.contains("\"a299/b\"") && err.contains("is not a directory"),
            "{err}"
        );
    }
}

#[test]
fn a_link_to_a_name_a_later_directory_took_is_refused_as_sequentially() {
    // The link waits for the file in flight, then finds the directory that replaced it.
    let tar = tar_of(|b| {
        for f in 0..300 {
            file(b, &format!("x/f{f}"), &data(f, 100));
        }
        dir(b, "x/f7/");
        link(b, "x/h", EntryType::Link, "x/f7");
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, parallel) in [false, true].into_iter().enumerate() {
        let err = extract(&tar, &tmp.path().join(i.to_string()), parallel)
            .expect_err("link to a directory")
            .to_string();
        assert!(err.contains("is a directory"), "{err}");
    }
}

#[test]
fn a_failing_worker_fails_the_extraction() {
    // A name longer than the filesystem allows fails in the worker that creates it; the error
    // names the entry and the rest of the archive is not waited for.
    let long = format!("x/{}", "n".repeat(300));
    let tar = tar_of(|b| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(3);
        b.append_data(&mut h, &long, &b"abc"[..])
            .expect("long name");
        for f in 0..500 {
            file(b, &format!("y/f{f}"), &data(f, 100));
        }
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, parallel) in [false, true].into_iter().enumerate() {
        let err = extract(&tar, &tmp.path().join(i.to_string()), parallel)
            .expect_err("name too long")
            .to_string();
        assert!(
            err.contains("creating file") && err.contains("nnnn"),
            "{err}"
        );
    }
}
