//! Layer unpack tests. They need root (ownership, device nodes, trusted xattrs), as CI runs them.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tar::{Builder, EntryType, Header};

use super::unpack_layer;
use crate::engine::error::EngineError;

pub(super) const TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const MTIME: u64 = 1_600_000_000;

/// A temp dir holding the blob, the staging dir `layer/` and a sentinel `outside/secret` that no
/// layer may touch.
pub(super) struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    pub(super) fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("layer")).expect("mkdir layer");
        fs::create_dir(dir.path().join("outside")).expect("mkdir outside");
        fs::write(dir.path().join("outside/secret"), "keep").expect("write secret");
        Sandbox { dir }
    }

    pub(super) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(super) fn layer(&self) -> PathBuf {
        self.path().join("layer")
    }

    pub(super) fn unpack(&self, blob: &[u8], media_type: &str) -> Result<String, EngineError> {
        let path = self.path().join("blob");
        fs::write(&path, blob).expect("write blob");
        unpack_layer(&path, media_type, &self.layer(), &mut |_| {})
    }

    /// Everything outside `layer/` (and the blob): path → (kind, size, nlink, mode).
    pub(super) fn outside_listing(&self) -> BTreeMap<PathBuf, (String, u64, u64, u32)> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, (String, u64, u64, u32)>) {
            for item in fs::read_dir(dir).expect("read_dir") {
                let item = item.expect("dir entry");
                let name = item.file_name();
                if dir.join(&name).ends_with("layer") || name == "blob" {
                    continue;
                }
                let md = fs::symlink_metadata(item.path()).expect("lstat");
                let kind = format!("{:?}", md.file_type());
                out.insert(item.path(), (kind, md.size(), md.nlink(), md.mode()));
                if md.is_dir() {
                    walk(&item.path(), out);
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(self.path(), &mut out);
        out
    }
}

/// A GNU header with `name` written raw (the builder's path setters refuse hostile names).
pub(super) fn header(name: &str, ty: EntryType, size: u64) -> Header {
    let mut h = Header::new_gnu();
    let bytes = name.as_bytes();
    h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
    h.set_entry_type(ty);
    h.set_size(size);
    h.set_mode(if ty == EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(MTIME);
    h.set_cksum();
    h
}

fn link_header(name: &str, ty: EntryType, target: &str) -> Header {
    let mut h = header(name, ty, 0);
    let bytes = target.as_bytes();
    h.as_old_mut().linkname[..bytes.len()].copy_from_slice(bytes);
    h.set_cksum();
    h
}

pub(super) fn file(b: &mut Builder<Vec<u8>>, name: &str, data: &[u8]) {
    b.append(&header(name, EntryType::Regular, data.len() as u64), data)
        .expect("append file");
}

pub(super) fn dir(b: &mut Builder<Vec<u8>>, name: &str) {
    b.append(&header(name, EntryType::Directory, 0), &[][..])
        .expect("append dir");
}

pub(super) fn link(b: &mut Builder<Vec<u8>>, name: &str, ty: EntryType, target: &str) {
    b.append(&link_header(name, ty, target), &[][..])
        .expect("append link");
}

pub(super) fn tar_of(f: impl FnOnce(&mut Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = Builder::new(Vec::new());
    f(&mut b);
    b.into_inner().expect("finish tar")
}

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip finish")
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).expect("zstd")
}

#[test]
fn normal_tree_keeps_owners_modes_times_xattrs_links_and_nodes() {
    let sb = Sandbox::new();
    let tar = tar_of(|b| {
        dir(b, "./");
        dir(b, "bin/");
        let mut h = header("bin/busybox", EntryType::Regular, 5);
        h.set_mode(0o4755);
        h.set_uid(1000);
        h.set_gid(1000);
        h.set_cksum();
        b.append_pax_extensions([
            ("SCHILY.xattr.user.test", &b"hello"[..]),
            ("SCHILY.xattr.trusted.berth", &b"yes"[..]),
            ("SCHILY.xattr.trusted.overlay.redirect", &b"/etc"[..]),
        ])
        .expect("pax");
        b.append(&h, &b"\x7fELF!"[..]).expect("append busybox");
        link(b, "bin/sh", EntryType::Symlink, "busybox");
        link(b, "bin/ls", EntryType::Link, "bin/busybox");
        link(b, "bin/abs", EntryType::Symlink, "/etc/passwd");
        dir(b, "run/");
        b.append(&header("run/fifo", EntryType::Fifo, 0), &[][..])
            .expect("fifo");
        let mut h = header("dev/null", EntryType::Char, 0);
        h.set_device_major(1).expect("major");
        h.set_device_minor(3).expect("minor");
        h.set_mode(0o666);
        h.set_cksum();
        b.append(&h, &[][..]).expect("chardev");
        let mut h = header("tmp/", EntryType::Directory, 0);
        h.set_mode(0o1777);
        h.set_cksum();
        b.append(&h, &[][..]).expect("tmp");
        file(b, "tmp/later", b"x");
        dir(b, "bin/"); // listed twice: updated, not an error, content kept
    });
    let diff_id = sb.unpack(&tar, TAR).expect("unpack");
    assert_eq!(diff_id, sha(&tar));

    let l = sb.layer();
    let bb = fs::symlink_metadata(l.join("bin/busybox")).expect("busybox");
    assert_eq!(fs::read(l.join("bin/busybox")).expect("read"), b"\x7fELF!");
    assert_eq!((bb.uid(), bb.gid()), (1000, 1000));
    assert_eq!(bb.mode() & 0o7777, 0o4755, "setuid kept after chown");
    assert_eq!(bb.mtime(), MTIME as i64);
    assert_eq!(bb.nlink(), 2);
    let user = xattr::get(l.join("bin/busybox"), "user.test").expect("xattr");
    assert_eq!(user.as_deref(), Some(&b"hello"[..]));
    let trusted = xattr::get(l.join("bin/busybox"), "trusted.berth").expect("xattr");
    assert_eq!(trusted.as_deref(), Some(&b"yes"[..]));
    let redirect = xattr::get(l.join("bin/busybox"), "trusted.overlay.redirect").expect("xattr");
    assert_eq!(redirect, None, "overlay xattrs from a layer are dropped");

    let ls = fs::symlink_metadata(l.join("bin/ls")).expect("ls");
    assert_eq!(ls.ino(), bb.ino(), "hard link shares the inode");
    let sh = fs::symlink_metadata(l.join("bin/sh")).expect("sh");
    assert!(sh.file_type().is_symlink());
    assert_eq!(
        fs::read_link(l.join("bin/sh")).expect("readlink"),
        Path::new("busybox")
    );
    assert_eq!(
        sh.mtime(),
        MTIME as i64,
        "symlink mtime set without following"
    );
    assert_eq!(
        fs::read_link(l.join("bin/abs")).expect("abs"),
        Path::new("/etc/passwd")
    );

    let fifo = fs::symlink_metadata(l.join("run/fifo")).expect("fifo");
    assert!(fifo.file_type().is_fifo());
    assert_eq!(fifo.mode() & 0o7777, 0o644);
    let null = fs::symlink_metadata(l.join("dev/null")).expect("null");
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), nix::sys::stat::makedev(1, 3));
    assert_eq!(null.mode() & 0o7777, 0o666);

    let tmp = fs::symlink_metadata(l.join("tmp")).expect("tmp");
    assert_eq!(tmp.mode() & 0o7777, 0o1777);
    assert_eq!(tmp.mtime(), MTIME as i64, "dir mtime set after its content");
    let bin = fs::symlink_metadata(l.join("bin")).expect("bin");
    assert_eq!(bin.mtime(), MTIME as i64);
    assert_eq!(
        fs::symlink_metadata(&l).expect("root").mtime(),
        MTIME as i64
    );
    // `dev/` was not listed: created as a plain 0755 parent.
    let dev = fs::symlink_metadata(l.join("dev")).expect("dev");
    assert_eq!(dev.mode() & 0o7777, 0o755);
}

