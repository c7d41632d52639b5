//! `search` against a registry's catalog: docker's columns, templates, limits, basic auth.

mod common;

use common::images;
use common::{Auth, Registry, TestRoot};

#[test]
fn search_lists_matching_catalog_entries() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    for repo in ["test/busybox:v1", "more/busybox-extra:v1", "other/nginx:v1"] {
        reg.push(images::single_layer(), repo);
    }
    let out = root.berth_ok(["search", &format!("{}/busy", reg.addr())]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("OFFICIAL"),
        "{out}"
    );
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[1].starts_with(&reg.reference("more/busybox-extra")),
        "{out}"
    );
    assert!(
        lines[2].starts_with(&reg.reference("test/busybox")),
        "{out}"
    );
    let out = root.berth_ok([
        "search",
        "--limit",
        "1",
        "--format",
        "{{.Name}} {{.StarCount}}",
        &format!("{}/busy", reg.addr()),
    ]);
    assert_eq!(out, format!("{} 0\n", reg.reference("more/busybox-extra")));
    let err = root.berth_err(["search", "--limit", "0", &format!("{}/x", reg.addr())]);
    assert!(err.contains("outside the range"), "{err}");
    assert_eq!(
        root.berth_ok([
            "search",
            "--format",
            "{{.Name}}",
            &format!("{}/zzz", reg.addr())
        ]),
        ""
    );
}

#[test]
fn search_uses_the_stored_credentials() {
    let reg = Registry::start(Auth::basic("carol", "pw"));
    let root = TestRoot::new();
    reg.push(images::single_layer(), "secret/busybox:v1");
    let term = format!("{}/busy", reg.addr());
    let err = root.berth_err(["search", &term]);
    assert!(
        err.contains("unauthorized") && err.contains("berth login"),
        "{err}"
    );
    root.berth_ok(["login", "-u", "carol", "-p", "pw", reg.addr()]);
    let out = root.berth_ok(["search", "--format", "{{.Name}}", &term]);
    assert_eq!(out, format!("{}\n", reg.reference("secret/busybox")));
}
