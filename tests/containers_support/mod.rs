//! Helpers for the container integration tests: a private engine root per test, a busybox root
//! filesystem, the real `berth` binary, and cleanup of containers and mounts on drop (also when
//! the test fails).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The berth binary under test.
pub fn berth_bin() -> &'static str {
    env!("CARGO_BIN_EXE_berth")
}

#[path = "../common/procs.rs"]
pub mod procs;
#[path = "../common/testroot.rs"]
mod testroot;

/// One test's engine root, on the shared test root ([`testroot::TestRoot`]: HOME, XDG dirs and
/// DOCKER_CONFIG of its own; removes every container, mount and file it made when dropped).
pub struct TestRoot {
    inner: testroot::TestRoot,
    root: PathBuf,
}

impl TestRoot {
    pub fn new() -> TestRoot {
        assert!(
            nix::unistd::geteuid().is_root(),
            "container tests need root"
        );
        let inner = testroot::TestRoot::new();
        let root = inner.path();
        TestRoot { inner, root }
    }

    /// The engine root (`--root`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A busybox root filesystem (a directory with `/bin/busybox`, its applets, passwd, group).
    pub fn rootfs(&self) -> PathBuf {
        let dir = self.root().join("rootfs-src");
        if dir.exists() {
            return dir;
        }
        make_busybox_rootfs(&dir);
        dir
    }

    /// Runs `berth --root ROOT args…` in the test's environment.
    pub fn berth(&self, args: &[&str]) -> Output {
        // The shared root's environment has BERTH_DEFAULT_NETWORK=none: no bridge to set up.
        self.inner.berth(args)
    }

    /// Runs berth and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.berth(args);
        assert!(
            out.status.success(),
            "berth {args:?} failed ({:?}): {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `run --rootfs` with the busybox rootfs; extra flags before the rootfs, command after.
    pub fn run(&self, flags: &[&str], cmd: &[&str]) -> Output {
        let rootfs = self.rootfs();
        let mut args = vec!["run", "--rootfs"];
        args.extend_from_slice(flags);
        let r = rootfs.to_string_lossy().into_owned();
        args.push(&r);
        args.extend_from_slice(cmd);
        self.berth(&args)
    }

    /// Mount points under this root.
    pub fn mounts(&self) -> Vec<String> {
        berth::engine::snapshot::mounts_under(self.root()).expect("mountinfo")
    }

    /// The engine (library) on this root.
    pub fn engine(&self) -> berth::engine::Engine {
        berth::engine::Engine::open(self.root()).expect("open engine")
    }
}

/// Writes a busybox root filesystem into `dir`.
pub fn make_busybox_rootfs(dir: &Path) {
    for d in ["bin", "etc", "tmp", "root", "home/app"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", dir.join("bin/busybox")).expect("busybox-static installed");
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" && !applet.is_empty() {
            let _ = std::os::unix::fs::symlink("busybox", dir.join("bin").join(applet));
        }
    }
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n\
         nobody:x:65534:65534:nobody:/:/bin/false\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("etc/group"),
        "root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n",
    )
    .unwrap();
    std::fs::write(dir.join("tmp/.keep"), "").unwrap();
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
