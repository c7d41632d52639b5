//! `berth pull` against a real docker-registry on loopback (the shared harness in tests/common).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::images::{self, multi, Image};
use common::throttle::ThrottledProxy;
use common::{sha256_digest, Auth, Registry, TestRoot};

fn images_json(root: &TestRoot) -> Vec<serde_json::Value> {
    root.berth_ok(["images", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

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

/// Chain ids of an image's layers, as the OCI spec defines them.
fn chain_ids(image: &Image) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in &image.layers {
        let next = match out.last() {
            None => l.diff_id.clone(),
            Some(prev) => sha256_digest(format!("{prev} {}", l.diff_id).as_bytes()),
        };
        out.push(next);
    }
    out
}

fn layer_dir(root: &TestRoot, chain: &str) -> PathBuf {
    root.path()
        .join("layers")
        .join(chain.trim_start_matches("sha256:"))
}

/// Nothing of a pull remains but verified blobs and layers: no partials, no staging dirs.
fn assert_no_garbage(root: &TestRoot) {
    assert_eq!(
        listing(&root.path().join("ingest")),
        Vec::<String>::new(),
        "ingest"
    );
    assert_eq!(
        listing(&root.path().join("tmp")),
        Vec::<String>::new(),
        "tmp"
    );
}

fn row<'a>(rows: &'a [serde_json::Value], repository: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|i| i["Repository"] == repository)
        .unwrap_or_else(|| panic!("{repository} not listed: {rows:?}"))
}

#[test]
fn each_image_kind_pulls_with_the_registrys_digests() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let kinds: [(&str, &Image); 5] = [
        ("test/single:latest", images::single_layer()),
        ("test/schema2:v1", images::schema2()),
        ("test/index:latest", images::index()),
        ("test/list:latest", images::manifest_list()),
        ("test/truncated:latest", images::truncated_tar()),
    ];
    for (name, image) in kinds {
        let digest = reg.push(image, name);
        assert_eq!(digest, image.digest);
        let out = root.berth_ok(["pull", &reg.reference(name)]);
        assert!(out.contains(&format!("Digest: {digest}")), "{out}");
        assert!(out.contains("Status: Downloaded newer image for"), "{out}");
        assert!(
            out.ends_with(&format!("{}\n", reg.reference(name))),
            "{out}"
        );
    }
    let rows = images_json(&root);
    for (name, image) in kinds {
        let (repo, tag) = name.split_once(':').unwrap();
        let r = row(&rows, &reg.reference(repo));
        assert_eq!(r["Digest"], image.digest, "{name}: the registry's digest");
        assert_eq!(r["Tag"], tag);
        // An index or manifest list resolves to this host's (amd64) manifest.
        let leaf = if image.children.is_empty() {
            image
        } else {
            image.host_child()
        };
        assert_eq!(r["Id"], leaf.config_digest.clone().unwrap(), "{name}");
        assert_eq!(r["Platform"], format!("linux/{}", images::host_arch()));
        for chain in chain_ids(leaf) {
            assert!(layer_dir(&root, &chain).is_dir(), "{name}: layer {chain}");
        }
    }
    // The truncated layer tar (no end-of-archive blocks) unpacked completely.
    let trunc = images::truncated_tar();
    let top = layer_dir(&root, chain_ids(trunc).last().unwrap());
    let last =
        std::fs::metadata(top.join(images::truncated::LAST_FILE.trim_start_matches('/'))).unwrap();
    assert_eq!(last.len() as usize, images::truncated::LAST_FILE_LEN);

    // Pulling again fetches nothing and says so.
    let again = root.berth_ok(["pull", &reg.reference("test/single:latest")]);
    assert!(again.contains("Already exists"), "{again}");
    assert!(again.contains("Image is up to date"), "{again}");
    assert_no_garbage(&root);
}

#[test]
fn platform_flag_chooses_from_an_index_and_names_what_it_has() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let index = images::index();
    reg.push(index, "test/multi:latest");
    let name = reg.reference("test/multi:latest");
    let err = root.berth_err(["pull", "--platform", "linux/s390x", &name]);
    assert!(
        err.contains("linux/s390x") && err.contains("linux/amd64"),
        "{err}"
    );
    let err = root.berth_err(["pull", "--platform", "linux", &name]);
    assert!(err.contains("os/arch"), "{err}");
    let out = root.berth_ok(["pull", "-q", "--platform", "linux/arm64", &name]);
    assert_eq!(out, format!("{name}\n"), "-q prints only the reference");
    let inspect: serde_json::Value =
        serde_json::from_str(&root.berth_ok(["image", "inspect", &name])).unwrap();
    assert_eq!(inspect[0]["Architecture"], "arm64");
    assert_eq!(
        inspect[0]["Id"],
        index.child("arm64").config_digest.clone().unwrap()
    );
}

