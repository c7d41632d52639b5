//! Images whose own files point where a careless engine would follow them on the host: an
//! `/etc/passwd` that is a symlink to a host file, to `/dev/zero`, or a FIFO; `/etc/hosts`,
//! `/etc/resolv.conf`, `/proc`, `/dev` and a volume destination that are symlinks; and a setuid
//! binary (for the engine-root exposure test). Each is one busybox layer built from scratch.

use flate2::Compression;
use tar::EntryType;

use super::images::{assemble, cached, host_arch, Flavor, Image, LayerBlob};
use super::rootfs::{applets, BUSYBOX, GROUP, PASSWD};
use super::tarball::TarBuilder;

/// The host file [`Case::HostPasswd`]'s `/etc/passwd` and `/etc/group` point at (the test
/// writes it; a user `app` with uid [`HOST_UID`]).
pub const HOST_PASSWD: &str = "/tmp/berth-h1-host-passwd";
/// The uid the host file gives `app` (the image's own `app` is 1000).
pub const HOST_UID: u32 = 4242;
/// Absolute host paths [`Case::Destinations`] and [`Case::AbsoluteDev`] point at: must never
/// be created on the host.
pub const HOST_HOSTS: &str = "/berth-h1-hosts";
pub const HOST_DEV: &str = "/berth-h1-xdev";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// `/etc/passwd` and `/etc/group` -> [`HOST_PASSWD`].
    HostPasswd,
    /// `/etc/passwd` -> `/dev/zero`.
    ZeroPasswd,
    /// `/etc/passwd` is a FIFO.
    FifoPasswd,
    /// `/usr/bin/su-copy`: busybox, mode 4755.
    Setuid,
    /// `/etc/hosts` -> [`HOST_HOSTS`] (dangling), `/etc/resolv.conf` ->
    /// `../run/systemd/resolve/stub-resolv.conf` (dangling), `/proc` -> `kproc`, `/dev` ->
    /// `xdev` (relative, both present), `/data` -> `/srv/real` (a directory).
    Destinations,
    /// `/dev` -> [`HOST_DEV`] (absolute).
    AbsoluteDev,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::HostPasswd => "passwd-host",
            Case::ZeroPasswd => "passwd-zero",
            Case::FifoPasswd => "passwd-fifo",
            Case::Setuid => "setuid",
            Case::Destinations => "symlinked-destinations",
            Case::AbsoluteDev => "dev-absolute",
        }
    }

    fn tar(self) -> Vec<u8> {
        let busybox = std::fs::read(BUSYBOX).expect("busybox-static installed");
        let mut t = TarBuilder::new();
        t.dir("bin", 0o755);
        t.file("bin/busybox", 0o755, &busybox);
        for applet in applets() {
            t.symlink(&format!("bin/{applet}"), "busybox");
        }
        t.dir("etc", 0o755);
        match self {
            Case::HostPasswd => {
                t.symlink("etc/passwd", HOST_PASSWD);
                t.symlink("etc/group", HOST_PASSWD);
            }
            Case::ZeroPasswd => {
                t.symlink("etc/passwd", "/dev/zero");
                t.file("etc/group", 0o644, GROUP.as_bytes());
            }
            Case::FifoPasswd => {
                t.entry("etc/passwd", EntryType::Fifo, 0o644, 0, 0, "", &[]);
                t.file("etc/group", 0o644, GROUP.as_bytes());
            }
            _ => {
                t.file("etc/passwd", 0o644, PASSWD.as_bytes());
                t.file("etc/group", 0o644, GROUP.as_bytes());
            }
        }
        match self {
            Case::Destinations => {
                t.symlink("etc/hosts", HOST_HOSTS);
                t.symlink("etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf");
                t.symlink("proc", "kproc");
                t.dir("kproc", 0o555);
                t.symlink("dev", "xdev");
                t.dir("xdev", 0o755);
                t.dir("srv", 0o755);
                t.dir("srv/real", 0o755);
                t.file("srv/real/seed", 0o644, b"from the image\n");
                t.symlink("data", "/srv/real");
                t.dir("run", 0o755);
                t.dir("sys", 0o555);
            }
            Case::AbsoluteDev => {
                t.symlink("dev", HOST_DEV);
                t.dir("proc", 0o555);
                t.dir("sys", 0o555);
            }
            _ => {
                t.dir("dev", 0o755);
                t.dir("proc", 0o555);
                t.dir("sys", 0o555);
            }
        }
        if self == Case::Setuid {
            t.dir("usr", 0o755);
            t.dir("usr/bin", 0o755);
            t.file("usr/bin/su-copy", 0o4755, &busybox);
        }
        t.dir("tmp", 0o1777);
        t.finish()
    }
}

/// The single-layer image for `case` (cached per process).
pub fn symlinked(case: Case) -> &'static Image {
    let name = case.name();
    cached(name, || {
        let layer = LayerBlob::from_tar(&case.tar(), Compression::fast());
        assemble(name, Flavor::Oci, host_arch(), &[layer])
    })
}
