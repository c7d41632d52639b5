//! The init layer (`layers/<top chain>-init`): the runtime's mount points an image lacks, made
//! once per image and shared by its containers, so a container's own layer never holds them.
//! Images from the harness registry that lack some of them (`common::sparse`); the container's
//! upper directory, `diff`, `export`, and the layer store after `rmi` and `image prune`.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::sparse::{sparse, Case, BASE_HOSTS};
use common::{Auth, Registry, TestRoot};

fn pulled(root: &TestRoot, case: Case) -> (Registry, String) {
    let reg = Registry::start(Auth::None);
    reg.push(sparse(case), "test/sparse:latest");
    let image = reg.reference("test/sparse:latest");
    root.berth_ok(["pull", "-q", &image]);
    (reg, image)
}

/// The init layers in the root's layer store.
fn init_layers(root: &TestRoot) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root.path().join("layers"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with("-init"))
        .collect();
    out.sort();
    out
}

/// Init layers being made (or left by a maker) in the root's `tmp/`.
fn staged_init_layers(root: &TestRoot) -> Vec<String> {
    std::fs::read_dir(root.path().join("tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("init-"))
        .collect()
}

/// Every path under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in std::fs::read_dir(dir.join(&rel)).unwrap().flatten() {
            let r = rel.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                stack.push(r.clone());
            }
            out.push(r.to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

/// The upper directory of container `name`.
fn upper(root: &TestRoot, name: &str) -> PathBuf {
    let id = root.berth_ok(["inspect", "-f", "{{.Id}}", name]);
    root.path().join("containers").join(id.trim()).join("upper")
}

/// An exported container's entries: name → (type flag, content).
fn exported(root: &TestRoot, name: &str) -> BTreeMap<String, (u8, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fs.tar");
    root.berth_ok(["export", "-o", out.to_str().unwrap(), name]);
    let data = std::fs::read(&out).unwrap();
    let mut ar = tar::Archive::new(&data[..]);
    let mut map = BTreeMap::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let kind = e.header().entry_type().as_byte();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut content).unwrap();
        map.insert(path.trim_end_matches('/').to_string(), (kind, content));
    }
    map
}

#[test]
fn a_container_of_an_image_without_mount_points_keeps_none_in_its_layer() {
    let root = TestRoot::new();
    let (_reg, image) = pulled(&root, Case::Bare);
    let out = root.berth_ok([
        "run",
        "--name",
        "bare",
        "--hostname",
        "web",
        &image,
        "sh",
        "-c",
        "ls -d /proc /dev /sys /etc && cat /etc/hostname && grep -c localhost /etc/hosts",
    ]);
    assert_eq!(out, "/dev\n/etc\n/proc\n/sys\nweb\n2\n");
    // The runtime made none of them in the container's layer: the init layer has them.
    assert_eq!(tree(&upper(&root, "bare")), Vec::<String>::new());
    assert_eq!(root.berth_ok(["diff", "bare"]), "");
    let layers = init_layers(&root);
    assert_eq!(layers.len(), 1, "{layers:?}");
    assert_eq!(
        tree(&layers[0]),
        [
            "dev",
            "etc",
            "etc/hostname",
            "etc/hosts",
            "etc/resolv.conf",
            "proc",
            "sys"
        ]
    );
    for (path, mode) in [("etc", 0o755), ("proc", 0o755), ("etc/hosts", 0o644)] {
        let md = std::fs::symlink_metadata(layers[0].join(path)).unwrap();
        assert_eq!(md.mode() & 0o7777, mode, "{path}");
        assert_eq!((md.uid(), md.gid()), (0, 0), "{path}");
    }
    // What the container writes under /etc is its change; /etc itself was there already, as
    // in docker, whose init layer also holds it.
    root.berth_ok([
        "run",
        "--name",
        "writer",
        &image,
        "sh",
        "-c",
        "echo x > /etc/new",
    ]);
    assert_eq!(root.berth_ok(["diff", "writer"]), "C /etc\nA /etc/new\n");
    // export shows the mount points (as docker's does); the files are empty placeholders.
    let files = exported(&root, "bare");
    for dir in ["proc", "dev", "sys", "etc"] {
        assert_eq!(files[dir].0, b'5', "{dir} is a directory");
    }
    for f in ["etc/hostname", "etc/hosts", "etc/resolv.conf"] {
        assert_eq!(files[f], (b'0', Vec::new()), "{f}");
    }
    // commit takes the container's layer only: the new image runs, its layer holds /etc/new.
    root.berth_ok(["commit", "writer", "test/committed:1"]);
    let out = root.berth_ok(["run", "--rm", "test/committed:1", "cat", "/etc/new"]);
    assert_eq!(out, "x\n");
}

