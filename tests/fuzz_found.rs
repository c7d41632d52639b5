//! Bugs the cargo-fuzz targets in `fuzz/` found, each kept here as an end-to-end test against the
//! real binary, a real registry and real containers, so CI checks them without cargo-fuzz.

mod common;

use common::images::{assemble, base_layer, host_arch, single_layer, Flavor, LayerBlob};
use common::tarball::{TarBuilder, FIXED_MTIME};
use common::{Auth, Registry, TestRoot};
use flate2::Compression;
use tar::EntryType;

fn images_json(root: &TestRoot) -> Vec<serde_json::Value> {
    root.berth_ok(["images", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

/// Points docker.io at a loopback mirror (the only way to pull "Docker Hub" names here).
fn hub_mirror(root: &TestRoot, mirror: &Registry) {
    let cfg = root.config_home().join("berth");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("registries.toml"),
        format!(
            "[[registry]]\nhost = \"docker.io\"\nmirrors = [\"{}\"]\n",
            mirror.addr()
        ),
    )
    .unwrap();
}

/// Fuzz target `reference`: the familiar name of `docker.io/library/a/b` was `a/b` (another
/// repository) and that of `docker.io/a.b/c` was `a.b/c` (another registry). `images` must show
/// names that lead back to the same image: `run` with the shown name starts a container.
#[test]
fn familiar_names_of_hub_images_lead_back_to_them() {
    let mirror = Registry::start(Auth::None);
    let root = TestRoot::new();
    let image = single_layer();
    mirror.push(image, "library/tools/box:latest");
    mirror.push(image, "fuzz.example/box:latest");
    hub_mirror(&root, &mirror);
    root.berth_ok(["pull", "-q", "docker.io/library/tools/box"]);
    root.berth_ok(["pull", "-q", "docker.io/fuzz.example/box"]);
    let mut shown: Vec<String> = images_json(&root)
        .iter()
        .map(|r| r["Repository"].as_str().unwrap_or_default().to_string())
        .collect();
    shown.sort();
    assert_eq!(shown, ["docker.io/fuzz.example/box", "library/tools/box"]);
    for repo in &shown {
        let out = root.berth_ok(["run", "--rm", &format!("{repo}:latest"), "echo", "ran"]);
        assert_eq!(out.trim(), "ran", "{repo}");
    }
    let inspect: serde_json::Value =
        serde_json::from_str(&root.berth_ok(["image", "inspect", "library/tools/box"])).unwrap();
    let tags = inspect[0]["RepoTags"].as_array().unwrap();
    assert!(
        tags.iter().any(|t| t == "library/tools/box:latest"),
        "{tags:?}"
    );
}

/// Fuzz target `unpack` (a PAX `mtime` of `-9223372036854775808.5`): taking one second off the
/// smallest i64 to carry the fraction overflowed; a debug build panicked mid-pull and a release
/// build set a wrapped, far-future time. A time that cannot be represented is ignored, as an
/// unparsable one is: the file keeps the header's mtime, and the image pulls and runs.
#[test]
fn an_unrepresentable_pax_mtime_falls_back_to_the_header_time() {
    let record = "32 mtime=-9223372036854775808.5\n";
    assert_eq!(record.len(), 32);
    let mut tar = TarBuilder::new();
    tar.entry(
        "PaxHeaders/stamp",
        EntryType::XHeader,
        0o644,
        0,
        0,
        "",
        record.as_bytes(),
    )
    .file("stamp", 0o644, b"pax\n");
    let layer = LayerBlob::from_tar(&tar.finish(), Compression::fast());
    let image = assemble(
        "pax-mtime-overflow",
        Flavor::Oci,
        host_arch(),
        &[base_layer().clone(), layer],
    );
    let reg = Registry::start(Auth::None);
    reg.push(&image, "test/pax-mtime:latest");
    let name = reg.reference("test/pax-mtime:latest");
    let root = TestRoot::new();
    root.berth_ok(["pull", "-q", &name]);
    let out = root.berth_ok([
        "run",
        "--rm",
        &name,
        "sh",
        "-c",
        "cat /stamp; stat -c %Y /stamp",
    ]);
    assert_eq!(out, format!("pax\n{FIXED_MTIME}\n"));
}
