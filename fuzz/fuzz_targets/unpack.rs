//! The layer unpacker on hostile tars: entries with arbitrary names (`..`, absolute paths,
//! whiteouts, opaque markers, raw bytes), link targets, types, modes, owners and PAX records are
//! unpacked as root into a rootfs deep inside a temp dir, beside sentinel files and directories.
//! Whatever the unpacker answers, nothing outside the rootfs may be created, changed or removed.
//!
//! Names and link targets are built from components so that every path they name, even through
//! `..` or as an absolute path, lies inside the temp dir: a bug shows up as a changed snapshot,
//! never as a write to the machine's own files.
#![no_main]

#[path = "unpack_tree.rs"]
mod tree;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tar::{EntryType, Header};

/// How deep the rootfs sits in the temp dir: at most this many `..` per name or link target.
const DEPTH: usize = 4;
const ROOT: &str = "d1/d2/d3/rootfs";

#[derive(Arbitrary, Debug)]
enum Comp {
    A,
    B,
    Sentinel,
    F,
    Dot,
    DotDot,
    Empty,
    WhiteoutA,
    WhiteoutDotDot,
    Opaque,
    AufsMeta,
    Raw([u8; 3]),
}

#[derive(Arbitrary, Debug)]
enum Name {
    /// Relative to the layer root (for a symlink target: to the link's directory).
    Rel(Vec<Comp>),
    /// Absolute: the unpacker strips the leading `/`.
    Abs(Vec<Comp>),
    /// The temp dir's own absolute path and below: the sentinels, as the real filesystem sees them.
    Outside(Vec<Comp>),
}

