//! The distribution-like benchmark image: Debian bookworm as debootstrap (minbase, plus
//! iputils-ping, libcap2-bin, python3's and perl's standard libraries and ca-certificates) makes it
//! from the Debian package mirror, in three layers the way a Dockerfile builds one:
//!
//! 1. the rootfs (`/dev`, `/proc`, `/sys`, downloaded `.deb`s and apt lists left out): ~10,000
//!    entries with the usrmerge symlinks, setuid programs, hard links (perl), `ping`'s
//!    `security.capability` xattr;
//! 2. "apt-get install and clean up": whiteouts of every `/usr/share/doc/lib*` and of
//!    `/usr/share/man`, an opaque `/var/log`, files replaced (`/etc/passwd`, `/usr/bin/ls`),
//!    a few hundred new ones;
//! 3. a tool layer: a setuid copy, a copy with a file capability set by `setcap`, a hard link,
//!    deletions of layer 2's files.
//!
//! The debootstrap rootfs is cached in `$BERTH_BENCH_CACHE` (default `/var/cache/berth-bench`),
//! built once; the layers are tarred (GNU tar, PAX, xattrs) and gzipped at every run.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::Compression;

use super::common::images::{assemble, host_arch, Flavor, Image, LayerBlob};

/// The Debian mirror debootstrap fetches from (a package registry, reachable here).
const MIRROR: &str = "http://deb.debian.org/debian";

/// The image, built in this process (about 20 s with the rootfs cached).
pub fn distro_image() -> Image {
    let rootfs = rootfs();
    let work = tempfile::tempdir().expect("distro layer dir");
    let l2 = work.path().join("layer2");
    let l3 = work.path().join("layer3");
    layer2(&rootfs, &l2);
    layer3(&rootfs, &l3);
    let excludes = [
        "./dev/*",
        "./proc/*",
        "./sys/*",
        "./var/cache/apt/archives/*.deb",
        "./var/cache/apt/*.bin",
        "./var/lib/apt/lists/*",
        "./debootstrap",
    ];
    let blobs: Vec<LayerBlob> = [
        (rootfs.as_path(), &excludes[..]),
        (l2.as_path(), &[][..]),
        (l3.as_path(), &[][..]),
    ]
    .into_iter()
    .map(|(dir, ex)| LayerBlob::from_tar(&gnu_tar(dir, ex), Compression::default()))
    .collect();
    assemble("distro", Flavor::Oci, host_arch(), &blobs)
}

/// The cached debootstrap rootfs, made on first use.
fn rootfs() -> PathBuf {
    let cache = std::env::var_os("BERTH_BENCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/berth-bench"));
    let dir = cache.join("bookworm");
    if dir.join("usr/bin/perl").exists() {
        return dir;
    }
    std::fs::create_dir_all(&cache).expect("benchmark cache dir");
    let partial = cache.join(format!("bookworm.partial-{}", std::process::id()));
    eprintln!(
        "building the Debian rootfs with debootstrap into {} (once)",
        dir.display()
    );
    let ok = Command::new("debootstrap")
        .args([
            "--variant=minbase",
            "--include=iputils-ping,libcap2-bin,python3-minimal,libpython3.11-stdlib,perl-modules-5.36,ca-certificates",
            "bookworm",
        ])
        .arg(&partial)
        .arg(MIRROR)
        .status()
        .expect("run debootstrap (scripts/deps.sh bench installs it)");
    assert!(ok.success(), "debootstrap failed");
    std::fs::rename(&partial, &dir).expect("move the rootfs into the cache");
    dir
}

