//! The base layer every runnable test image shares: a busybox-static rootfs.
//!
//! Contents (all owned 0:0, mtime [`FIXED_MTIME`](super::tarball::FIXED_MTIME), unless noted):
//! - `/bin/busybox` (the host's `/bin/busybox`, mode 0755) and one symlink `/bin/NAME -> busybox`
//!   per applet of `busybox --list`;
//! - `/etc/passwd` ([`PASSWD`]: root, nobody, app uid 1000), `/etc/group` ([`GROUP`]);
//! - `/tmp` (1777), `/root` (0700), `/home/app` (0755, owned 1000:1000), `/dev`, `/proc`, `/sys`,
//!   `/var/tmp`, `/usr/local/bin`;
//! - fixture files the multi-layer image later deletes or hides: [`BASE_FILES`].

use std::process::Command;
use std::sync::OnceLock;

use super::tarball::TarBuilder;

pub const BUSYBOX: &str = "/bin/busybox";
pub const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n\
app:x:1000:1000:app:/home/app:/bin/sh\n";
pub const GROUP: &str = "root:x:0:\nnobody:x:65534:\napp:x:1000:\n";
pub const APP_UID: u32 = 1000;

/// Regular files of the base layer besides busybox, passwd and group: (path, content).
/// `/etc/motd` is deleted by a whiteout and `/srv/www` made opaque in the multi-layer image.
pub const BASE_FILES: &[(&str, &str)] = &[
    ("/etc/motd", "berth test image\n"),
    ("/etc/hostname", "berth-test\n"),
    ("/srv/www/index.html", "<p>layer 1</p>\n"),
    ("/srv/www/old/page.html", "<p>old page from layer 1</p>\n"),
];

/// Applets that must be present (the test suite relies on them).
pub const REQUIRED_APPLETS: &[&str] = &[
    "sh", "ls", "cat", "echo", "sleep", "id", "hostname", "mount", "ps", "true", "false", "env",
    "stty", "printf", "grep", "wc", "head", "tail", "seq", "test", "touch", "mkdir", "rm",
    "unshare", "cut", "tr", "yes", "dd", "nc", "stat", "kill", "date", "which",
];

/// The applet names of the host's busybox, sorted (read once per process).
pub fn applets() -> &'static [String] {
    static APPLETS: OnceLock<Vec<String>> = OnceLock::new();
    APPLETS.get_or_init(|| {
        let out = Command::new(BUSYBOX)
            .arg("--list")
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run {BUSYBOX} --list ({e}): install busybox-static")
            });
        assert!(out.status.success(), "{BUSYBOX} --list failed");
        let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|n| !n.is_empty() && *n != "busybox" && !n.contains('/'))
            .map(String::from)
            .collect();
        names.sort();
        names.dedup();
        for need in REQUIRED_APPLETS {
            assert!(
                names.iter().any(|n| n == need),
                "busybox lacks applet {need}"
            );
        }
        names
    })
}

/// The uncompressed base layer tar (built once per process).
pub fn base_tar() -> &'static [u8] {
    static TAR: OnceLock<Vec<u8>> = OnceLock::new();
    TAR.get_or_init(|| {
        let busybox = std::fs::read(BUSYBOX)
            .unwrap_or_else(|e| panic!("cannot read {BUSYBOX} ({e}): install busybox-static"));
        let mut t = TarBuilder::new();
        t.dir("bin", 0o755);
        t.file("bin/busybox", 0o755, &busybox);
        for applet in applets() {
            t.symlink(&format!("bin/{applet}"), "busybox");
        }
        t.dir("dev", 0o755);
        t.dir("etc", 0o755);
        t.file("etc/passwd", 0o644, PASSWD.as_bytes());
        t.file("etc/group", 0o644, GROUP.as_bytes());
        t.dir("home", 0o755);
        t.dir_owned("home/app", 0o755, APP_UID.into(), APP_UID.into());
        t.dir("proc", 0o555);
        t.dir("root", 0o700);
        t.dir("srv", 0o755);
        t.dir("srv/www", 0o755);
        t.dir("srv/www/old", 0o755);
        t.dir("sys", 0o555);
        t.dir("tmp", 0o1777);
        t.dir("usr", 0o755);
        t.dir("usr/local", 0o755);
        t.dir("usr/local/bin", 0o755);
        t.dir("var", 0o755);
        t.dir("var/tmp", 0o1777);
        for (path, content) in BASE_FILES {
            t.file(path.trim_start_matches('/'), 0o644, content.as_bytes());
        }
        t.finish()
    })
}
