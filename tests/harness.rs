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

fn all_images() -> Vec<(&'static str, &'static Image)> {
    vec![
        ("single", images::single_layer()),
        ("multi", images::multi_layer()),
        ("index", images::index()),
        ("schema2", images::schema2()),
        ("truncated", images::truncated_tar()),
        ("hostile-dotdot", hostile(HostileCase::DotDot)),
    ]
}

#[test]
fn plain_registry_serves_every_pushed_image() {
    let registry = Registry::start(Auth::None);
    for (name, image) in all_images() {
        let repo = format!("test/{name}");
        let digest = registry.push(image, &format!("{repo}:latest"));
        assert_eq!(digest, image.digest, "digest reported for {name}");
        assert_served(&registry, image, &repo, "latest");
    }
    // The storage path helper points at the real blob file.
    let layer = &images::single_layer().layers[0];
    let data = std::fs::read(registry.blob_data_path(&layer.digest)).expect("blob data file");
    assert_eq!(sha256_digest(&data), layer.digest);
    registry.tamper_blob(&layer.digest);
    let (_, served) = registry.get_blob("test/single", &layer.digest);
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
    let image = images::single_layer();
    assert_eq!(registry.push(image, "test/busybox:v1"), image.digest);
    assert_served(&registry, image, "test/busybox", "v1");
}

#[test]
fn token_auth_registry_uses_the_issuer() {
    let registry = Registry::start(Auth::token("bob", "hunter2"));
    assert_eq!(
        common::registry::http_status(registry.addr(), "/v2/"),
        Some(401)
    );
    let scope = "repository:test/busybox:pull";
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
    let image = images::index();
    assert_eq!(registry.push(image, "test/busybox:latest"), image.digest);
    assert_served(&registry, image, "test/busybox", "latest");
    assert!(registry.issuer().expect("issuer").granted() >= 2);
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
