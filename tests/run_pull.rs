//! `run`/`create --pull always|missing|never` against a real registry (parity item 8).

mod common;

use common::images;
use common::{Auth, Registry, TestRoot};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn pull_policies_follow_docker() {
    let root = TestRoot::new();
    let reg = Registry::start(Auth::None);
    reg.push(images::single_layer(), "test/busybox:latest");
    let name = reg.reference("test/busybox:latest");

    // never, with nothing stored: refused with 125, nothing pulled or created.
    let out = root.berth(["run", "--rm", "--pull", "never", &name, "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--pull never"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(root.berth_ok(["images", "-q"]).trim(), "");
    assert_eq!(root.berth_ok(["ps", "-aq"]).trim(), "");

    // missing (the default) pulls once; then the stored image is used without a pull.
    let out = root.berth(["run", "--rm", &name, "true"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("Unable to find image"));
    let out = root.berth(["run", "--rm", "--pull", "missing", &name, "true"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("Digest:"),
        "{}",
        text(&out.stderr)
    );

    // always pulls although the image is stored; never runs the stored one.
    let out = root.berth(["create", "--pull", "always", &name, "true"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Digest:"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("Unable to find image"));
    let out = root.berth(["run", "--rm", "--pull", "never", &name, "true"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A policy docker does not have: 125, naming the choices.
    let out = root.berth(["run", "--rm", "--pull", "sometimes", &name, "true"]);
    assert_eq!(out.status.code(), Some(125));
    let err = text(&out.stderr);
    assert!(err.contains("sometimes") && err.contains("always"), "{err}");
}