#[test]
fn whiteouts_and_opaque_dirs_become_overlay_form_and_flatten() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::multi_layer();
    reg.push(image, "test/multi-layer:latest");
    root.berth_ok(["pull", &reg.reference("test/multi-layer:latest")]);
    let chains = chain_ids(image);
    let l2 = layer_dir(&root, &chains[1]);
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let wh = std::fs::symlink_metadata(l2.join("etc/motd")).unwrap();
    assert!(
        wh.file_type().is_char_device() && wh.rdev() == 0,
        "whiteout is a 0/0 char device"
    );
    assert!(!l2.join(multi::WHITEOUT_ENTRY).exists());
    let opq = xattr::get(l2.join("srv/www"), "trusted.overlay.opaque").unwrap();
    assert_eq!(opq.as_deref(), Some(&b"y"[..]));
    assert!(!l2.join(multi::OPAQUE_ENTRY).exists());

    // Mounted with real overlayfs in berth's lowerdir order, the image looks as intended.
    let lower: Vec<String> = chains
        .iter()
        .rev()
        .map(|c| layer_dir(&root, c).display().to_string())
        .collect();
    let target = root.base().join("mnt");
    std::fs::create_dir(&target).unwrap();
    nix::mount::mount(
        Some("overlay"),
        &target,
        Some("overlay"),
        nix::mount::MsFlags::MS_RDONLY,
        Some(format!("lowerdir={}", lower.join(":")).as_str()),
    )
    .expect("mount overlay");
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
        }
    }
    let _guard = Unmount(target.clone());
    for p in multi::ABSENT {
        assert!(
            std::fs::symlink_metadata(target.join(p.trim_start_matches('/'))).is_err(),
            "{p} must be gone"
        );
    }
    for (p, content) in multi::PRESENT {
        let got = std::fs::read_to_string(target.join(p.trim_start_matches('/'))).unwrap();
        assert_eq!(&got, content, "{p}");
    }
}

