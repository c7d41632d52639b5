//! Round trip of the layer writer: two layers (a base, then an upper directory in overlay form
//! with whiteouts and an opaque directory) written by berth, unpacked by berth's unpacker and
//! stacked with overlayfs, and unpacked by umoci, give the same tree. Needs root and umoci.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use sha2::{Digest, Sha256};

use super::unpack::unpack_layer;
use super::writer::{write_layer, LayerCompression, LayerOptions, WrittenLayer};
use crate::engine::content::ContentStore;
use crate::engine::layout::Layout;

fn cap_net_raw() -> Vec<u8> {
    let mut v = Vec::new();
    for word in [0x0200_0001u32, 1 << 13, 0, 0, 0] {
        v.extend_from_slice(&word.to_le_bytes());
    }
    v
}

fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).expect("chown");
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).expect("chmod");
}

fn make_base(b: &Path) {
    for d in ["etc", "gone/sub", "opaque/old", "usr/bin"] {
        fs::create_dir_all(b.join(d)).expect("mkdir");
    }
    fs::write(b.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").expect("write");
    fs::write(b.join("etc/removed"), "bye").expect("write");
    fs::write(b.join("gone/sub/file"), "x").expect("write");
    fs::write(b.join("opaque/old/file"), "hidden later").expect("write");
    fs::write(b.join("opaque/kept-name"), "old").expect("write");
    fs::write(b.join("usr/bin/tool"), "tool").expect("write");
    let when = filetime::FileTime::from_unix_time(1_600_000_000, 0);
    let mut all = Vec::new();
    collect(b, &mut all);
    for path in all {
        filetime::set_symlink_file_times(&path, when, when).expect("times");
    }
}

fn make_upper(u: &Path) {
    let p = |r: &str| u.join(r);
    for d in ["etc", "opaque", "usr/bin", "dev", "srv/deep"] {
        fs::create_dir_all(p(d)).expect("mkdir");
    }
    fs::write(
        p("etc/passwd"),
        "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n",
    )
    .expect("write");
    let wh = Mode::from_bits_truncate(0o600);
    mknod(&p("etc/removed"), SFlag::S_IFCHR, wh, makedev(0, 0)).expect("whiteout");
    mknod(&p("gone"), SFlag::S_IFCHR, wh, makedev(0, 0)).expect("whiteout");
    xattr::set(p("opaque"), "trusted.overlay.opaque", b"y").expect("opaque");
    fs::write(p("opaque/kept-name"), "new").expect("write");
    fs::write(p("usr/bin/ping"), "ping").expect("write");
    chown(&p("usr/bin/ping"), 1000, 1000); // before the capability, which chown clears
    xattr::set(p("usr/bin/ping"), "security.capability", &cap_net_raw()).expect("cap");
    xattr::set(p("usr/bin/ping"), "user.note", b"v").expect("xattr");
    fs::write(p("usr/bin/passwd"), "passwd").expect("write");
    chmod(&p("usr/bin/passwd"), 0o4755);
    fs::hard_link(p("usr/bin/passwd"), p("usr/bin/chfn")).expect("link");
    symlink("../usr/bin/ping", p("srv/ping")).expect("symlink");
    let zero = Mode::from_bits_truncate(0o666);
    mknod(&p("dev/zero"), SFlag::S_IFCHR, zero, makedev(1, 5)).expect("chardev");
    mknod(&p("dev/loop9"), SFlag::S_IFBLK, zero, makedev(7, 9)).expect("blockdev");
    mknod(&p("dev/fifo"), SFlag::S_IFIFO, zero, 0).expect("fifo");
    let long = "d".repeat(120);
    fs::create_dir_all(p(&format!("srv/deep/{long}"))).expect("mkdir");
    fs::write(p(&format!("srv/deep/{long}/{}", "f".repeat(150))), "long").expect("write");
    symlink("t".repeat(140), p("srv/longlink")).expect("symlink");
    fs::write(
        u.join("srv").join(OsStr::from_bytes(b"caf\xe9-latin1")),
        "bytes",
    )
    .expect("write");
    chown(&p("srv"), 3_000_000, 3_000_001);
    chown(&p("srv/ping"), 1234, 1234);
    chmod(&p("srv/deep"), 0o1777);
    let when = filetime::FileTime::from_unix_time(1_650_000_000, 0);
    let mut all = Vec::new();
    collect(u, &mut all);
    all.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for path in all {
        filetime::set_symlink_file_times(&path, when, when).expect("times");
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).expect("read_dir") {
        let path = e.expect("entry").path();
        if fs::symlink_metadata(&path).expect("lstat").is_dir() {
            collect(&path, out);
        }
        out.push(path);
    }
}

/// Per path: type, mode, owner, mtime, size, rdev, xattrs, content or target, and for files the
/// path of the first name of its inode (hard links).
fn describe(root: &Path) -> BTreeMap<String, String> {
    let mut all = Vec::new();
    collect(root, &mut all);
    all.sort();
    let mut inodes: BTreeMap<u64, String> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for path in all {
        let md = fs::symlink_metadata(&path).expect("lstat");
        let rel = path
            .strip_prefix(root)
            .expect("prefix")
            .to_string_lossy()
            .into_owned();
        let mut xattrs: Vec<String> = xattr::list(&path)
            .expect("xattrs")
            .filter(|k| !k.as_bytes().starts_with(b"trusted.overlay."))
            .map(|k| {
                let v = xattr::get(&path, &k).expect("get").unwrap_or_default();
                format!("{}={}", k.to_string_lossy(), hex::encode(v))
            })
            .collect();
        xattrs.sort();
        let content = if md.is_file() {
            let first = inodes
                .entry(md.ino())
                .or_insert_with(|| rel.clone())
                .clone();
            format!(
                "{} first={first}",
                hex::encode(Sha256::digest(fs::read(&path).expect("read")))
            )
        } else if md.file_type().is_symlink() {
            fs::read_link(&path)
                .expect("readlink")
                .display()
                .to_string()
        } else {
            String::new()
        };
        let line = format!(
            "{:?} mode={:o} owner={}:{} mtime={} size={} rdev={} xattrs={xattrs:?} {content}",
            md.file_type(),
            md.mode(),
            md.uid(),
            md.gid(),
            if md.is_dir() { 0 } else { md.mtime() },
            if md.is_dir() { 0 } else { md.size() },
            md.rdev(),
        );
        out.insert(rel, line);
    }
    out
}

fn oci_layout(dir: &Path, store: &ContentStore, layers: &[&WrittenLayer]) {
    fs::create_dir_all(dir.join("blobs/sha256")).expect("mkdir");
    let put = |bytes: &[u8]| {
        let hex = hex::encode(Sha256::digest(bytes));
        fs::write(dir.join("blobs/sha256").join(&hex), bytes).expect("write");
        (format!("sha256:{hex}"), bytes.len())
    };
    for l in layers {
        let bytes = store.read(&l.digest).expect("read blob");
        assert_eq!(put(&bytes).0, l.digest);
    }
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
    let config = serde_json::json!({"architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}});
    let (cd, cs) = put(config.to_string().as_bytes());
    let descs: Vec<_> = layers
        .iter()
        .map(|l| serde_json::json!({"mediaType": l.media_type, "digest": l.digest, "size": l.size}))
        .collect();
    let manifest = serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": descs});
    let (md, ms) = put(manifest.to_string().as_bytes());
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
        "annotations": {"org.opencontainers.image.ref.name": "t"}}]});
    fs::write(dir.join("index.json"), index.to_string()).expect("index");
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("layout");
}