#[test]
fn whiteouts_and_opaque_dirs_become_overlay_form() {
    let sb = Sandbox::new();
    let tar = tar_of(|b| {
        dir(b, "a/");
        file(b, "a/.wh.gone", b"");
        file(b, "c/.wh..wh..opq", b"");
        file(b, "c/kept", b"k");
        file(b, ".wh.top", b"");
        dir(b, ".wh..wh.plnk/");
        file(b, ".wh..wh.plnk/123.456", b"aufs");
    });
    sb.unpack(&tar, TAR).expect("unpack");
    let l = sb.layer();
    for p in ["a/gone", "top"] {
        let md = fs::symlink_metadata(l.join(p)).expect("whiteout");
        assert!(md.file_type().is_char_device(), "{p} is a char device");
        assert_eq!(md.rdev(), 0, "{p} is 0/0");
    }
    let opq = xattr::get(l.join("c"), "trusted.overlay.opaque").expect("xattr");
    assert_eq!(opq.as_deref(), Some(&b"y"[..]));
    assert_eq!(fs::read(l.join("c/kept")).expect("kept"), b"k");
    let mut names: Vec<_> = fs::read_dir(&l)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["a", "c", "top"],
        "no .wh. names and no AUFS metadata left"
    );
}

/// Each hostile archive is refused with an error naming the offending entry, and nothing outside
/// the staging dir changes.
#[test]
fn hostile_entries_are_refused_and_nothing_escapes() {
    let probe = Sandbox::new();
    // Through `l -> /`, this names the sandbox's own `outside/` (a safe stand-in for
    // `l/etc/passwd`: the same walk, but a bug would not damage the host).
    let via_root = format!("l/{}/outside/escaped", probe.path().display());
    let via_root = via_root.replacen("//", "/", 1);
    let outside_abs = format!("{}/outside/secret", probe.path().display());
    type Case = (&'static str, Box<dyn Fn(&mut Builder<Vec<u8>>)>, String);
    let cases: Vec<Case> = vec![
        (
            "dotdot",
            Box::new(|b| file(b, "../x", b"bad")),
            "../x".into(),
        ),
        (
            "deep",
            Box::new(|b| file(b, "a/../../x", b"bad")),
            "a/../../x".into(),
        ),
        (
            "symlink to /",
            Box::new({
                let name = via_root.clone();
                move |b| {
                    link(b, "l", EntryType::Symlink, "/");
                    file(b, &name, b"bad");
                }
            }),
            via_root.clone(),
        ),
        (
            "symlink to ..",
            Box::new(|b| {
                link(b, "l", EntryType::Symlink, "..");
                file(b, "l/x", b"bad");
            }),
            "l/x".into(),
        ),
        (
            "dir through symlink",
            Box::new(|b| {
                link(b, "l", EntryType::Symlink, "../outside");
                dir(b, "l/sub/");
            }),
            "l/sub/".into(),
        ),
        (
            "hard link up",
            Box::new(|b| link(b, "h", EntryType::Link, "../../etc/passwd")),
            "h".into(),
        ),
        (
            "hard link to sibling",
            Box::new(|b| link(b, "h", EntryType::Link, "../outside/secret")),
            "h".into(),
        ),
        (
            "hard link absolute",
            Box::new({
                let target = outside_abs.clone();
                move |b| link(b, "h", EntryType::Link, &target)
            }),
            "h".into(),
        ),
        (
            "hard link through symlink",
            Box::new(|b| {
                link(b, "l", EntryType::Symlink, "../outside");
                link(b, "h", EntryType::Link, "l/secret");
            }),
            "h".into(),
        ),
        (
            "whiteout ..",
            Box::new(|b| file(b, ".wh...", b"")),
            ".wh...".into(),
        ),
        (
            "nested whiteout ..",
            Box::new(|b| file(b, "a/.wh...", b"")),
            "a/.wh...".into(),
        ),
        (
            "whiteout .",
            Box::new(|b| file(b, ".wh..", b"")),
            ".wh..".into(),
        ),
        (
            "empty whiteout",
            Box::new(|b| file(b, ".wh.", b"")),
            ".wh.".into(),
        ),
        (
            "whiteout through symlink",
            Box::new(|b| {
                link(b, "l", EntryType::Symlink, "../outside");
                file(b, "l/.wh.secret", b"");
            }),
            "l/.wh.secret".into(),
        ),
        (
            "opaque through symlink",
            Box::new(|b| {
                link(b, "l", EntryType::Symlink, "../outside");
                file(b, "l/.wh..wh..opq", b"");
            }),
            "l/.wh..wh..opq".into(),
        ),
    ];
    for (label, build, entry) in cases {
        let sb = Sandbox::new();
        let before = sb.outside_listing();
        let tar = tar_of(|b| build(b));
        let err = match sb.unpack(&tar, TAR) {
            Err(e) => e,
            Ok(_) => panic!("{label}: hostile layer was accepted"),
        };
        assert!(matches!(err, EngineError::Layer(_)), "{label}: {err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("{entry:?}")),
            "{label}: {msg} names {entry}"
        );
        assert_eq!(
            sb.outside_listing(),
            before,
            "{label}: something changed outside"
        );
        assert_eq!(
            fs::read(sb.path().join("outside/secret")).expect("secret"),
            b"keep"
        );
        assert!(!sb.path().join("x").exists(), "{label}");
        let opq = xattr::get(sb.path().join("outside"), "trusted.overlay.opaque").expect("xattr");
        assert_eq!(opq, None, "{label}");
    }
}

#[test]
fn absolute_names_are_stripped_and_final_symlinks_replaced_not_followed() {
    let sb = Sandbox::new();
    let secret = format!("{}/outside/secret", sb.path().display());
    let tar = tar_of(|b| {
        file(b, "/etc/x", b"abs");
        link(b, "f", EntryType::Symlink, &secret);
        file(b, "f", b"replaced");
        link(b, "s", EntryType::Symlink, &secret);
        link(b, "h", EntryType::Link, "s"); // hard link to a symlink pointing outside: fine
    });
    sb.unpack(&tar, TAR).expect("unpack");
    let l = sb.layer();
    assert_eq!(fs::read(l.join("etc/x")).expect("etc/x"), b"abs");
    assert!(fs::symlink_metadata(l.join("f")).expect("f").is_file());
    assert_eq!(fs::read(l.join("f")).expect("f"), b"replaced");
    assert!(fs::symlink_metadata(l.join("h"))
        .expect("h")
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read(sb.path().join("outside/secret")).expect("secret"),
        b"keep"
    );
}

#[test]
fn later_entries_replace_earlier_ones() {
    let sb = Sandbox::new();
    let tar = tar_of(|b| {
        file(b, "a", b"file");
        file(b, "d/inner", b"x");
        dir(b, "a/");
        file(b, "a/b", b"in dir");
        file(b, "d", b"now a file");
        link(b, "a/b", EntryType::Symlink, "elsewhere");
        let mut h = header("v7dir/", EntryType::Regular, 0);
        h.as_old_mut().linkflag[0] = 0;
        h.set_cksum();
        b.append(&h, &[][..]).expect("old-style dir");
    });
    sb.unpack(&tar, TAR).expect("unpack");
    let l = sb.layer();
    assert!(fs::symlink_metadata(l.join("a")).expect("a").is_dir());
    assert!(fs::symlink_metadata(l.join("a/b"))
        .expect("a/b")
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(l.join("d")).expect("d"), b"now a file");
    assert!(fs::symlink_metadata(l.join("v7dir"))
        .expect("v7dir")
        .is_dir());
}

#[test]
fn diff_id_is_the_same_for_plain_gzip_and_zstd_and_covers_trailing_bytes() {
    let mut tar = tar_of(|b| {
        dir(b, "etc/");
        file(b, "etc/hostname", b"berth\n");
    });
    tar.extend_from_slice(&[0u8; 4096]); // record padding after the end blocks
    let want = sha(&tar);
    for (blob, mt) in [
        (tar.clone(), TAR),
        (gzip(&tar), GZIP),
        (gzip(&tar), DOCKER_GZIP),
        (zstd(&tar), ZSTD),
        (gzip(&tar), TAR),   // mislabelled: magic wins
        (tar.clone(), GZIP), // mislabelled: ustar magic wins
        (
            zstd(&tar),
            "application/vnd.oci.image.layer.nondistributable.v1.tar",
        ),
    ] {
        let sb = Sandbox::new();
        let mut seen = Vec::new();
        let path = sb.path().join("blob");
        fs::write(&path, &blob).expect("blob");
        let got = unpack_layer(&path, mt, &sb.layer(), &mut |n| seen.push(n)).expect(mt);
        assert_eq!(got, want, "{mt}");
        assert_eq!(
            seen.last().copied(),
            Some(tar.len() as u64),
            "{mt}: final progress"
        );
        assert_eq!(
            fs::read(sb.layer().join("etc/hostname")).expect("read"),
            b"berth\n"
        );
    }
}

#[test]
fn tar_without_end_blocks_unpacks() {
    let sb = Sandbox::new();
    let mut tar = tar_of(|b| {
        file(b, "a", b"0123456789");
        file(b, "b", b"last");
    });
    tar.truncate(tar.len() - 1024);
    assert_eq!(sb.unpack(&tar, TAR).expect("unpack"), sha(&tar));
    assert_eq!(fs::read(sb.layer().join("b")).expect("b"), b"last");
    let sb = Sandbox::new();
    assert!(sb.unpack(&gzip(&tar), GZIP).is_ok());
}

#[test]
fn progress_is_reported_in_steps() {
    let sb = Sandbox::new();
    let big = vec![7u8; 3 * 1024 * 1024];
    let tar = tar_of(|b| file(b, "big", &big));
    let path = sb.path().join("blob");
    fs::write(&path, gzip(&tar)).expect("blob");
    let mut seen = Vec::new();
    unpack_layer(&path, GZIP, &sb.layer(), &mut |n| seen.push(n)).expect("unpack");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "monotonic: {seen:?}");
    assert!(
        seen.len() >= 4 && seen.len() <= 40,
        "{} reports",
        seen.len()
    );
    assert_eq!(seen.last().copied(), Some(tar.len() as u64));
    let md = fs::metadata(sb.layer().join("big")).expect("big");
    assert_eq!(md.len(), big.len() as u64);
    assert_eq!(md.permissions().mode() & 0o777, 0o644);
}