#[test]
fn missing_image_and_unreachable_registry_fail_clearly() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let name = reg.reference("test/nothing:here");
    let err = root.berth_err(["pull", &name]);
    assert!(err.contains("not found"), "{err}");
    assert!(err.contains(reg.addr()), "names the registry: {err}");
    assert!(err.contains("test/nothing:here"), "names the image: {err}");
    assert!(images_json(&root).is_empty());

    let port = common::registry::free_port();
    let err = root.berth_err(["pull", &format!("127.0.0.1:{port}/x/y")]);
    assert!(err.contains("cannot reach registry"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}

fn auth_roundtrip(auth: Auth) {
    let (user, pass) = auth
        .credentials()
        .map(|(u, p)| (u.to_string(), p.to_string()))
        .unwrap();
    let reg = Registry::start(auth);
    let root = TestRoot::new();
    reg.push(images::single_layer(), "priv/busybox:latest");
    let name = reg.reference("priv/busybox:latest");

    let err = root.berth_err(["pull", &name]);
    assert!(
        err.contains("unauthorized") && err.contains(reg.addr()),
        "{err}"
    );
    assert!(err.contains("berth login"), "says what to do: {err}");

    let err = root.berth_err(["login", "-u", &user, "-p", "wrong", reg.addr()]);
    assert!(err.contains("unauthorized"), "{err}");
    let auth_file = root.config_home().join("berth/auth.json");
    assert!(!auth_file.exists(), "nothing stored on failure");

    let out = root.berth_ok(["login", "-u", &user, "-p", &pass, reg.addr()]);
    assert!(out.contains("Login Succeeded"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&auth_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    root.berth_ok(["pull", &name]);
    assert_eq!(images_json(&root).len(), 1);

    // Docker's own config file is read too.
    root.berth_ok(["logout", reg.addr()]);
    root.berth_ok(["rmi", &name]);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    std::fs::write(
        root.docker_config().join("config.json"),
        format!(
            r#"{{"auths":{{"http://{}":{{"auth":"{b64}"}}}}}}"#,
            reg.addr()
        ),
    )
    .unwrap();
    root.berth_ok(["pull", &name]);
}

#[test]
fn basic_auth_login_pull_and_refusal() {
    auth_roundtrip(Auth::basic("alice", "s3cret"));
}

#[test]
fn token_auth_login_pull_and_refusal() {
    auth_roundtrip(Auth::token("bob", "hunter2"));
}

#[test]
fn a_corrupted_blob_is_refused_and_leaves_nothing() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::multi_layer();
    reg.push(image, "test/bad:latest");
    let bad = &image.layers[2].digest;
    reg.tamper_blob(bad);

    let err = root.berth_err(["pull", &reg.reference("test/bad:latest")]);
    assert!(
        err.contains(&format!("expected {bad}")),
        "names the expected digest: {err}"
    );
    assert!(
        err.contains("got sha256:"),
        "names the actual digest: {err}"
    );
    assert!(images_json(&root).is_empty(), "nothing listed");
    assert_eq!(
        listing(&root.path().join("layers")),
        Vec::<String>::new(),
        "nothing unpacked"
    );
    assert!(!root
        .path()
        .join("blobs/sha256")
        .join(bad.trim_start_matches("sha256:"))
        .exists());
    assert_no_garbage(&root);
}

#[test]
fn two_processes_pull_the_same_image_at_once() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::big(3, 4 << 20);
    reg.push(image, "test/both:latest");
    let name = reg.reference("test/both:latest");
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| root.berth(["pull", "-q", &name]));
        let b = s.spawn(|| root.berth(["pull", "-q", &name]));
        (a.join().unwrap(), b.join().unwrap())
    });
    for o in [&a, &b] {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let rows = images_json(&root);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["Digest"], image.digest);
    assert_eq!(listing(&root.path().join("layers")).len(), 3);
    assert_no_garbage(&root);
}

#[test]
fn a_pull_killed_mid_layer_resumes_and_leaves_no_garbage() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::big(1, 6 << 20);
    reg.push(image, "test/big:latest");
    let size = image.layers[0].size;
    let proxy = ThrottledProxy::start(reg.addr(), 3 << 20);
    let name = format!("{}/test/big:latest", proxy.addr());
    let partial = root.path().join("ingest").join(format!(
        "{}.partial",
        image.layers[0].digest.trim_start_matches("sha256:")
    ));

    let mut child = root
        .cmd()
        .args(["pull", "-q", &name])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0) < (1 << 20) {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the download never reached 1 MiB before the pull ended");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();
    let kept = std::fs::metadata(&partial).unwrap().len();
    assert!(
        kept > 0 && kept < size,
        "a partial download is left to resume"
    );
    assert!(images_json(&root).is_empty(), "a killed pull lists nothing");

    let before = proxy.bytes_sent();
    root.berth_ok(["pull", "-q", &name]);
    let second = proxy.bytes_sent() - before;
    assert!(
        second < size - kept / 2,
        "the second pull resumed with a Range request ({second} bytes sent, {kept} kept of {size})"
    );
    let rows = images_json(&root);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["Digest"], image.digest);
    assert_no_garbage(&root);
}

#[test]
fn mirrors_are_tried_first_and_failing_ones_skipped() {
    let origin = Registry::start(Auth::None);
    let mirror = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::single_layer();
    mirror.push(image, "test/mirrored:latest");
    let dead = common::registry::free_port();
    let cfg = root.config_home().join("berth");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("registries.toml"),
        format!(
            "[[registry]]\nhost = \"{}\"\nmirrors = [\"127.0.0.1:{dead}\", \"{}\"]\n",
            origin.addr(),
            mirror.addr()
        ),
    )
    .unwrap();
    // The origin does not have the image: only the (second) mirror can serve it.
    let name = origin.reference("test/mirrored:latest");
    root.berth_ok(["pull", &name]);
    let rows = images_json(&root);
    assert_eq!(rows[0]["Repository"], origin.reference("test/mirrored"));
    assert_eq!(rows[0]["Digest"], image.digest);

    std::fs::write(cfg.join("registries.toml"), "[[registry]]\nhost = 1\n").unwrap();
    let err = root.berth_err(["pull", &name]);
    assert!(err.contains("registries.toml"), "{err}");
}
