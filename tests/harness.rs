//! Tests of the test harness itself: images are well-formed and stable, each registry kind
//! starts, accepts pushes of each image and serves them back with the same digests, auth is
//! enforced, and the helpers clean up.

mod common;

use common::hostile::{hostile, HostileCase};
use common::images::{self, host_arch, Image};
use common::tarball::gunzip;
use common::{sha256_digest, Auth, Registry};

/// Checks that the registry serves `image` under `repo:tag` exactly as built.
fn assert_served(registry: &Registry, image: &Image, repo: &str, tag: &str) {
    let got = registry.get_manifest(repo, tag);
    assert_eq!(
        got.status,
        200,
        "GET manifest {repo}:{tag}: {}",
        String::from_utf8_lossy(&got.body)
    );
    assert_eq!(
        got.digest, image.digest,
        "Docker-Content-Digest of {repo}:{tag}"
    );
    assert_eq!(
        sha256_digest(&got.body),
        image.digest,
        "manifest bytes of {repo}:{tag}"
    );
    assert_eq!(got.content_type, image.media_type);
    for child in &image.children {
        let c = registry.get_manifest(repo, &child.digest);
        assert_eq!(c.status, 200);
        assert_eq!(sha256_digest(&c.body), child.digest);
    }
    // One layer and the config come back byte-identical.
    let leaf = image.children.last().unwrap_or(image);
    let config = leaf.config_digest.as_deref().expect("config digest");
    let (status, body) = registry.get_blob(repo, config);
    assert_eq!(status, 200);
    assert_eq!(sha256_digest(&body), config);
    let (status, body) = registry.get_blob(repo, &leaf.layers[0].digest);
    assert_eq!(status, 200);
    assert_eq!(sha256_digest(&body), leaf.layers[0].digest);
}

fn all_images() -> Vec<(String, &'static Image)> {
    let mut all = vec![
        ("single".to_string(), images::single_layer()),
        ("multi".to_string(), images::multi_layer()),
        ("index".to_string(), images::index()),
        ("schema2".to_string(), images::schema2()),
        ("list".to_string(), images::manifest_list()),
        ("truncated".to_string(), images::truncated_tar()),
        ("big".to_string(), images::big(2, 3 << 20)),
    ];
    for case in HostileCase::ALL {
        all.push((format!("hostile-{}", case.name()), hostile(case)));
    }
    all
}

/// Pushes every image kind to `registry` and checks it is served back unchanged.
fn push_all_and_check(registry: &Registry) {
    for (name, image) in all_images() {
        let repo = format!("test/{name}");
        let digest = registry.push(image, &format!("{repo}:latest"));
        assert_eq!(digest, image.digest, "digest reported for {name}");
        assert_served(registry, image, &repo, "latest");
    }
}

#[test]
fn plain_registry_serves_every_pushed_image() {
    let registry = Registry::start(Auth::None);
    assert_eq!(
        common::registry::http_status(registry.addr(), "/v2/"),
        Some(200)
    );
    push_all_and_check(&registry);
    // Pushing again is idempotent (blobs already there are skipped).
    let single = images::single_layer();
    assert_eq!(registry.push(single, "test/single:again"), single.digest);
    // A missing manifest is 404.
    assert_eq!(registry.get_manifest("test/single", "nope").status, 404);

    // The storage path helper points at the real blob file, and tampering changes what is served.
    let layer = &single.layers[0];
    let data = std::fs::read(registry.blob_data_path(&layer.digest)).expect("blob data file");
    assert_eq!(sha256_digest(&data), layer.digest);
    registry.tamper_blob(&layer.digest);
    let (_, served) = registry.get_blob("test/single", &layer.digest);
    assert_eq!(served.len(), data.len());
    assert_ne!(
        sha256_digest(&served),
        layer.digest,
        "tampered blob is served as tampered"
    );
}

#[test]
fn basic_auth_registry_requires_the_password() {
    let registry = Registry::start(Auth::basic("alice", "s3cret"));
    assert_eq!(
        common::registry::http_status(registry.addr(), "/v2/"),
        Some(401)
    );
    let anonymous = common::push::http_client()
        .get(format!("{}/v2/", registry.url()))
        .basic_auth("alice", Some("wrong"));
    let status = common::off_runtime(|| anonymous.send().expect("GET /v2/").status().as_u16());
    assert_eq!(status, 401, "wrong password is refused");
    push_all_and_check(&registry);
}

