//! `push` against real registries: uploads, HEAD skips, cross-repository mounts, chunked
//! uploads, the image's own manifest type and digest (judged by skopeo and the registry API),
//! basic and token auth, and refusals that leave the registry without the image.

mod common;

use common::images::{self, Image};
use common::{Auth, Registry, TestRoot};

fn pulled(reg: &Registry, root: &TestRoot, image: &Image, repo: &str) -> String {
    reg.push(image, repo);
    let name = reg.reference(repo);
    root.berth_ok(["pull", "-q", &name]);
    name
}

fn count(out: &str, what: &str) -> usize {
    out.lines().filter(|l| l.ends_with(what)).count()
}

fn skopeo_inspect(reference: &str) -> serde_json::Value {
    let out = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ])
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("skopeo JSON")
}

#[test]
fn push_uploads_then_skips_then_mounts_with_the_images_own_digest() {
    let source = Registry::start(Auth::None);
    let target = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::multi_layer();
    let name = pulled(&source, &root, image, "test/multi:v1");
    let dest = target.reference("pushed/multi:v1");
    root.berth_ok(["tag", &name, &dest]);

    let out = root.berth_ok(["push", &dest]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "The push refers to repository [{}]",
            target.reference("pushed/multi")
        )
    );
    assert_eq!(count(&out, ": Preparing"), 3, "{out}");
    assert_eq!(count(&out, ": Pushed"), 3, "{out}");
    assert_eq!(
        *lines.last().unwrap(),
        format!(
            "v1: digest: {} size: {}",
            image.digest,
            image.manifest.len()
        ),
        "{out}"
    );
    let got = target.get_manifest("pushed/multi", "v1");
    assert_eq!(got.digest, image.digest);
    assert_eq!(got.content_type, images::MT_OCI_MANIFEST);
    let v = skopeo_inspect(&dest);
    assert_eq!(v["Digest"], image.digest);
    assert_eq!(v["Labels"][images::LABEL], "multi-layer");

    // Again: the registry has every layer.
    let out = root.berth_ok(["push", &dest]);
    assert_eq!(count(&out, ": Layer already exists"), 3, "{out}");

    // Another repository of the same registry: mounted, not uploaded.
    let other = target.reference("pushed/other:v1");
    root.berth_ok(["tag", &name, &other]);
    let out = root.berth_ok(["push", &other]);
    assert_eq!(count(&out, ": Mounted from pushed/multi"), 3, "{out}");

    // What was pushed pulls and runs elsewhere; the pushed digest is a RepoDigest here.
    let fresh = TestRoot::new();
    fresh.berth_ok(["pull", "-q", &other]);
    let ran = fresh.berth_ok(["run", "--rm", &other, "echo", "pushed"]);
    assert_eq!(ran.trim(), "pushed");
    let inspect: serde_json::Value =
        serde_json::from_str(&root.berth_ok(["image", "inspect", &dest])).unwrap();
    let digests = inspect[0]["RepoDigests"].to_string();
    assert!(
        digests.contains(&format!(
            "{}@{}",
            target.reference("pushed/multi"),
            image.digest
        )),
        "{digests}"
    );

    // --all-tags pushes every tag of the repository; -q prints only the names.
    let v2 = target.reference("pushed/multi:v2");
    root.berth_ok(["tag", &name, &v2]);
    let out = root.berth_ok([
        "push",
        "-q",
        "--all-tags",
        &target.reference("pushed/multi"),
    ]);
    assert_eq!(out, format!("{dest}\n{v2}\n"));
    assert_eq!(
        target.get_manifest("pushed/multi", "v2").digest,
        image.digest
    );
    let err = root.berth_err(["push", "--all-tags", &dest]);
    assert!(err.contains("--all-tags"), "{err}");
}

