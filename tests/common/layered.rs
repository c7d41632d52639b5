//! Multi-layer test images: whiteouts and opaque directories, and a truncated layer tar.

use flate2::Compression;

use super::images::{assemble, base_layer, cached, host_arch, Flavor, Image, LayerBlob};
use super::tarball::TarBuilder;

/// What [`multi_layer`] contains, layer by layer, and what its flattened rootfs must look like.
///
/// - layer 1: the busybox rootfs of [`super::rootfs`] (the same blob as [`super::images::single_layer`]),
///   which has `/etc/motd`, `/srv/www/index.html` and `/srv/www/old/page.html`;
/// - layer 2: `etc/.wh.motd` (whiteout: deletes `/etc/motd`), `srv/www/.wh..wh..opq` (opaque:
///   hides everything layer 1 had in `/srv/www`), `srv/www/new.html` = "layer 2\n",
///   `srv/www/fresh/file.txt` = "fresh in layer 2\n";
/// - layer 3: `srv/www/new.html` = "layer 3\n" (overrides layer 2), `etc/layer3.txt`.
pub mod multi {
    /// The file layer 2 deletes with a whiteout.
    pub const WHITEOUT_DELETED: &str = "/etc/motd";
    /// The whiteout entry in layer 2's tar.
    pub const WHITEOUT_ENTRY: &str = "etc/.wh.motd";
    /// The directory layer 2 replaces with an opaque directory.
    pub const OPAQUE_DIR: &str = "/srv/www";
    /// The opaque marker entry in layer 2's tar.
    pub const OPAQUE_ENTRY: &str = "srv/www/.wh..wh..opq";
    /// Paths that must not exist in the flattened rootfs.
    pub const ABSENT: &[&str] = &[
        "/etc/motd",
        "/srv/www/index.html",
        "/srv/www/old",
        "/srv/www/old/page.html",
    ];
    /// Files that must exist in the flattened rootfs, with their content.
    pub const PRESENT: &[(&str, &str)] = &[
        ("/srv/www/new.html", "layer 3\n"),
        ("/srv/www/fresh/file.txt", "fresh in layer 2\n"),
        ("/etc/layer3.txt", "added by layer 3\n"),
        ("/etc/hostname", "berth-test\n"),
        ("/etc/passwd", super::super::rootfs::PASSWD),
    ];
    /// Entries (names without trailing `/`) of the layer-2 and layer-3 tars, in order.
    pub const LAYER2_ENTRIES: &[&str] = &[
        "etc",
        "etc/.wh.motd",
        "srv",
        "srv/www",
        "srv/www/.wh..wh..opq",
        "srv/www/new.html",
        "srv/www/fresh",
        "srv/www/fresh/file.txt",
    ];
    pub const LAYER3_ENTRIES: &[&str] = &[
        "etc",
        "etc/layer3.txt",
        "srv",
        "srv/www",
        "srv/www/new.html",
    ];
}

fn layer2_tar() -> Vec<u8> {
    let mut t = TarBuilder::new();
    t.dir("etc", 0o755);
    t.file("etc/.wh.motd", 0o644, b"");
    t.dir("srv", 0o755);
    t.dir("srv/www", 0o755);
    t.file("srv/www/.wh..wh..opq", 0o644, b"");
    t.file("srv/www/new.html", 0o644, b"layer 2\n");
    t.dir("srv/www/fresh", 0o755);
    t.file("srv/www/fresh/file.txt", 0o644, b"fresh in layer 2\n");
    t.finish()
}

fn layer3_tar() -> Vec<u8> {
    let mut t = TarBuilder::new();
    t.dir("etc", 0o755);
    t.file("etc/layer3.txt", 0o644, b"added by layer 3\n");
    t.dir("srv", 0o755);
    t.dir("srv/www", 0o755);
    t.file("srv/www/new.html", 0o644, b"layer 3\n");
    t.finish()
}

/// OCI manifest with 3 layers; see [`multi`] for the exact paths.
pub fn multi_layer() -> &'static Image {
    cached("multi-layer", || {
        let layers = [
            base_layer().clone(),
            LayerBlob::from_tar(&layer2_tar(), Compression::default()),
            LayerBlob::from_tar(&layer3_tar(), Compression::default()),
        ];
        assemble("multi-layer", Flavor::Oci, host_arch(), &layers)
    })
}

/// What [`truncated_tar`] contains: layer 1 is the busybox rootfs, layer 2 a tar that ends right
/// after the last member's data padding, without the two zero end-of-archive blocks.
pub mod truncated {
    /// The first file of layer 2, with its content.
    pub const FILES: &[(&str, &str)] = &[(
        "/opt/truncated/note.txt",
        "end-of-archive blocks are missing\n",
    )];
    /// The second file of layer 2: 1500 bytes of `x` followed by nothing else.
    pub const LAST_FILE: &str = "/opt/truncated/last.bin";
    pub const LAST_FILE_LEN: usize = 1500;
}

/// Busybox rootfs + a layer whose tar lacks the end-of-archive blocks; see [`truncated`].
pub fn truncated_tar() -> &'static Image {
    cached("truncated-tar", || {
        let mut t = TarBuilder::new();
        t.dir("opt", 0o755);
        t.dir("opt/truncated", 0o755);
        for (path, content) in truncated::FILES {
            t.file(path.trim_start_matches('/'), 0o644, content.as_bytes());
        }
        let last = vec![b'x'; truncated::LAST_FILE_LEN];
        t.file(truncated::LAST_FILE.trim_start_matches('/'), 0o644, &last);
        let tar = t.finish_truncated();
        let layers = [
            base_layer().clone(),
            LayerBlob::from_tar(&tar, Compression::default()),
        ];
        assemble("truncated-tar", Flavor::Oci, host_arch(), &layers)
    })
}