/// Unmounts the overlay even when the test fails.
struct Unmount(PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = umount2(&self.0, MntFlags::MNT_DETACH);
    }
}

/// Writes, unpacks and stacks the two layers; compares with umoci's unpacking unless the
/// compression is zstd (umoci 0.4 has no zstd). Returns berth's merged tree.
fn round_trip(compression: LayerCompression) -> BTreeMap<String, String> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = |r: &str| tmp.path().join(r);
    let layout = Layout::new(t("root"));
    layout.create().expect("layout");
    let store = ContentStore::new(&layout);
    for d in ["base", "upper", "l0", "l1", "merged", "work", "upperx"] {
        fs::create_dir(t(d)).expect("mkdir");
    }
    make_base(&t("base"));
    make_upper(&t("upper"));
    let opts = LayerOptions {
        compression,
        ..Default::default()
    };
    let base = write_layer(&store, &t("base"), &opts).expect("write base");
    let upper = write_layer(&store, &t("upper"), &opts).expect("write upper");
    assert_eq!(
        write_layer(&store, &t("upper"), &opts).expect("again"),
        upper,
        "the same tree gives the same blob"
    );

    for (l, dir) in [(&base, "l0"), (&upper, "l1")] {
        let blob = store.path(&l.digest).expect("path");
        let got = unpack_layer(&blob, l.media_type, &t(dir), &mut |_| {}).expect("unpack");
        assert_eq!(got, l.diff_id);
    }
    let data = format!(
        "lowerdir={}:{},upperdir={},workdir={}",
        t("l1").display(),
        t("l0").display(),
        t("upperx").display(),
        t("work").display()
    );
    mount(
        Some("overlay"),
        &t("merged"),
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_str()),
    )
    .expect("mount overlay");
    let _guard = Unmount(t("merged"));
    let ours = describe(&t("merged"));

    assert!(!ours.contains_key("gone") && !ours.contains_key("etc/removed"));
    assert!(
        !ours.contains_key("opaque/old"),
        "opaque dir hides the base's children"
    );
    assert!(ours["usr/bin/ping"].contains("security.capability="));
    assert!(ours["usr/bin/chfn"].contains("first=usr/bin/chfn"));
    assert!(ours["usr/bin/passwd"].contains("first=usr/bin/chfn"));
    if compression == LayerCompression::Zstd {
        return ours;
    }
    oci_layout(&t("oci"), &store, &[&base, &upper]);
    let out = Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:t", t("oci").display()))
        .arg(t("bundle"))
        .output()
        .expect("run umoci");
    assert!(
        out.status.success(),
        "umoci: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = describe(&t("bundle/rootfs"));
    for (path, want) in &theirs {
        assert_eq!(ours.get(path), Some(want), "{path}");
    }
    assert_eq!(ours, theirs);
    ours
}

