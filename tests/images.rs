//! Image commands over pulled images: images, image inspect, tag, rmi, image prune.

mod common;

use common::images;
use common::{Auth, Registry, TestRoot};

fn images_json(root: &TestRoot) -> Vec<serde_json::Value> {
    root.berth_ok(["images", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

fn count(dir: std::path::PathBuf) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn list_inspect_tag_and_remove() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = images::single_layer();
    reg.push(image, "test/busybox:latest");
    let name = reg.reference("test/busybox:latest");
    root.berth_ok(["pull", "-q", &name]);
    let id = image.config_digest.clone().unwrap();
    let short = &id["sha256:".len()..][..12];

    // images: table, -q, json.
    let table = root.berth_ok(["images"]);
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("REPOSITORY") && header.contains("IMAGE ID"),
        "{table}"
    );
    let first = lines.next().unwrap();
    assert!(
        first.starts_with(&reg.reference("test/busybox")) && first.contains(short),
        "{table}"
    );
    assert_eq!(root.berth_ok(["images", "-q"]), format!("{short}\n"));
    let err = root.berth_err(["images", "--format", "{{yaml .}}"]);
    assert!(err.contains("yaml"), "{err}");

    // inspect: Docker's shape, by name, full id and id prefix.
    for r in [name.as_str(), id.as_str(), short] {
        let v: serde_json::Value =
            serde_json::from_str(&root.berth_ok(["image", "inspect", r])).unwrap();
        let v = &v[0];
        assert_eq!(v["Id"], id);
        assert_eq!(v["RepoTags"][0], name);
        assert_eq!(
            v["RepoDigests"][0],
            format!("{}@{}", reg.reference("test/busybox"), image.digest)
        );
        assert_eq!(v["Os"], "linux");
        assert_eq!(v["Architecture"], images::host_arch());
        assert_eq!(v["Config"]["Cmd"][0], "sh");
        assert_eq!(v["Config"]["Labels"][images::LABEL], "single-layer");
        assert_eq!(v["RootFS"]["Layers"][0], image.layers[0].diff_id);
        assert_eq!(v["Created"], images::CREATED);
        assert!(v["Size"].as_u64().unwrap() > 500_000, "unpacked size: {v}");
    }
    let err = root.berth_err(["image", "inspect", "no-such-image"]);
    assert!(err.contains("no such image: no-such-image"), "{err}");

    // tag: a second name for the same image; bad targets are refused.
    root.berth_ok(["tag", &name, "mine/box:v2"]);
    let rows = images_json(&root);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["Id"] == id));
    assert!(rows
        .iter()
        .any(|r| r["Repository"] == "mine/box" && r["Tag"] == "v2"));
    let err = root.berth_err(["tag", &name, "Bad/Name"]);
    assert!(err.contains("lower case"), "{err}");
    let err = root.berth_err(["tag", "nothing-here", "x:y"]);
    assert!(err.contains("no such image"), "{err}");

    // rmi by id with two tags needs -f; by one tag it only untags.
    let err = root.berth_err(["rmi", short]);
    assert!(err.contains("must be forced"), "{err}");
    let out = root.berth_ok(["rmi", "mine/box:v2"]);
    assert_eq!(out, "Untagged: mine/box:v2\n");
    assert_eq!(images_json(&root).len(), 1);
    assert_eq!(count(root.path().join("layers")), 1);

    // The last tag removes the image and, with no pull running, its layers and blobs.
    let out = root.berth_ok(["rmi", &name]);
    assert!(out.contains(&format!("Untagged: {name}")), "{out}");
    assert!(out.contains(&format!("Deleted: {id}")), "{out}");
    assert!(images_json(&root).is_empty());
    assert_eq!(count(root.path().join("layers")), 0);
    assert_eq!(count(root.path().join("blobs/sha256")), 0);
    let err = root.berth_err(["rmi", &name]);
    assert!(err.contains("no such image"), "{err}");
}

#[test]
fn rmi_refuses_an_image_a_container_uses_and_prune_keeps_it() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    reg.push(images::single_layer(), "test/used:latest");
    reg.push(images::multi_layer(), "test/other:latest");
    let name = reg.reference("test/used:latest");
    root.berth_ok(["pull", "-q", &name]);
    root.berth_ok(["pull", "-q", &reg.reference("test/other:latest")]);
    let id = images::single_layer().config_digest.clone().unwrap();

    // A container record naming the image (as the container engine writes it).
    let db = rusqlite::Connection::open(root.path().join("state.db")).unwrap();
    db.execute(
        "INSERT INTO containers(id, name, image_id, record, created) VALUES (?1, 'web', ?2, '{}', 'now')",
        rusqlite::params!["c".repeat(64), id],
    )
    .unwrap();
    drop(db);

    let err = root.berth_err(["rmi", &name]);
    assert!(err.contains("used by container(s) web"), "{err}");
    // -f untags it; the image stays (dangling) because the container needs its layers.
    let out = root.berth_ok(["rmi", "-f", &name]);
    assert!(
        out.contains("Untagged:") && !out.contains("Deleted:"),
        "{out}"
    );
    let rows = images_json(&root);
    assert!(
        rows.iter().any(|r| r["Id"] == id && r["Tag"] == "<none>"),
        "{rows:?}"
    );

    // prune keeps the used dangling image and everything referenced; garbage goes.
    let layers_before = count(root.path().join("layers"));
    let junk = root.path().join("blobs/sha256").join("ab".repeat(32));
    std::fs::write(&junk, b"unreferenced").unwrap();
    std::fs::create_dir(root.path().join("tmp/layer-deadbeef")).unwrap();
    let out = root.berth_ok(["image", "prune", "-f"]);
    assert!(out.contains("Total reclaimed space"), "{out}");
    assert!(!junk.exists());
    assert_eq!(count(root.path().join("tmp")), 0);
    assert_eq!(count(root.path().join("layers")), layers_before);
    assert_eq!(images_json(&root).len(), 2);

    // Once the container is gone, prune removes the dangling image and its only layer users.
    let db = rusqlite::Connection::open(root.path().join("state.db")).unwrap();
    db.execute("DELETE FROM containers", []).unwrap();
    drop(db);
    let out = root.berth_ok(["image", "prune", "-f"]);
    assert!(out.contains(&format!("deleted: {id}")), "{out}");
    let rows = images_json(&root);
    assert_eq!(rows.len(), 1);
    // multi-layer shares its base layer with single-layer: all three of its layers remain.
    assert_eq!(count(root.path().join("layers")), 3);
}
