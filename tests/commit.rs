//! `commit`, `diff` and `history` against real containers of an image pulled from the harness
//! registry: the changes docker would list, a committed image that runs with the container's
//! files and the `-c` config, and the history that says how it was made.

mod common;

use common::images::single_layer;
use common::{Auth, Registry, TestRoot};

fn setup() -> (Registry, TestRoot, String) {
    let reg = Registry::start(Auth::None);
    reg.push(single_layer(), "test/busybox:latest");
    let image = reg.reference("test/busybox:latest");
    let t = TestRoot::new();
    t.berth_ok(["pull", "-q", "--tls-verify=false", &image]);
    (reg, t, image)
}

#[test]
fn diff_lists_added_changed_and_deleted_paths() {
    let (_reg, t, image) = setup();
    t.berth_ok([
        "run",
        "--name",
        "c1",
        &image,
        "sh",
        "-c",
        "echo new > /root/new.txt; rm /etc/motd; echo more >> /etc/group; mkdir -p /opt/a/b",
    ]);
    let out = t.berth_ok(["diff", "c1"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        vec![
            "C /etc",
            "C /etc/group",
            "D /etc/motd",
            "A /opt",
            "A /opt/a",
            "A /opt/a/b",
            "C /root",
            "A /root/new.txt",
        ],
        "{out}"
    );
    let err = t.berth(["diff", "nope"]);
    assert_eq!(err.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&err.stderr).contains("nope"));
    t.berth_ok(["rm", "c1"]);
}

#[test]
fn commit_makes_an_image_that_runs_with_the_changes_and_config() {
    let (_reg, t, image) = setup();
    t.berth_ok([
        "run",
        "--name",
        "c1",
        "-e",
        "FROM_RUN=1",
        &image,
        "sh",
        "-c",
        "echo committed > /root/file; rm /etc/motd",
    ]);
    let id = t.berth_ok([
        "commit",
        "-a",
        "Tester <t@example.com>",
        "-m",
        "my change",
        "-c",
        "CMD [\"cat\", \"/root/file\"]",
        "-c",
        "ENV GREETING=hello",
        "-c",
        "WORKDIR /root",
        "-c",
        "EXPOSE 8080",
        "c1",
        "made:v1",
    ]);
    assert!(id.trim().starts_with("sha256:"), "{id}");
    // The new image runs its CMD and sees the container's changes.
    let out = t.berth_ok(["run", "--rm", "made:v1"]);
    assert_eq!(out, "committed\n");
    let out = t.berth_ok([
        "run",
        "--rm",
        "made:v1",
        "sh",
        "-c",
        "pwd; echo $GREETING $FROM_RUN; test -e /etc/motd || echo gone",
    ]);
    assert_eq!(out, "/root\nhello 1\ngone\n");
    let v: serde_json::Value =
        serde_json::from_str(&t.berth_ok(["image", "inspect", "made:v1"])).unwrap();
    assert_eq!(v[0]["Id"], id.trim());
    assert_eq!(v[0]["Author"], "Tester <t@example.com>");
    assert_eq!(
        v[0]["Config"]["Cmd"],
        serde_json::json!(["cat", "/root/file"])
    );
    assert!(
        v[0]["Config"]["ExposedPorts"]["8080/tcp"].is_object(),
        "{v}"
    );
    assert_eq!(v[0]["RootFS"]["Layers"].as_array().unwrap().len(), 2);

    // History: the commit on top, with its comment; the base below.
    let hist = t.berth_ok([
        "history",
        "--no-trunc",
        "--format",
        "{{.ID}}|{{.CreatedBy}}|{{.Comment}}",
        "made:v1",
    ]);
    let rows: Vec<&str> = hist.lines().collect();
    assert_eq!(rows.len(), 2, "{hist}");
    assert!(rows[0].starts_with(id.trim()), "{hist}");
    assert!(rows[0].ends_with("|my change"), "{hist}");
    assert!(rows[0].contains("echo committed"), "{hist}");
    assert!(rows[1].starts_with("<missing>|"), "{hist}");
    let q = t.berth_ok(["history", "-q", "made:v1"]);
    assert_eq!(q.lines().count(), 2);
    let table = t.berth_ok(["history", "made:v1"]);
    assert!(table.starts_with("IMAGE"), "{table}");
    assert!(table.contains("my change"), "{table}");

    // A commit of a commit stacks one more layer and keeps the earlier files.
    t.berth_ok([
        "run",
        "--name",
        "c2",
        "made:v1",
        "sh",
        "-c",
        "echo two > /root/two",
    ]);
    t.berth_ok(["commit", "c2", "made:v2"]);
    let out = t.berth_ok(["run", "--rm", "made:v2", "cat", "/root/file", "/root/two"]);
    assert_eq!(out, "committed\ntwo\n");
    for c in ["c1", "c2"] {
        t.berth_ok(["rm", c]);
    }
}

#[test]
fn commit_pauses_a_running_container_and_refuses_bad_changes() {
    let (_reg, t, image) = setup();
    t.berth_ok([
        "run",
        "-d",
        "--name",
        "live",
        &image,
        "sh",
        "-c",
        "echo up > /up; sleep 600",
    ]);
    // Wait for the file.
    for _ in 0..100 {
        if t.berth(["exec", "live", "test", "-e", "/up"])
            .status
            .success()
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let err = t.berth(["commit", "-c", "RUN echo no", "live", "bad:1"]);
    assert_eq!(err.status.code(), Some(125));
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(msg.contains("RUN is not a valid change"), "{msg}");
    assert!(!t.berth_ok(["images"]).contains("bad"), "nothing recorded");
    t.berth_ok(["commit", "live", "snap:1"]);
    // Still running (unpaused after the commit).
    let state = t.berth_ok(["inspect", "-f", "{{.State.Status}}", "live"]);
    assert_eq!(state.trim(), "running");
    assert_eq!(t.berth_ok(["run", "--rm", "snap:1", "cat", "/up"]), "up\n");
    t.berth_ok(["rm", "-f", "live"]);
}