#[test]
fn token_auth_registry_uses_the_issuer() {
    let registry = Registry::start(Auth::token("bob", "hunter2"));
    let url = format!("{}/v2/", registry.url());
    let challenge = common::off_runtime(|| {
        let resp = common::push::http_client()
            .get(url)
            .send()
            .expect("GET /v2/");
        assert_eq!(resp.status().as_u16(), 401);
        resp.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .to_string()
    });
    let issuer = registry.issuer().expect("issuer");
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(&format!("realm=\"{}\"", issuer.realm())),
        "{challenge}"
    );
    assert!(challenge.contains(common::token::SERVICE), "{challenge}");

    let scope = "repository:test/single:pull";
    assert_eq!(
        registry.request_token(None, scope),
        Err(401),
        "anonymous token request"
    );
    assert_eq!(
        registry.request_token(Some(("bob", "wrong")), scope),
        Err(401),
        "wrong password"
    );
    push_all_and_check(&registry);
    assert!(issuer.granted() >= all_images().len());

    // A token for another repository does not open this one.
    let other = registry
        .request_token(Some(("bob", "hunter2")), "repository:test/other:pull")
        .expect("token");
    let url = format!("{}/v2/test/single/manifests/latest", registry.url());
    let status = common::off_runtime(|| {
        common::push::http_client()
            .get(url)
            .bearer_auth(other)
            .header("accept", common::push::MANIFEST_ACCEPT)
            .send()
            .expect("GET manifest")
            .status()
            .as_u16()
    });
    assert_eq!(status, 401, "token scoped to another repository");
}

#[test]
fn registry_and_issuer_stop_on_drop() {
    let registry = Registry::start(Auth::token("u", "p"));
    let pid = registry.pid();
    let addr = registry.addr().to_string();
    let realm = registry.issuer().expect("issuer").realm();
    let issuer_addr = realm
        .trim_start_matches("http://")
        .trim_end_matches("/token")
        .to_string();
    let storage = registry.storage_dir();
    drop(registry);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "registry reaped"
    );
    assert_eq!(common::registry::http_status(&addr, "/v2/"), None);
    assert_eq!(common::registry::http_status(&issuer_addr, "/token"), None);
    assert!(!storage.exists(), "registry temp dir removed");
}

#[test]
fn throttled_proxy_slows_answers_and_stops() {
    let registry = Registry::start(Auth::None);
    let image = images::big(1, 1 << 20);
    registry.push(image, "test/big:latest");
    let proxy = common::throttle::ThrottledProxy::start(registry.addr(), 4 << 20);
    let url = format!(
        "http://{}/v2/test/big/blobs/{}",
        proxy.addr(),
        image.layers[0].digest
    );
    let started = std::time::Instant::now();
    let body = common::off_runtime(|| {
        let resp = common::push::http_client()
            .get(url)
            .send()
            .expect("GET via proxy");
        assert_eq!(resp.status().as_u16(), 200);
        resp.bytes().expect("body").to_vec()
    });
    let took = started.elapsed();
    assert_eq!(sha256_digest(&body), image.layers[0].digest);
    assert!(
        took >= std::time::Duration::from_millis(200),
        "1 MiB at 4 MiB/s took only {took:?}"
    );
    assert!(proxy.bytes_sent() >= body.len() as u64);
    let addr = proxy.addr();
    drop(proxy);
    assert_eq!(
        common::registry::http_status(&addr, "/v2/"),
        None,
        "proxy stopped"
    );
}

#[test]
fn oci_layout_is_read_by_skopeo() {
    let registry = Registry::start(Auth::None);
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, image) in [("multi", images::multi_layer()), ("index", images::index())] {
        let layout = dir.path().join(name);
        image.write_oci_layout(&layout, "v1");
        let out = std::process::Command::new("skopeo")
            .args([
                "--insecure-policy",
                "copy",
                "--all",
                "--preserve-digests",
                "--dest-tls-verify=false",
            ])
            .arg(format!("oci:{}:v1", layout.display()))
            .arg(format!(
                "docker://{}",
                registry.reference(&format!("skopeo/{name}:v1"))
            ))
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .output()
            .expect("run skopeo (install the skopeo package)");
        assert!(
            out.status.success(),
            "skopeo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = registry.get_manifest(&format!("skopeo/{name}"), "v1");
        assert_eq!(got.digest, image.digest, "skopeo kept the digest of {name}");
    }
}

#[test]
fn test_root_unmounts_and_removes_everything() {
    use nix::mount::{mount, MsFlags};
    let root = common::TestRoot::new();
    let base = root.base().to_path_buf();
    // The skeleton binary runs against the root.
    assert!(root.berth_ok(["--help"]).contains("Usage"));
    let outer = root.path().join("mnt");
    let inner = outer.join("inner");
    std::fs::create_dir_all(&outer).expect("mkdir");
    mount(
        Some("tmpfs"),
        &outer,
        Some("tmpfs"),
        MsFlags::empty(),
        None::<&str>,
    )
    .expect("mount tmpfs");
    std::fs::create_dir(&inner).expect("mkdir inner");
    mount(
        Some("tmpfs"),
        &inner,
        Some("tmpfs"),
        MsFlags::empty(),
        None::<&str>,
    )
    .expect("mount inner");
    assert_eq!(
        common::testroot::mounts_under(&base),
        vec![inner.clone(), outer.clone()]
    );
    drop(root);
    assert!(
        common::testroot::mounts_under(&base).is_empty(),
        "mounts left under {}",
        base.display()
    );
    assert!(!base.exists(), "test root removed");
}

