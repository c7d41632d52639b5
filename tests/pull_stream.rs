//! Unpacking while downloading (`berth pull` streams every layer into the unpacker as it
//! arrives): what the stream made is kept only for a verified blob, a download cut off leaves
//! nothing, and layers unpacked at once, whiteouts across them, make the tree a sequential
//! unpack (umoci's) makes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::images;
use common::throttle::ThrottledProxy;
use common::{sha256_digest, Auth, Registry, TestRoot};

/// What the pull logs when a layer could not be streamed (src/engine/distribution/pull.rs).
const FALLBACK: &str = "unpacking from the stored blob";

fn listing(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Nothing of a failed pull: no image, no layer, no partial, no staging dir, none of the blobs
/// `unverified` (verified blobs of other layers stay as a cache).
fn assert_nothing_left(root: &TestRoot, unverified: &[&String]) {
    let out = root.berth_ok(["images", "-q"]);
    assert!(out.trim().is_empty(), "nothing listed: {out}");
    for dir in ["layers", "tmp", "ingest"] {
        assert_eq!(
            listing(&root.path().join(dir)),
            Vec::<String>::new(),
            "{dir}"
        );
    }
    for d in unverified {
        let blob = root
            .path()
            .join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"));
        assert!(!blob.exists(), "blob {d} kept");
    }
}

fn pull_logged(root: &TestRoot, name: &str) -> std::process::Output {
    root.cmd()
        .env("RUST_LOG", "berth=debug")
        .args(["pull", "-q", name])
        .output()
        .expect("run berth pull")
}

#[test]
fn a_blob_with_the_right_layer_but_a_wrong_digest_is_unpacked_then_discarded() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::multi_layer();
    reg.push(image, "test/mtime:latest");
    // The gzip header's MTIME changed: the same size, the same tar inside (so the unpack and
    // its diff id check succeed), only the blob's digest is wrong.
    let bad = &image.layers[0].digest;
    let path = reg.blob_data_path(bad);
    let mut data = std::fs::read(&path).unwrap();
    assert_eq!(&data[..2], &[0x1f, 0x8b], "a gzip layer");
    data[4] ^= 0x5a;
    std::fs::write(&path, data).unwrap();

    let out = pull_logged(&root, &reg.reference("test/mtime:latest"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains(&format!("expected {bad}")), "{err}");
    assert!(!err.contains("diff id"), "the tar inside was right: {err}");
    assert_nothing_left(&root, &[bad]);
}

#[test]
fn a_pull_cut_off_mid_layer_leaves_nothing() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::big(2, 6 << 20);
    reg.push(image, "test/cut:latest");
    let proxy = ThrottledProxy::start(reg.addr(), 2 << 20);
    let name = format!("{}/test/cut:latest", proxy.addr());
    let mut child = root
        .cmd()
        .args(["pull", "-q", &name])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Cut the connections once the layers are half way (unpacked parts exist in tmp/).
    let deadline = Instant::now() + Duration::from_secs(30);
    while proxy.bytes_sent() < image.layers_size() / 2 {
        assert!(
            Instant::now() < deadline && child.try_wait().unwrap().is_none(),
            "the pull ended before it was half way"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !listing(&root.path().join("tmp")).is_empty(),
        "layers are unpacked while they download"
    );
    drop(proxy);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("broke off") || err.contains("cannot"), "{err}");
    let digests: Vec<&String> = image.layers.iter().map(|l| &l.digest).collect();
    assert_nothing_left(&root, &digests);
}

struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

#[test]
fn layers_streamed_at_once_give_the_tree_of_a_sequential_unpack() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::multi_layer();
    reg.push(image, "test/multi:latest");
    let out = pull_logged(&root, &reg.reference("test/multi:latest"));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(!log.contains(FALLBACK), "every layer was streamed: {log}");

    // berth's layers, mounted read-only with overlayfs in berth's order.
    let rows = root.berth_ok(["image", "inspect", &reg.reference("test/multi:latest")]);
    let inspect: serde_json::Value = serde_json::from_str(&rows).unwrap();
    let diff_ids: Vec<String> = inspect[0]["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    let mut chains: Vec<String> = Vec::new();
    for d in &diff_ids {
        let next = match chains.last() {
            None => d.clone(),
            Some(prev) => sha256_digest(format!("{prev} {d}").as_bytes()),
        };
        chains.push(next);
    }
    let lower: Vec<String> = chains
        .iter()
        .rev()
        .map(|c| {
            let p = root
                .path()
                .join("layers")
                .join(c.trim_start_matches("sha256:"));
            assert!(p.is_dir(), "layer {c} unpacked");
            p.display().to_string()
        })
        .collect();
    let mnt = root.base().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    nix::mount::mount(
        Some("overlay"),
        &mnt,
        Some("overlay"),
        nix::mount::MsFlags::MS_RDONLY,
        Some(format!("lowerdir={}", lower.join(":")).as_str()),
    )
    .expect("mount overlay");
    let _unmount = Unmount(mnt.clone());

    // umoci applies the same layers one after the other into one directory.
    let layout = root.base().join("oci");
    image.write_oci_layout(&layout, "img");
    let bundle = root.base().join("bundle");
    let status = Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:img", layout.display()))
        .arg(&bundle)
        .stdout(Stdio::null())
        .status()
        .expect("run umoci (scripts/deps.sh test installs it)");
    assert!(status.success());
    let want = common::fstree::tree(&bundle.join("rootfs"));
    let got = common::fstree::tree(&mnt);
    assert!(want.len() > 10, "{want:?}");
    for (path, entry) in &want {
        assert_eq!(got.get(path), Some(entry), "{path}");
    }
    let extra: Vec<&String> = got.keys().filter(|p| !want.contains_key(*p)).collect();
    assert!(extra.is_empty(), "only in berth's tree: {extra:?}");
}
