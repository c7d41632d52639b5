//! `berth load` unpacks an archive's layers while it reads them (image/archive/prestage.rs): the
//! layers it makes are those a pull makes, and one whose blob is wrong is never kept (see
//! save_load.rs, bad_archives_are_refused_and_leave_nothing).

mod common;

use common::fstree::tree;
use common::images;
use common::{Auth, Registry, TestRoot};

#[test]
fn layers_unpacked_while_loading_equal_the_pulled_ones() {
    let reg = Registry::start(Auth::None);
    let pulled = TestRoot::new();
    let image = images::multi_layer();
    reg.push(image, "test/multi:v1");
    let name = reg.reference("test/multi:v1");
    pulled.berth_ok(["pull", "-q", &name]);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("multi.tar");
    pulled.berth_ok(["save", "-o", archive.to_str().unwrap(), &name]);

    let loaded = TestRoot::new();
    let out = loaded
        .cmd()
        .env("RUST_LOG", "berth=debug")
        .args(["load", "-i", archive.to_str().unwrap()])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    for l in &image.layers {
        assert!(
            log.contains(&format!(
                "layer {}: unpacked while the archive was read",
                l.digest
            )),
            "{}: {log}",
            l.digest
        );
    }
    let layers = |root: &TestRoot| {
        let mut v: Vec<_> = std::fs::read_dir(root.path().join("layers"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    let (a, b) = (layers(&pulled), layers(&loaded));
    assert_eq!(a.len(), image.layers.len());
    assert_eq!(
        a.iter().map(|p| p.file_name()).collect::<Vec<_>>(),
        b.iter().map(|p| p.file_name()).collect::<Vec<_>>()
    );
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(tree(a), tree(b), "{}", a.display());
    }
    assert!(std::fs::read_dir(loaded.path().join("tmp"))
        .unwrap()
        .next()
        .is_none());
}