#[test]
fn bad_blobs_fail_clearly() {
    let sb = Sandbox::new();
    let err = sb.unpack(b"not gzip at all", GZIP).expect_err("garbage");
    assert!(err.to_string().contains("gzip or zstd magic"), "{err}");
    let err = sb
        .unpack(
            &gzip(b"x"),
            "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
        )
        .expect_err("encrypted");
    assert!(err.to_string().contains("encrypted"), "{err}");
    let err = sb.unpack(&[1u8; 1024], TAR).expect_err("not a tar");
    assert!(matches!(err, EngineError::Layer(_)), "{err:?}");
    let mut corrupt = gzip(&tar_of(|b| file(b, "a", &[5u8; 100_000])));
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0xff;
    let sb = Sandbox::new();
    let err = sb.unpack(&corrupt, GZIP).expect_err("corrupt gzip");
    assert!(err.to_string().contains("layer "), "{err}");
}

#[test]
fn long_names_pax_times_and_replaced_symlinks() {
    let sb = Sandbox::new();
    let deep = format!("{}/{}", "d".repeat(120), "f".repeat(120));
    let target = format!("../{}", "t".repeat(150));
    let tar = tar_of(|b| {
        let mut h = Header::new_gnu(); // uid and gid left empty: read as 0, as Go does
        h.set_size(4);
        h.set_mode(0o600);
        h.set_mtime(MTIME);
        b.append_data(&mut h, &deep, &b"long"[..])
            .expect("long name");
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Symlink);
        h.set_size(0);
        h.set_mtime(MTIME);
        b.append_link(&mut h, "d/link", &target).expect("long link");
        b.append_pax_extensions([("mtime", &b"1600000000.5"[..])])
            .expect("pax mtime");
        file(b, "precise", b"p");
        link(b, "l", EntryType::Symlink, "../outside");
        dir(b, "l/"); // replaces the symlink, does not follow it
    });
    sb.unpack(&tar, TAR).expect("unpack");
    let l = sb.layer();
    assert_eq!(fs::read(l.join(&deep)).expect("deep"), b"long");
    assert_eq!(
        fs::read_link(l.join("d/link")).expect("link"),
        Path::new(&target)
    );
    let precise = fs::symlink_metadata(l.join("precise")).expect("precise");
    assert_eq!(
        (precise.mtime(), precise.mtime_nsec()),
        (MTIME as i64, 500_000_000)
    );
    assert!(fs::symlink_metadata(l.join("l")).expect("l").is_dir());
    assert_eq!(
        fs::read_dir(sb.path().join("outside")).expect("ls").count(),
        1
    );
}