#[test]
fn docker_manifests_stay_docker_and_big_layers_go_up_in_chunks() {
    let source = Registry::start(Auth::None);
    let target = Registry::start(Auth::None);
    let root = TestRoot::new();
    // Schema 2: pushed with its own media type and digest.
    let schema2 = images::schema2();
    let name = pulled(&source, &root, schema2, "test/schema2:v1");
    let dest = target.reference("pushed/schema2:v1");
    root.berth_ok(["tag", &name, &dest]);
    root.berth_ok(["push", &dest]);
    let got = target.get_manifest("pushed/schema2", "v1");
    assert_eq!(got.content_type, images::MT_DOCKER_MANIFEST);
    assert_eq!(got.digest, schema2.digest);

    // A 40 MB layer: several PATCH chunks and the closing PUT.
    let big = images::big(1, 40 << 20);
    let name = pulled(&source, &root, big, "test/big:v1");
    let dest = target.reference("pushed/big:v1");
    root.berth_ok(["tag", &name, &dest]);
    let out = root.berth_ok(["push", &dest]);
    assert_eq!(count(&out, ": Pushed"), 1, "{out}");
    let (status, bytes) = target.get_blob("pushed/big", &big.layers[0].digest);
    assert_eq!(status, 200);
    assert_eq!(common::sha256_digest(&bytes), big.layers[0].digest);
}

fn push_with_auth(auth: Auth) {
    let (user, pass) = auth
        .credentials()
        .map(|(u, p)| (u.to_string(), p.to_string()))
        .unwrap();
    let reg = Registry::start(auth);
    let root = TestRoot::new();
    let image = images::single_layer();
    let name = pulled_with_login(&reg, &root, image, &user, &pass);
    let dest = reg.reference("priv/pushed:v1");
    root.berth_ok(["tag", &name, &dest]);
    root.berth_ok(["logout", reg.addr()]);

    let out = root.berth(["push", &dest]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(
        err.contains("unauthorized") && err.contains("berth login"),
        "{err}"
    );

    root.berth_ok(["login", "-u", &user, "-p", &pass, reg.addr()]);
    let out = root.berth_ok(["push", &dest]);
    assert!(
        out.ends_with(&format!(
            "v1: digest: {} size: {}\n",
            image.digest,
            image.manifest.len()
        )),
        "{out}"
    );
    assert_eq!(reg.get_manifest("priv/pushed", "v1").digest, image.digest);
}

fn pulled_with_login(
    reg: &Registry,
    root: &TestRoot,
    image: &Image,
    user: &str,
    pass: &str,
) -> String {
    reg.push(image, "priv/source:v1");
    root.berth_ok(["login", "-u", user, "-p", pass, reg.addr()]);
    let name = reg.reference("priv/source:v1");
    root.berth_ok(["pull", "-q", &name]);
    name
}

#[test]
fn push_with_basic_auth() {
    push_with_auth(Auth::basic("alice", "s3cret"));
}

#[test]
fn push_with_token_auth() {
    push_with_auth(Auth::token("bob", "hunter2"));
}

#[test]
fn refused_pushes_leave_the_registry_without_the_image() {
    let source = Registry::start(Auth::None);
    let target = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::multi_layer();
    let name = pulled(&source, &root, image, "test/multi:v1");

    // Nothing local by that name.
    let err = root.berth_err(["push", &target.reference("nothing/here:v1")]);
    assert!(err.contains("does not exist locally"), "{err}");

    // A layer whose bytes changed in the store: refused before any upload.
    let dest = target.reference("pushed/corrupt:v1");
    root.berth_ok(["tag", &name, &dest]);
    let bad = &image.layers[2].digest;
    let blob = root
        .path()
        .join("blobs/sha256")
        .join(bad.trim_start_matches("sha256:"));
    let good = std::fs::read(&blob).unwrap();
    let mut bytes = good.clone();
    bytes[0] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let out = root.berth(["push", &dest]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(
        err.contains("no longer matches") && err.contains(bad),
        "{err}"
    );
    for l in &image.layers {
        assert_eq!(target.get_blob("pushed/corrupt", &l.digest).0, 404);
    }
    assert_eq!(
        common::registry::http_status(target.addr(), "/v2/pushed/corrupt/manifests/v1"),
        Some(404)
    );

    // A registry that is not there.
    std::fs::write(&blob, good).unwrap();
    let port = common::registry::free_port();
    let gone = format!("127.0.0.1:{port}/pushed/gone:v1");
    root.berth_ok(["tag", &name, &gone]);
    let err = root.berth_err(["push", &gone]);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}