#[derive(Arbitrary, Debug)]
enum Kind {
    Dir,
    File(Vec<u8>),
    Symlink(Name),
    Hardlink(Name),
    Char(u8, u8),
    Block(u8, u8),
    Fifo,
    /// Type flag NUL: a file, or a directory when the name ends in `/`.
    OldStyle(Vec<u8>),
    Raw(u8, Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Pax {
    Path(Name),
    LinkPath(Name),
    Mtime(Secs, u32, bool),
    Xattr(u8, Vec<u8>),
}

/// PAX time seconds: the edges of the range, which random bytes seldom hit, or anything.
#[derive(Arbitrary, Debug)]
enum Secs {
    Min,
    Max,
    Any(i64),
}

#[derive(Arbitrary, Debug)]
struct Entry {
    name: Name,
    slash: bool,
    kind: Kind,
    mode: u16,
    uid: u8,
    gid: u8,
    mtime: u32,
    pax: Vec<Pax>,
}

const XATTRS: [&str; 6] = [
    "user.fuzz",
    "trusted.overlay.opaque",
    "trusted.overlay.redirect",
    "trusted.overlay.metacopy",
    "security.capability",
    "user.overlay.origin",
];

fn comp(c: &Comp, ups: &mut usize) -> Vec<u8> {
    match c {
        Comp::A => b"a".to_vec(),
        Comp::B => b"b".to_vec(),
        Comp::Sentinel => b"sentinel".to_vec(),
        Comp::F => b"f".to_vec(),
        Comp::Dot => b".".to_vec(),
        Comp::DotDot if *ups < DEPTH => {
            *ups += 1;
            b"..".to_vec()
        }
        Comp::DotDot => b"a".to_vec(),
        Comp::Empty => Vec::new(),
        Comp::WhiteoutA => b".wh.a".to_vec(),
        Comp::WhiteoutDotDot => b".wh...".to_vec(),
        Comp::Opaque => b".wh..wh..opq".to_vec(),
        Comp::AufsMeta => b".wh..wh.plnk".to_vec(),
        Comp::Raw(b) => b
            .iter()
            .map(|&x| if x == b'/' { b'_' } else { x })
            .collect(),
    }
}

fn name(n: &Name, top: &Path) -> Vec<u8> {
    let (mut out, comps) = match n {
        Name::Rel(c) => (Vec::new(), c),
        Name::Abs(c) => (b"/".to_vec(), c),
        Name::Outside(c) => {
            let mut p = top.as_os_str().as_encoded_bytes().to_vec();
            p.push(b'/');
            (p, c)
        }
    };
    let mut ups = 0;
    let parts: Vec<Vec<u8>> = comps.iter().take(6).map(|c| comp(c, &mut ups)).collect();
    out.extend(parts.join(&b'/'));
    out
}

fn header(ty: u8, path: &[u8], link: &[u8], size: u64, e: &Entry) -> Header {
    let mut h = if ty == 0 {
        Header::new_old()
    } else {
        Header::new_ustar()
    };
    {
        let old = h.as_old_mut();
        let n = path.len().min(old.name.len());
        old.name[..n].copy_from_slice(&path[..n]);
        let n = link.len().min(old.linkname.len());
        old.linkname[..n].copy_from_slice(&link[..n]);
    }
    h.set_entry_type(EntryType::new(ty));
    h.set_size(size);
    h.set_mode(u32::from(e.mode));
    h.set_uid(u64::from(e.uid));
    h.set_gid(u64::from(e.gid));
    h.set_mtime(u64::from(e.mtime));
    if let Kind::Char(ma, mi) | Kind::Block(ma, mi) = e.kind {
        let _ = h.set_device_major(u32::from(ma));
        let _ = h.set_device_minor(u32::from(mi));
    }
    h.set_cksum();
    h
}

fn layer(entries: &[Entry], top: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries.iter().take(24) {
        let mut path = name(&e.name, top);
        if e.slash {
            path.push(b'/');
        }
        let (ty, link, data): (u8, Vec<u8>, &[u8]) = match &e.kind {
            Kind::Dir => (b'5', Vec::new(), &[]),
            Kind::File(d) => (b'0', Vec::new(), d),
            Kind::Symlink(t) => (b'2', name(t, top), &[]),
            Kind::Hardlink(t) => (b'1', name(t, top), &[]),
            Kind::Char(..) => (b'3', Vec::new(), &[]),
            Kind::Block(..) => (b'4', Vec::new(), &[]),
            Kind::Fifo => (b'6', Vec::new(), &[]),
            Kind::OldStyle(d) => (0, Vec::new(), d),
            Kind::Raw(t, d) => (*t, Vec::new(), d),
        };
        let mut pax: Vec<(String, Vec<u8>)> = Vec::new();
        if path.len() > 100 {
            pax.push(("path".into(), path.clone()));
        }
        if link.len() > 100 {
            pax.push(("linkpath".into(), link.clone()));
        }
        for p in e.pax.iter().take(4) {
            pax.push(match p {
                Pax::Path(n) => ("path".into(), name(n, top)),
                Pax::LinkPath(n) => ("linkpath".into(), name(n, top)),
                Pax::Mtime(s, ns, neg) => {
                    let s = match s {
                        Secs::Min => i64::MIN,
                        Secs::Max => i64::MAX,
                        Secs::Any(s) => *s,
                    };
                    let sign = if *neg { "-" } else { "" };
                    ("mtime".into(), format!("{sign}{s}.{ns}").into_bytes())
                }
                Pax::Xattr(k, v) => {
                    let key = XATTRS[usize::from(*k) % XATTRS.len()];
                    (format!("SCHILY.xattr.{key}"), v.clone())
                }
            });
        }
        if !pax.is_empty() {
            let records = pax.iter().map(|(k, v)| (k.as_str(), v.as_slice()));
            b.append_pax_extensions(records).expect("writing to a Vec");
        }
        let h = header(ty, &path, &link, data.len() as u64, e);
        b.append(&h, data).expect("writing to a Vec");
    }
    b.into_inner().expect("writing to a Vec")
}

/// The temp dir: `sentinel/` (a file, a directory, a symlink, a fifo), a file beside the rootfs,
/// and the empty rootfs `d1/d2/d3/rootfs` itself.
fn setup(top: &Path) {
    let s = top.join("sentinel");
    fs::create_dir_all(s.join("d")).expect("mkdir");
    fs::write(s.join("f"), b"keep").expect("write");
    fs::write(s.join("d/f"), b"keep too").expect("write");
    symlink("f", s.join("l")).expect("symlink");
    nix::unistd::mkfifo(
        &s.join("p"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .expect("mkfifo");
    fs::create_dir_all(top.join(ROOT)).expect("mkdir");
    fs::write(top.join("d1/d2/d3/beside"), b"keep").expect("write");
}

fuzz_target!(|entries: Vec<Entry>| {
    let tmp = tempfile::tempdir().expect("temp dir");
    let top = tmp.path();
    setup(top);
    let blob = top.join("layer.tar");
    fs::write(&blob, layer(&entries, top)).expect("write layer");
    let rootfs = top.join(ROOT);
    let before = tree::snapshot(top, &rootfs);
    let result = berth::engine::unpack::unpack_layer(
        &blob,
        "application/vnd.oci.image.layer.v1.tar",
        &rootfs,
        &mut |_| {},
    );
    if let Err(e) = &result {
        assert!(!e.to_string().is_empty());
    }
    let after = tree::snapshot(top, &rootfs);
    if before != after {
        for (p, n) in &after {
            if before.get(p) != Some(n) {
                eprintln!("changed or created: {} {n:?}", p.display());
            }
        }
        for p in before.keys().filter(|p| !after.contains_key(*p)) {
            eprintln!("removed: {}", p.display());
        }
        panic!("unpacking ({result:?}) touched the filesystem outside the rootfs");
    }
});