/// A PAX tar of `dir` as a build tool writes one: numeric owners, xattrs, hard links kept, no
/// atime/ctime records.
fn gnu_tar(dir: &Path, excludes: &[&str]) -> Vec<u8> {
    let mut c = Command::new("tar");
    c.args([
        "--format=posix",
        "--pax-option=delete=atime,delete=ctime",
        "--xattrs",
        "--xattrs-include=security.capability",
        "--numeric-owner",
        "--sort=name",
    ]);
    for e in excludes {
        c.arg(format!("--exclude={e}"));
    }
    c.arg("-C").arg(dir).args(["-cf", "-", "."]);
    let out = c.output().expect("run tar");
    assert!(
        out.status.success(),
        "tar of {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn sh(script: &str, dir: &Path) {
    let out = Command::new("sh")
        .args(["-euc", script])
        .current_dir(dir)
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "layer script failed: {script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An empty file `.wh.NAME` next to where NAME was: the OCI whiteout.
fn whiteout(layer: &Path, path: &str) {
    let p = Path::new(path);
    let parent = layer.join(p.parent().expect("whiteout of the root"));
    std::fs::create_dir_all(&parent).expect("whiteout parent");
    let name = p.file_name().expect("whiteout name").to_string_lossy();
    std::fs::write(parent.join(format!(".wh.{name}")), b"").expect("write whiteout");
}

fn layer2(rootfs: &Path, l: &Path) {
    std::fs::create_dir_all(l).expect("layer 2 dir");
    let doc = rootfs.join("usr/share/doc");
    let mut gone = 0;
    for e in std::fs::read_dir(&doc)
        .expect("read usr/share/doc")
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("lib") {
            whiteout(l, &format!("usr/share/doc/{name}"));
            gone += 1;
        }
    }
    assert!(gone > 10, "expected lib* docs to delete, found {gone}");
    whiteout(l, "usr/share/man");
    // /var/log replaced as a whole: an opaque directory.
    std::fs::create_dir_all(l.join("var/log/apt")).expect("var/log");
    std::fs::write(l.join("var/log/.wh..wh..opq"), b"").expect("opaque marker");
    std::fs::write(
        l.join("var/log/apt/history.log"),
        b"Start-Date: 2024-01-01\n",
    )
    .expect("log");
    // Replaced files, kept with their owners and modes by tar.
    let r = rootfs.display();
    sh(
        &format!(
            "mkdir -p etc usr/bin opt/app/lib
             cp -a {r}/etc/passwd {r}/etc/group etc/
             echo 'app:x:1000:1000::/opt/app:/bin/sh' >> etc/passwd
             echo 'app:x:1000:' >> etc/group
             cp -a {r}/usr/bin/ls usr/bin/ls
             i=0
             while [ $i -lt 400 ]; do
               printf 'module %d\\n' $i > opt/app/lib/mod-$i.py
               i=$((i+1))
             done
             chown -R 1000:1000 opt/app
             ln -s /opt/app/lib/mod-1.py opt/app/main.py"
        ),
        l,
    );
}

fn layer3(rootfs: &Path, l: &Path) {
    std::fs::create_dir_all(l.join("usr/local/bin")).expect("layer 3 dir");
    let r = rootfs.display();
    sh(
        &format!(
            "cp -a {r}/usr/bin/ping usr/local/bin/ping2
             setcap cap_net_raw+ep usr/local/bin/ping2
             cp -a {r}/usr/bin/su usr/local/bin/su2
             chmod 4755 usr/local/bin/su2
             ln usr/local/bin/su2 usr/local/bin/su3
             mkdir -p opt/app/lib"
        ),
        l,
    );
    let caps = Command::new("getcap")
        .arg(l.join("usr/local/bin/ping2"))
        .output()
        .expect("getcap");
    assert!(
        String::from_utf8_lossy(&caps.stdout).contains("cap_net_raw"),
        "setcap did not leave a file capability"
    );
    let mode = std::fs::metadata(l.join("usr/local/bin/su2"))
        .expect("su2")
        .permissions()
        .mode();
    assert!(mode & 0o4000 != 0, "su2 is not setuid");
    for i in 0..50 {
        whiteout(l, &format!("opt/app/lib/mod-{i}.py"));
    }
}
