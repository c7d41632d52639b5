//! The integration-test harness, shared by every file in `tests/` as `mod common;`.
//!
//! - [`images`]: OCI and Docker test images built from the host's busybox-static with fixed
//!   timestamps, so their digests are stable (single layer, multi-layer with whiteouts, an index,
//!   Docker schema 2, a truncated layer tar, hostile layers, big random layers).
//! - [`registry`]: a real `docker-registry` on a free loopback port (plain, basic auth, or token
//!   auth with our own [`token`] issuer), with `push` over the registry HTTP API.
//! - [`oci_layout`]: writes an image as an OCI image layout directory (for skopeo/umoci peers).
//! - [`sparse`]: images that lack some of the runtime's mount points (the init layer's tests).
//! - [`fstree`]: a directory tree as a comparable map (kind, mode, owner, content).
//! - [`throttle`]: a loopback proxy that slows a registry's answers (catch a pull mid-layer).
//! - [`docker`]: a private dockerd (own data/exec roots and socket, no iptables, no bridge) as a
//!   judge of interchange; tests skip with a message when dockerd is not installed.
//! - [`testroot`]: a temporary engine root that runs the `berth` binary and cleans up after itself.
//!
//! Every test crate uses only part of this, so dead code and unused re-exports are allowed.
#![allow(dead_code, unused_imports)]

pub mod big;
pub mod docker;
pub mod file_server;
pub mod fstree;
pub mod hostile;
pub mod images;
pub mod layered;
pub mod oci_layout;
pub mod procs;
pub mod push;
pub mod registry;
pub mod rootfs;
pub mod sparse;
pub mod symlinked;
pub mod tarball;
pub mod testroot;
pub mod throttle;
pub mod token;

pub use images::Image;
pub use registry::{Auth, Registry};
pub use testroot::TestRoot;

use sha2::{Digest, Sha256};

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Runs `f` on a fresh thread and returns its result. Blocking HTTP clients (reqwest::blocking)
/// panic when used from inside a tokio runtime; running them on their own thread makes the
/// harness usable from `#[tokio::test]` functions too.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// A loopback registry holding the busybox test image as `test/busybox:latest`, pulled into
/// `root`. Returns the registry (keep it alive while it is used) and the reference.
pub fn pulled_busybox(root: &TestRoot) -> (Registry, String) {
    let reg = Registry::start(Auth::None);
    reg.push(images::single_layer(), "test/busybox:latest");
    let name = reg.reference("test/busybox:latest");
    root.berth_ok(["pull", "-q", &name]);
    (reg, name)
}

/// Removes the socket file of the tmux server `-L name` (tmux leaves it behind after
/// `kill-server`).
pub fn remove_tmux_socket(name: &str) {
    let dir =
        std::env::var_os("TMUX_TMPDIR").map_or_else(|| "/tmp".into(), std::path::PathBuf::from);
    let uid = nix::unistd::getuid();
    let _ = std::fs::remove_file(dir.join(format!("tmux-{uid}")).join(name));
}