#[test]
fn one_init_layer_serves_every_container_of_an_image_and_goes_with_it() {
    let root = TestRoot::new();
    let (_reg, image) = pulled(&root, Case::Bare);
    assert!(init_layers(&root).is_empty(), "made at the first create");
    root.berth_ok(["create", "--name", "one", &image, "true"]);
    let layers = init_layers(&root);
    assert_eq!(layers.len(), 1, "{layers:?}");
    let first = std::fs::metadata(&layers[0]).unwrap();
    root.berth_ok(["create", "--name", "two", &image, "true"]);
    assert_eq!(init_layers(&root), layers, "the same one");
    let again = std::fs::metadata(&layers[0]).unwrap();
    assert_eq!(
        (first.ino(), first.mtime_nsec()),
        (again.ino(), again.mtime_nsec()),
        "made once"
    );
    for name in ["one", "two"] {
        root.berth_ok(["start", "-a", name]);
        let lower = root.berth_ok(["inspect", "-f", "{{.GraphDriver.Data.LowerDir}}", name]);
        assert!(
            lower.starts_with(&format!("{}:", layers[0].display())),
            "the init layer is the topmost lower: {lower}"
        );
    }
    // The image stays while its containers do, and its init layer with it.
    let busy = root.berth(["rmi", &image]);
    assert!(!busy.status.success());
    root.berth_ok(["image", "prune", "-a", "-f"]);
    assert_eq!(init_layers(&root), layers);
    // rmi removes it with the layers; nothing is left in the store.
    root.berth_ok(["rm", "one", "two"]);
    root.berth_ok(["rmi", &image]);
    assert!(init_layers(&root).is_empty());
    assert_eq!(tree(&root.path().join("layers")), Vec::<String>::new());
    // Four first runs at once make one init layer; the makers that lost leave nothing.
    root.berth_ok(["pull", "-q", &image]);
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| root.berth(["run", "--rm", &image, "true"])))
            .collect();
        for r in runs {
            let out = r.join().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    });
    assert_eq!(init_layers(&root).len(), 1);
    assert_eq!(staged_init_layers(&root), Vec::<String>::new());
    // image prune removes it as rmi does.
    root.berth_ok(["image", "prune", "-a", "-f"]);
    assert!(init_layers(&root).is_empty());
    assert_eq!(tree(&root.path().join("layers")), Vec::<String>::new());
    assert_eq!(staged_init_layers(&root), Vec::<String>::new());
}

#[test]
fn an_image_whose_etc_is_a_symlink_runs_and_keeps_it() {
    let root = TestRoot::new();
    let (_reg, image) = pulled(&root, Case::EtcSymlink);
    let out = root.berth_ok([
        "run",
        "--name",
        "linked",
        &image,
        "sh",
        "-c",
        "readlink /etc && head -1 /etc/passwd && grep -c localhost /etc/hosts",
    ]);
    assert_eq!(out, "private/etc\nroot:x:0:0:root:/root:/bin/sh\n2\n");
    // Nothing was added under (or over) the symlink: the image lacks no other mount point.
    assert!(init_layers(&root).is_empty(), "{:?}", init_layers(&root));
    let files = exported(&root, "linked");
    assert_eq!(files["etc"].0, b'2', "still a symlink");
}

#[test]
fn a_top_layer_that_deletes_etc_files_gets_them_from_the_init_layer() {
    for (case, want) in [
        (Case::HostsWhitedOut, vec!["etc", "etc/hosts"]),
        (
            Case::EtcOpaque,
            vec!["etc", "etc/hostname", "etc/hosts", "etc/resolv.conf"],
        ),
    ] {
        let root = TestRoot::new();
        let (_reg, image) = pulled(&root, case);
        let out = root.berth_ok([
            "run",
            "--name",
            "sub",
            &image,
            "sh",
            "-c",
            "grep -c localhost /etc/hosts; cat /etc/passwd | head -1",
        ]);
        assert_eq!(out, "2\nroot:x:0:0:root:/root:/bin/sh\n", "{case:?}");
        let layers = init_layers(&root);
        assert_eq!(layers.len(), 1, "{case:?}: {layers:?}");
        assert_eq!(tree(&layers[0]), want, "{case:?}");
        assert_eq!(tree(&upper(&root, "sub")), Vec::<String>::new(), "{case:?}");
        assert_eq!(root.berth_ok(["diff", "sub"]), "", "{case:?}");
        // The deleted file stays deleted for what reads the layers: export has the empty
        // placeholder, not the base layer's content.
        let files = exported(&root, "sub");
        assert_eq!(files["etc/hosts"].1, b"", "{case:?}: not {BASE_HOSTS:?}");
        assert!(files.contains_key("etc/passwd"), "{case:?}");
    }
}

/// The diff id of a layer with no entries (a tar of two zero blocks), as docker's `RUN true`
/// over any image makes it.
const EMPTY_LAYER: &str = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

#[test]
fn a_build_step_that_changes_nothing_makes_an_empty_layer() {
    let root = TestRoot::new();
    let (_reg, image) = pulled(&root, Case::Bare);
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!("FROM {image}\nRUN true\nRUN echo x > /etc/new\n"),
    )
    .unwrap();
    root.berth_ok([
        "build",
        "-q",
        "-t",
        "test/built:1",
        ctx.path().to_str().unwrap(),
    ]);
    let layers = root.berth_ok([
        "image",
        "inspect",
        "-f",
        "{{json .RootFS.Layers}}",
        "test/built:1",
    ]);
    let layers: Vec<String> = serde_json::from_str(&layers).unwrap();
    assert_eq!(layers.len(), 3, "{layers:?}");
    // No /etc (or any other mount point) the runtime made in the RUN container.
    assert_eq!(layers[1], EMPTY_LAYER);
    let out = root.berth_ok(["run", "--rm", "test/built:1", "cat", "/etc/new"]);
    assert_eq!(out, "x\n");
}
