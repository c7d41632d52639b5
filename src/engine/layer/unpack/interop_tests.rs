//! Interop: an archive written by GNU tar (PAX format, xattrs, sub-second times) unpacks to the
//! same tree as GNU tar's own extraction of it. Needs root and /usr/bin/tar (Debian's essential
//! `tar` package).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;
use std::process::Command;

use filetime::FileTime;
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use sha2::{Digest, Sha256};

use super::unpack_layer;

/// A CAP_NET_RAW file capability (VFS_CAP_REVISION_2, effective), as `setcap cap_net_raw+ep`.
fn net_raw_capability() -> Vec<u8> {
    let mut v = Vec::new();
    for word in [0x0200_0001u32, 1 << 13, 0, 0, 0] {
        v.extend_from_slice(&word.to_le_bytes());
    }
    v
}

fn make_source(src: &Path) {
    let p = |rel: &str| src.join(rel);
    fs::create_dir_all(p("usr/bin")).expect("mkdir");
    fs::create_dir_all(p("var/tmp")).expect("mkdir");
    fs::create_dir_all(p("dev")).expect("mkdir");
    fs::write(p("usr/bin/ping"), b"ping binary").expect("write");
    fs::write(p("usr/bin/passwd"), b"passwd binary").expect("write");
    fs::hard_link(p("usr/bin/passwd"), p("usr/bin/chfn")).expect("link");
    symlink("../usr/bin/ping", p("var/ping")).expect("symlink");
    symlink("/nonexistent/abs", p("var/abs")).expect("symlink");
    mknod(
        &p("dev/fifo"),
        SFlag::S_IFIFO,
        Mode::from_bits_truncate(0o620),
        0,
    )
    .expect("fifo");
    let zero = Mode::from_bits_truncate(0o666);
    mknod(&p("dev/zero"), SFlag::S_IFCHR, zero, makedev(1, 5)).expect("chardev");
    mknod(&p("dev/loop9"), SFlag::S_IFBLK, zero, makedev(7, 9)).expect("blockdev");
    let chown = |rel: &str, id: u32| {
        std::os::unix::fs::lchown(p(rel), Some(id), Some(id + 1)).expect("chown");
    };
    chown("usr/bin/passwd", 0);
    chown("usr/bin/ping", 1000);
    chown("var/ping", 1234);
    chown("var/tmp", 70000);
    let chmod = |rel: &str, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p(rel), fs::Permissions::from_mode(mode)).expect("chmod");
    };
    chmod("usr/bin/passwd", 0o4755);
    chmod("var/tmp", 0o1777);
    chmod("usr/bin", 0o2755);
    xattr::set(
        p("usr/bin/ping"),
        "security.capability",
        &net_raw_capability(),
    )
    .expect("cap");
    xattr::set(p("usr/bin/ping"), "user.origin", b"test").expect("user xattr");
    xattr::set(p("var/tmp"), "trusted.note", b"dir xattr").expect("trusted xattr");
    let when = FileTime::from_unix_time(1_650_000_000, 123_456_789);
    for rel in [
        "usr/bin/ping",
        "usr/bin/passwd",
        "var/ping",
        "dev/fifo",
        "dev/zero",
        "dev/loop9",
        "var/tmp",
        "usr/bin",
        "usr",
        "var",
        "dev",
    ] {
        filetime::set_symlink_file_times(p(rel), when, when).expect("times");
    }
}

/// What a tree looks like: per path, type, mode, owner, mtime, size, device, link target, xattrs,
/// content digest and link count.
fn describe(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut items: Vec<_> = fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").path())
            .collect();
        items.sort();
        for path in items {
            let md = fs::symlink_metadata(&path).expect("lstat");
            let rel = path
                .strip_prefix(root)
                .expect("prefix")
                .display()
                .to_string();
            let mut xattrs: Vec<String> = xattr::list(&path)
                .expect("list xattrs")
                .map(|k| {
                    let v = xattr::get(&path, &k)
                        .expect("get xattr")
                        .unwrap_or_default();
                    format!("{}={}", k.to_string_lossy(), hex::encode(v))
                })
                .collect();
            xattrs.sort();
            let content = if md.is_file() {
                hex::encode(Sha256::digest(fs::read(&path).expect("read")))
            } else if md.file_type().is_symlink() {
                fs::read_link(&path)
                    .expect("readlink")
                    .display()
                    .to_string()
            } else {
                String::new()
            };
            let line = format!(
                "{:?} mode={:o} owner={}:{} mtime={}.{} size={} rdev={} nlink={} xattrs={:?} {}",
                md.file_type(),
                md.mode(),
                md.uid(),
                md.gid(),
                md.mtime(),
                md.mtime_nsec(),
                if md.is_dir() { 0 } else { md.size() },
                md.rdev(),
                md.nlink(),
                xattrs,
                content
            );
            out.insert(rel, line);
            if md.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn gnu_tar_pax_archive_unpacks_like_gnu_tar() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (src, ours, theirs) = (
        tmp.path().join("src"),
        tmp.path().join("ours"),
        tmp.path().join("theirs"),
    );
    for d in [&src, &ours, &theirs] {
        fs::create_dir(d).expect("mkdir");
    }
    make_source(&src);
    let blob = tmp.path().join("layer.tar");
    let status = Command::new("tar")
        .args([
            "--format=posix",
            "--xattrs",
            "--xattrs-include=*",
            "--numeric-owner",
            "-C",
        ])
        .arg(&src)
        .arg("-cf")
        .arg(&blob)
        .arg(".")
        .status()
        .expect("run tar");
    assert!(status.success(), "tar -c failed");
    let status = Command::new("tar")
        .args([
            "--xattrs",
            "--xattrs-include=*",
            "--numeric-owner",
            "--same-owner",
            "-xpf",
        ])
        .arg(&blob)
        .arg("-C")
        .arg(&theirs)
        .status()
        .expect("run tar");
    assert!(status.success(), "tar -x failed");

    let diff_id = unpack_layer(
        &blob,
        "application/vnd.oci.image.layer.v1.tar",
        &ours,
        &mut |_| {},
    )
    .expect("unpack");
    let bytes = fs::read(&blob).expect("read blob");
    assert_eq!(
        diff_id,
        format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
    );

    let (ours, theirs) = (describe(&ours), describe(&theirs));
    assert_eq!(ours.len(), 13, "{ours:#?}");
    for (path, want) in &theirs {
        assert_eq!(ours.get(path), Some(want), "{path}");
    }
    assert_eq!(ours, theirs);
    let ping = &ours["usr/bin/ping"];
    assert!(
        ping.contains("security.capability="),
        "file capability kept after chown: {ping}"
    );
    assert!(ping.contains("mtime=1650000000.123456789"), "{ping}");
}