#[test]
fn names_are_cleaned_and_pax_times_parsed() {
    use super::meta::pax_time;
    use super::names::clean;
    let comps = |s: &str| clean(s.as_bytes()).map(|c| c.len());
    assert_eq!(comps("/a//./b/"), Ok(2));
    assert_eq!(comps("a/../b"), Ok(1));
    assert_eq!(comps("./"), Ok(0));
    assert!(comps("a/../..").is_err());
    assert!(clean(b"a\0b").is_err());
    let t = |s: &str| pax_time(s.as_bytes()).map(|t| (t.tv_sec(), t.tv_nsec()));
    assert_eq!(t("12"), Some((12, 0)));
    assert_eq!(t("12.25"), Some((12, 250_000_000)));
    assert_eq!(t("12.1234567891"), Some((12, 123_456_789)));
    assert_eq!(t("-1.5"), Some((-2, 500_000_000)));
    assert_eq!(t("-9223372036854775808"), Some((i64::MIN, 0)));
    assert_eq!(t("-9223372036854775808.5"), None);
    assert_eq!(t("x"), None);
    assert_eq!(t("1.x"), None);
}

#[test]
fn a_broken_archive_names_the_last_good_entry() {
    let sb = Sandbox::new();
    let mut tar = tar_of(|b| file(b, "good", b"ok"));
    tar.truncate(1024);
    tar.extend_from_slice(&[0x41; 512]); // a header block with a bad checksum
    let err = sb.unpack(&tar, TAR).expect_err("broken");
    assert!(err.to_string().contains("after entry \"good\""), "{err}");
}
