//! A COPY step's staging tree is kept as the layer unpacked (no second unpack of its blob): it
//! must be the very tree the unpacker makes of that blob. Judge: the same image saved and loaded
//! into a second engine root, which unpacks every layer from its blob; both roots' unpacked
//! layers must agree entry by entry (type, mode, owner, mtime to the nanosecond, size, content,
//! link target).

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::{pulled_busybox, TestRoot};

/// path → a description of the entry, for every entry below `dir`.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for e in std::fs::read_dir(dir).expect("read layer dir") {
        let e = e.expect("entry");
        let p = e.path();
        let md = std::fs::symlink_metadata(&p).expect("lstat");
        let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
        let ft = md.file_type();
        let what = if ft.is_symlink() {
            format!("link {}", std::fs::read_link(&p).unwrap().display())
        } else if ft.is_dir() {
            "dir".to_string()
        } else if ft.is_file() {
            format!("file {:?}", std::fs::read(&p).unwrap())
        } else {
            format!("special {:o} rdev {}", md.mode(), md.rdev())
        };
        // A whiteout's time is when the unpacker made it.
        let mtime = match ft.is_file() || ft.is_dir() || ft.is_symlink() {
            true => format!("{}.{:09}", md.mtime(), md.mtime_nsec()),
            false => String::new(),
        };
        let desc = format!(
            "{what} mode {:o} owner {}:{} mtime {mtime}",
            md.mode(),
            md.uid(),
            md.gid(),
        );
        out.insert(rel, desc);
        if ft.is_dir() {
            walk(base, &p, out);
        }
    }
}

#[test]
fn a_copied_layer_kept_from_staging_is_the_tree_a_fresh_unpack_makes() {
    let root = TestRoot::new();
    let (_reg, base) = pulled_busybox(&root);
    let ctx = tempfile::tempdir().expect("context");
    let c = ctx.path();
    std::fs::create_dir_all(c.join("src/deep/er")).unwrap();
    std::fs::write(c.join("src/a.txt"), "a\n").unwrap();
    std::fs::write(c.join("src/deep/er/b.sh"), "#!/bin/sh\necho b\n").unwrap();
    std::fs::set_permissions(
        c.join("src/deep/er/b.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o750),
    )
    .unwrap();
    std::os::unix::fs::symlink("a.txt", c.join("src/link")).unwrap();
    std::fs::write(c.join("one.conf"), "one\n").unwrap();
    // A `.wh.` name is a whiteout once the layer is unpacked: that layer is unpacked, not kept.
    std::fs::create_dir_all(c.join("wh")).unwrap();
    std::fs::write(c.join("wh/.wh.gone"), "").unwrap();
    // A sub-second mtime: the tar keeps whole seconds, so must the kept tree.
    let t = filetime::FileTime::from_unix_time(1_700_000_000, 123_456_789);
    filetime::set_file_mtime(c.join("src/a.txt"), t).unwrap();
    std::fs::write(
        c.join("Dockerfile"),
        format!(
            "FROM {base}\nWORKDIR /app\nCOPY src/ /app/src/\nCOPY --chown=12:34 --chmod=640 \
             one.conf /etc/one/\nCOPY wh/ /srv/\nRUN cat /app/src/a.txt /etc/one/one.conf\n"
        ),
    )
    .unwrap();
    root.berth_ok(["build", "-q", "-t", "kept:1", c.to_str().unwrap()]);
    let archive = ctx.path().join("kept.tar");
    root.berth_ok(["save", "-o", archive.to_str().unwrap(), "kept:1"]);

    let fresh = TestRoot::new();
    fresh.berth_ok(["load", "-q", "-i", archive.to_str().unwrap()]);
    let layers = |r: &TestRoot| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(r.path().join("layers"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let fresh_layers = layers(&fresh);
    assert_eq!(
        fresh_layers.len(),
        5,
        "base, three COPY layers and the RUN layer"
    );
    let built_layers = layers(&root);
    let mut compared_copy = 0;
    for chain in &fresh_layers {
        assert!(
            built_layers.contains(chain),
            "the built root has layer {chain}"
        );
        let kept = tree(&root.path().join("layers").join(chain));
        let unpacked = tree(&fresh.path().join("layers").join(chain));
        assert_eq!(kept, unpacked, "layer {chain}: kept tree = fresh unpack");
        if [
            "app/src/a.txt",
            "etc/one/one.conf",
            "srv/.wh.gone",
            "srv/gone",
        ]
        .iter()
        .any(|k| kept.contains_key(*k))
        {
            compared_copy += 1;
        }
    }
    assert_eq!(compared_copy, 3, "every COPY layer compared");
    let out = root.berth_ok([
        "run",
        "--rm",
        "kept:1",
        "sh",
        "-c",
        "ls -ln /etc/one; cat /app/src/link",
    ]);
    assert!(out.contains("-rw-r-----"), "--chmod kept: {out}");
    assert!(
        out.contains(" 12 ") && out.contains(" 34 "),
        "--chown kept: {out}"
    );
    assert!(out.ends_with("a\n"), "the symlink resolves: {out}");
}