#[test]
fn images_are_deterministic_and_well_formed() {
    // Built twice from scratch (bypassing the cache), the digests are equal.
    let base = common::rootfs::base_tar();
    let again = images::LayerBlob::from_tar(base, flate2::Compression::fast());
    assert_eq!(again.layer.digest, images::base_layer().layer.digest);

    let single = images::single_layer();
    let config = single.config_json();
    assert_eq!(config["architecture"], host_arch());
    assert_eq!(config["config"]["Cmd"][0], "sh");
    assert_eq!(
        config["rootfs"]["diff_ids"][0],
        single.layers[0].diff_id.as_str()
    );
    assert_eq!(
        sha256_digest(&gunzip(single.layer_data(0))),
        single.layers[0].diff_id
    );

    // The rootfs has busybox and the applets the suite needs.
    let tar = gunzip(single.layer_data(0));
    let names: Vec<String> = tar::Archive::new(tar.as_slice())
        .entries()
        .expect("tar")
        .map(|e| {
            e.expect("entry")
                .path()
                .expect("path")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for need in [
        "bin/busybox",
        "bin/sh",
        "bin/unshare",
        "etc/passwd",
        "tmp/",
        "home/app/",
    ] {
        assert!(names.iter().any(|n| n == need), "rootfs lacks {need}");
    }

    // The index has arm64 first and a different config for amd64.
    let index = images::index();
    assert_eq!(index.children[0].architecture.as_deref(), Some("arm64"));
    assert_ne!(
        index.child("amd64").config_digest,
        index.child("arm64").config_digest
    );
    assert_eq!(
        index.child("amd64").layers[0].digest,
        index.child("arm64").layers[0].digest
    );

    // Schema 2 uses Docker media types throughout.
    let s2: serde_json::Value = serde_json::from_slice(&images::schema2().manifest).expect("json");
    assert_eq!(s2["mediaType"], images::MT_DOCKER_MANIFEST);
    assert_eq!(s2["config"]["mediaType"], images::MT_DOCKER_CONFIG);
    assert_eq!(s2["layers"][0]["mediaType"], images::MT_DOCKER_LAYER_GZIP);

    // Layer 2 of the multi-layer image holds exactly the documented entries.
    let multi = images::multi_layer();
    assert_eq!(multi.layers.len(), 3);
    let l2 = entry_names(&gunzip(multi.layer_data(1)));
    assert_eq!(l2, images::multi::LAYER2_ENTRIES);
    let l3 = entry_names(&gunzip(multi.layer_data(2)));
    assert_eq!(l3, images::multi::LAYER3_ENTRIES);

    // Big layers are seeded: the same call gives the same bytes.
    let mut a = common::big::SEED;
    let mut b = common::big::SEED;
    assert_eq!(
        common::big::random_bytes(&mut a, 1000),
        common::big::random_bytes(&mut b, 1000)
    );
    assert_eq!(images::big(2, 3 << 20).layers.len(), 2);
    assert!(images::big(2, 3 << 20).layers_size() > 6 << 20);

    // The truncated layer has no end-of-archive blocks, but its members are all there.
    let t = gunzip(images::truncated_tar().layer_data(1));
    assert_eq!(t.len() % 512, 0);
    assert!(
        t[t.len() - 512..].iter().any(|b| *b != 0),
        "last block is data, not zeros"
    );
    assert_eq!(entry_names(&t).len(), 4);
}

/// Entry names of a tar, trailing `/` removed.
fn entry_names(tar: &[u8]) -> Vec<String> {
    tar::Archive::new(tar)
        .entries()
        .expect("tar")
        .map(|e| {
            let e = e.expect("entry");
            String::from_utf8_lossy(&e.path_bytes())
                .trim_end_matches('/')
                .to_string()
        })
        .collect()
}

#[test]
fn hostile_layers_hold_the_raw_names() {
    for case in HostileCase::ALL {
        let image = hostile(case);
        let tar = gunzip(image.layer_data(0));
        let names = entry_names(&tar);
        assert!(
            names.iter().any(|n| *n == case.entry()),
            "{:?}: entry {} missing from {names:?}",
            case,
            case.entry()
        );
    }
}