#[test]
fn gzip_layers_round_trip_through_berth_and_umoci() {
    round_trip(LayerCompression::Gzip);
}

#[test]
fn zstd_and_plain_layers_round_trip() {
    let plain = round_trip(LayerCompression::None);
    assert_eq!(round_trip(LayerCompression::Zstd), plain);
}

#[test]
fn source_date_epoch_clamps_mtimes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let layout = Layout::new(tmp.path().join("root"));
    layout.create().expect("layout");
    let store = ContentStore::new(&layout);
    let src = tmp.path().join("src");
    fs::create_dir(&src).expect("mkdir");
    fs::write(src.join("a"), "a").expect("write");
    let opts = LayerOptions {
        clamp_mtime: Some(1000),
        ..Default::default()
    };
    let first = write_layer(&store, &src, &opts).expect("write");
    filetime::set_file_mtime(src.join("a"), filetime::FileTime::from_unix_time(2000, 0))
        .expect("touch");
    assert_eq!(write_layer(&store, &src, &opts).expect("write"), first);
    let out = tmp.path().join("out");
    fs::create_dir(&out).expect("mkdir");
    let blob = store.path(&first.digest).expect("path");
    unpack_layer(&blob, first.media_type, &out, &mut |_| {}).expect("unpack");
    assert_eq!(fs::metadata(out.join("a")).expect("stat").mtime(), 1000);
}
