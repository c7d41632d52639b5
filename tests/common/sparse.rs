//! Images that lack some of the runtime's mount points (`/proc`, `/dev`, `/sys`, `/etc` and the
//! files `/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf`), for the init layer's tests. Each
//! starts with a busybox layer (`/bin/busybox` and its applets, `/tmp`), nothing else unless
//! said.

use flate2::Compression;

use super::images::{assemble, cached, host_arch, Flavor, Image, LayerBlob};
use super::rootfs::{applets, BUSYBOX, GROUP, PASSWD};
use super::tarball::TarBuilder;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// One layer: busybox and `/tmp` only; no `/proc`, `/dev`, `/sys` or `/etc`.
    Bare,
    /// One layer: `/etc -> private/etc` (a relative symlink) with `passwd` and `group` there,
    /// and `/proc`, `/dev`, `/sys`.
    EtcSymlink,
    /// Two layers: a full base (`/proc`, `/dev`, `/sys`, `/etc` with `hostname`, `hosts`,
    /// `resolv.conf`, `passwd`, `group`), then `etc/.wh.hosts`: the image lacks `/etc/hosts`.
    HostsWhitedOut,
    /// Two layers: the same full base, then `/etc` opaque with only `passwd`: the image lacks
    /// the three files.
    EtcOpaque,
}

/// What the full base layer's `/etc/hosts` holds (the image of [`Case::HostsWhitedOut`] deletes
/// it).
pub const BASE_HOSTS: &str = "10.9.9.9 from-the-image\n";

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::Bare => "sparse-bare",
            Case::EtcSymlink => "sparse-etc-symlink",
            Case::HostsWhitedOut => "sparse-hosts-whited-out",
            Case::EtcOpaque => "sparse-etc-opaque",
        }
    }
}

fn busybox(t: &mut TarBuilder) {
    let busybox = std::fs::read(BUSYBOX).expect("busybox-static installed");
    t.dir("bin", 0o755);
    t.file("bin/busybox", 0o755, &busybox);
    for applet in applets() {
        t.symlink(&format!("bin/{applet}"), "busybox");
    }
    t.dir("tmp", 0o1777);
}

fn base(case: Case) -> Vec<u8> {
    let mut t = TarBuilder::new();
    busybox(&mut t);
    match case {
        Case::Bare => {}
        Case::EtcSymlink => {
            t.dir("private", 0o755);
            t.dir("private/etc", 0o755);
            t.file("private/etc/passwd", 0o644, PASSWD.as_bytes());
            t.file("private/etc/group", 0o644, GROUP.as_bytes());
            t.symlink("etc", "private/etc");
        }
        Case::HostsWhitedOut | Case::EtcOpaque => {
            t.dir("etc", 0o755);
            t.file("etc/passwd", 0o644, PASSWD.as_bytes());
            t.file("etc/group", 0o644, GROUP.as_bytes());
            t.file("etc/hostname", 0o644, b"from-the-image\n");
            t.file("etc/hosts", 0o644, BASE_HOSTS.as_bytes());
            t.file("etc/resolv.conf", 0o644, b"nameserver 10.9.9.9\n");
        }
    }
    if case != Case::Bare {
        t.dir("proc", 0o555);
        t.dir("dev", 0o755);
        t.dir("sys", 0o555);
    }
    t.finish()
}

fn top(case: Case) -> Option<Vec<u8>> {
    let mut t = TarBuilder::new();
    match case {
        Case::HostsWhitedOut => {
            t.dir("etc", 0o755);
            t.file("etc/.wh.hosts", 0o644, b"");
        }
        Case::EtcOpaque => {
            t.dir("etc", 0o755);
            t.file("etc/.wh..wh..opq", 0o644, b"");
            t.file("etc/passwd", 0o644, PASSWD.as_bytes());
        }
        _ => return None,
    }
    Some(t.finish())
}

/// The image for `case` (cached per process).
pub fn sparse(case: Case) -> &'static Image {
    let name = case.name();
    cached(name, || {
        let mut layers = vec![LayerBlob::from_tar(&base(case), Compression::fast())];
        if let Some(tar) = top(case) {
            layers.push(LayerBlob::from_tar(&tar, Compression::fast()));
        }
        assemble(name, Flavor::Oci, host_arch(), &layers)
    })
}
