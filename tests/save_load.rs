//! `save` and `load` against the real peers: skopeo and podman read what berth saves
//! (docker-archive, oci-archive, OCI layout) and berth loads what they write; round trips run;
//! bad archives are refused with nothing kept.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::images::{self, Image};
use common::{Auth, Registry, TestRoot};

/// Runs skopeo (never through a proxy) and returns stdout; panics with stderr on failure.
fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .output()
        .expect("run skopeo (install the skopeo package)");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Pushes `image` as `repo` and pulls it into `root`; returns the reference.
fn pulled(reg: &Registry, root: &TestRoot, image: &Image, repo: &str) -> String {
    reg.push(image, repo);
    let name = reg.reference(repo);
    root.berth_ok(["pull", "-q", &name]);
    name
}

fn entries(tar_path: &Path) -> Vec<String> {
    let f = std::fs::File::open(tar_path).expect("open archive");
    let mut a = tar::Archive::new(f);
    a.entries()
        .expect("tar")
        .map(|e| {
            e.expect("entry")
                .path()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn blob_count(root: &TestRoot) -> usize {
    std::fs::read_dir(root.path().join("blobs/sha256"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn image_ids(root: &TestRoot) -> String {
    root.berth_ok(["images", "-q", "--no-trunc"])
}

/// Nothing of a failed load: no image, no new blob, no layer, nothing in tmp/ or ingest/.
fn assert_nothing_kept(root: &TestRoot, blobs_before: usize) {
    assert_eq!(image_ids(root), "", "no image recorded");
    assert_eq!(blob_count(root), blobs_before, "no blob kept");
    for dir in ["layers", "tmp", "ingest"] {
        let n = std::fs::read_dir(root.path().join(dir))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(n, 0, "{dir}/ is empty");
    }
}

#[test]
fn save_writes_a_docker_archive_that_is_an_oci_layout_and_skopeo_reads_it() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let multi = pulled(&reg, &root, images::multi_layer(), "test/multi:v1");
    let schema2 = pulled(&reg, &root, images::schema2(), "test/schema2:v1");
    let dir = tempfile::tempdir().unwrap();

    // Two images in one docker-archive: docker 25's files, every blob once.
    let both = dir.path().join("both.tar");
    root.berth_ok(["save", "-o", both.to_str().unwrap(), &multi, &schema2]);
    let names = entries(&both);
    for f in ["manifest.json", "index.json", "oci-layout", "repositories"] {
        assert!(names.contains(&f.to_string()), "{f} in {names:?}");
    }
    let blobs = names
        .iter()
        .filter(|n| n.starts_with("blobs/sha256/"))
        .count();
    // multi: config + 3 layers + manifest; schema2: config + converted manifest (its layer is
    // multi's base layer, written once).
    assert_eq!(blobs, 5 + 2, "{names:?}");
    let out = skopeo(&[
        "inspect",
        &format!("docker-archive:{}:{multi}", both.display()),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Labels"][images::LABEL], "multi-layer");
    assert_eq!(v["Layers"].as_array().unwrap().len(), 3);

    // One image per format, read by skopeo; a copy out of it reads every blob.
    let id = images::schema2().config_digest.clone().unwrap();
    for (format, transport) in [
        ("docker-archive", "docker-archive"),
        ("oci-archive", "oci-archive"),
        ("oci-dir", "oci"),
    ] {
        let out_path = dir.path().join(format!("one-{format}"));
        root.berth_ok([
            "save",
            "--format",
            format,
            "-o",
            out_path.to_str().unwrap(),
            &schema2,
        ]);
        let src = format!("{transport}:{}", out_path.display());
        let raw = skopeo(&["inspect", "--raw", "--config", &src]);
        let config: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(
            config["config"]["Labels"][images::LABEL],
            "schema2",
            "{format}"
        );
        let copy = dir.path().join(format!("copy-{format}"));
        skopeo(&["copy", &src, &format!("dir:{}", copy.display())]);
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(copy.join("manifest.json")).unwrap()).unwrap();
        let hex = id.trim_start_matches("sha256:");
        assert_eq!(manifest["config"]["digest"], id, "{format}");
        assert!(copy.join(hex).is_file(), "{format}: config copied");
    }

    // Bad requests: an unknown format, a missing image, a terminal-less stdout is fine but
    // oci-dir needs -o; nothing is written.
    let bad = dir.path().join("bad.tar");
    let err = root.berth_err([
        "save",
        "--format",
        "zip",
        "-o",
        bad.to_str().unwrap(),
        &multi,
    ]);
    assert!(err.contains("unknown archive format \"zip\""), "{err}");
    let err = root.berth_err(["save", "-o", bad.to_str().unwrap(), "no-such:image"]);
    assert!(err.contains("no such image"), "{err}");
    assert!(!bad.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn saved_images_load_into_a_fresh_root_and_run() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let single = pulled(&reg, &root, images::single_layer(), "test/single:v1");
    let multi = pulled(&reg, &root, images::multi_layer(), "test/multi:v1");
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("both.tar");
    root.berth_ok(["save", "-o", archive.to_str().unwrap(), &single, &multi]);

    // From a file.
    let fresh = TestRoot::new();
    let out = fresh.berth_ok(["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(
        out,
        format!("Loaded image: {single}\nLoaded image: {multi}\n"),
        "{out}"
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&fresh.berth_ok(["image", "inspect", &multi])).unwrap();
    assert_eq!(
        inspect[0]["Id"],
        images::multi_layer().config_digest.clone().unwrap()
    );
    let out = fresh.berth_ok(["run", "--rm", &single, "echo", "loaded"]);
    assert_eq!(out.trim(), "loaded");

    // gzip-compressed, from stdin, into another fresh root; loading twice is fine.
    let gz = dir.path().join("both.tar.gz");
    let data = std::fs::read(&archive).unwrap();
    std::fs::write(
        &gz,
        common::tarball::gzip(&data, flate2::Compression::fast()),
    )
    .unwrap();
    let other = TestRoot::new();
    for _ in 0..2 {
        let child = other
            .cmd()
            .arg("load")
            .stdin(std::fs::File::open(&gz).unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("Loaded image: {single}")));
    }
    assert_eq!(image_ids(&other).lines().count(), 2);

    // Saved by id: no names, so load reports the id.
    let id = images::single_layer().config_digest.clone().unwrap();
    let by_id = dir.path().join("by-id.tar");
    root.berth_ok(["save", "-o", by_id.to_str().unwrap(), &id[7..19]]);
    let third = TestRoot::new();
    let out = third.berth_ok(["load", "-i", by_id.to_str().unwrap()]);
    assert_eq!(out, format!("Loaded image ID: {id}\n"));
}

#[test]
fn loads_what_skopeo_writes() {
    let reg = Registry::start(Auth::None);
    let image = images::multi_layer();
    reg.push(image, "peer/multi:v1");
    let src = format!("docker://{}", reg.reference("peer/multi:v1"));
    let dir = tempfile::tempdir().unwrap();
    let name = "example.test/peer/multi:v1";
    let docker_tar = dir.path().join("skopeo-docker.tar");
    let oci_tar = dir.path().join("skopeo-oci.tar");
    let oci_dir = dir.path().join("skopeo-oci-dir");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &src,
        &format!("docker-archive:{}:{name}", docker_tar.display()),
    ]);
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &src,
        &format!("oci-archive:{}:{name}", oci_tar.display()),
    ]);
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &src,
        &format!("oci:{}:{name}", oci_dir.display()),
    ]);
    let id = image.config_digest.clone().unwrap();
    for input in [&docker_tar, &oci_tar, &oci_dir] {
        let root = TestRoot::new();
        let out = root.berth_ok(["load", "-i", input.to_str().unwrap()]);
        assert_eq!(
            out,
            format!("Loaded image: {name}\n"),
            "{}",
            input.display()
        );
        let v: serde_json::Value =
            serde_json::from_str(&root.berth_ok(["image", "inspect", name])).unwrap();
        assert_eq!(v[0]["Id"], id, "{}", input.display());
        let diff_ids: Vec<String> = image.layers.iter().map(|l| l.diff_id.clone()).collect();
        assert_eq!(v[0]["RootFS"]["Layers"], serde_json::json!(diff_ids));
        // The multi-layer image's whiteout hid this file; the layers stacked right.
        let out = root.berth_ok(["run", "--rm", name, "ls", "/"]);
        assert!(out.contains("bin"), "{out}");
    }
}

/// A docker-archive as docker before 25 wrote it: `<id>/layer.tar` (uncompressed), a config
/// named `<hex>.json`, a repeated layer as a symlink, `manifest.json` and `repositories`.
#[test]
fn loads_the_legacy_docker_archive_layout() {
    let base = common::rootfs::base_tar().to_vec();
    let diff = common::sha256_digest(&base);
    let config = serde_json::json!({
        "architecture": images::host_arch(), "os": "linux",
        "config": {"Cmd": ["sh"], "Env": [common::rootfs::PATH_ENV]},
        "rootfs": {"type": "layers", "diff_ids": [diff, diff]},
    });
    let config = serde_json::to_vec(&config).unwrap();
    let cfg_hex = common::sha256_digest(&config)[7..].to_string();
    let manifest = serde_json::json!([{
        "Config": format!("{cfg_hex}.json"),
        "RepoTags": ["legacy/box:old"],
        "Layers": ["aaaa/layer.tar", "bbbb/layer.tar"],
    }]);
    let mut t = common::tarball::TarBuilder::new();
    t.dir("aaaa", 0o755)
        .file("aaaa/layer.tar", 0o644, &base)
        .dir("bbbb", 0o755)
        .symlink("bbbb/layer.tar", "../aaaa/layer.tar")
        .file(&format!("{cfg_hex}.json"), 0o644, &config)
        .file(
            "manifest.json",
            0o644,
            &serde_json::to_vec(&manifest).unwrap(),
        )
        .file("repositories", 0o644, br#"{"legacy/box":{"old":"bbbb"}}"#);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.tar");
    std::fs::write(&path, t.finish()).unwrap();
    let root = TestRoot::new();
    let out = root.berth_ok(["load", "-i", path.to_str().unwrap()]);
    assert_eq!(out, "Loaded image: legacy/box:old\n");
    let out = root.berth_ok(["run", "--rm", "legacy/box:old", "echo", "legacy"]);
    assert_eq!(out.trim(), "legacy");
    // And berth's own save of it is read by skopeo.
    let saved = dir.path().join("resaved.tar");
    root.berth_ok(["save", "-o", saved.to_str().unwrap(), "legacy/box:old"]);
    skopeo(&["inspect", &format!("docker-archive:{}", saved.display())]);
}

/// Rewrites the tar at `src` into `dst`, passing each entry through `edit` (None drops it).
fn rewrite(src: &Path, dst: &Path, mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>) {
    let mut a = tar::Archive::new(std::fs::File::open(src).unwrap());
    let mut b = tar::Builder::new(std::fs::File::create(dst).unwrap());
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        let mut h = e.header().clone();
        if let Some(data) = edit(&path, data) {
            h.set_size(data.len() as u64);
            h.set_cksum();
            b.append_data(&mut h, &path, data.as_slice()).unwrap();
        }
    }
    b.into_inner().unwrap().flush().unwrap();
}

#[test]
fn bad_archives_are_refused_and_leave_nothing() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::multi_layer();
    let name = pulled(&reg, &root, image, "test/multi:v1");
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.tar");
    root.berth_ok(["save", "-o", good.to_str().unwrap(), &name]);
    let layer_hex = image.layers[1].digest[7..].to_string();
    let layer_path = format!("blobs/sha256/{layer_hex}");

    let mut cases: Vec<(&str, PathBuf, &str)> = Vec::new();
    // Truncated in the middle of the archive.
    let truncated = dir.path().join("truncated.tar");
    let data = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &data[..data.len() / 2]).unwrap();
    cases.push(("truncated", truncated, "truncated"));
    // A layer whose bytes do not match its name.
    let wrong = dir.path().join("wrong-digest.tar");
    rewrite(&good, &wrong, |p, mut d| {
        if p == layer_path {
            let n = d.len() / 2;
            d[n] ^= 0xff;
        }
        Some(d)
    });
    cases.push(("wrong digest", wrong, "does not match"));
    // A layer whose tar is right but whose blob is not (its gzip header's MTIME changed): it
    // unpacks while the archive is read, then the ingest refuses it.
    let mtime = dir.path().join("mtime.tar");
    rewrite(&good, &mtime, |p, mut d| {
        if p == layer_path {
            d[4] ^= 0x5a;
        }
        Some(d)
    });
    cases.push(("right tar, wrong blob", mtime, "does not match"));
    // A layer the manifests name is missing.
    let missing = dir.path().join("missing.tar");
    rewrite(&good, &missing, |p, d| (p != layer_path).then_some(d));
    cases.push(("missing blob", missing, "lacks"));
    // Neither index.json nor manifest.json.
    let none = dir.path().join("no-manifest.tar");
    rewrite(&good, &none, |p, d| {
        (p != "index.json" && p != "manifest.json").then_some(d)
    });
    cases.push(("no manifest", none, "neither manifest.json nor index.json"));
    // Not a tar at all.
    let garbage = dir.path().join("garbage.tar");
    std::fs::write(&garbage, vec![0x42u8; 4096]).unwrap();
    cases.push(("garbage", garbage, "tar"));

    for (what, path, expect) in cases {
        let fresh = TestRoot::new();
        let before = blob_count(&fresh);
        let out = fresh.berth(["load", "-i", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{what}: {err}");
        assert!(err.contains(expect), "{what}: {err}");
        assert_nothing_kept(&fresh, before);
    }

    // A blob corrupted in the store is refused by save, and no file is left.
    let blob = root.path().join(&layer_path);
    let mut bytes = std::fs::read(&blob).unwrap();
    let n = bytes.len() / 3;
    bytes[n] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let out_path = dir.path().join("corrupt.tar");
    let err = root.berth_err(["save", "-o", out_path.to_str().unwrap(), &name]);
    assert!(err.contains("corrupt"), "{err}");
    assert!(!out_path.exists());
}

/// podman as a judge: it loads what berth saves (same image id), berth loads what it saves.
#[test]
fn podman_loads_what_berth_saves_and_back() {
    if std::process::Command::new("podman")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("podman is missing: install it (scripts/deps.sh test)");
    }
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::multi_layer();
    let name = pulled(&reg, &root, image, "test/multi:v1");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("podman");
    let _unmount = PodmanStore(store.clone());
    let podman = |args: &[&str]| {
        let out = Command::new("podman")
            .arg("--root")
            .arg(store.join("storage"))
            .arg("--runroot")
            .arg(store.join("run"))
            .args([
                "--storage-driver",
                "overlay",
                "--cgroup-manager",
                "cgroupfs",
            ])
            .args(["--events-backend", "file"])
            .args(args)
            .output()
            .expect("run podman");
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let saved = dir.path().join("berth.tar");
    root.berth_ok(["save", "-o", saved.to_str().unwrap(), &name]);
    let out = podman(&["load", "-i", saved.to_str().unwrap()]);
    assert!(out.contains(&name), "{out}");
    let id = podman(&["image", "inspect", "--format", "{{.Id}}", &name]);
    let want = image.config_digest.clone().unwrap();
    assert_eq!(id.trim(), want.trim_start_matches("sha256:"));

    let back = dir.path().join("podman.tar");
    podman(&["save", "-o", back.to_str().unwrap(), &name]);
    let fresh = TestRoot::new();
    let out = fresh.berth_ok(["load", "-i", back.to_str().unwrap()]);
    assert_eq!(out, format!("Loaded image: {name}\n"));
    let v: serde_json::Value =
        serde_json::from_str(&fresh.berth_ok(["image", "inspect", &name])).unwrap();
    assert_eq!(v[0]["Id"], want);
    let ran = fresh.berth_ok(["run", "--rm", &name, "echo", "via podman"]);
    assert_eq!(ran.trim(), "via podman");
}

/// Undoes the bind mount podman makes of its overlay store, also when the test fails.
struct PodmanStore(PathBuf);

impl Drop for PodmanStore {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-R")
            .arg(self.0.join("storage/overlay"))
            .stderr(Stdio::null())
            .status();
    }
}
