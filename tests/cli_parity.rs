//! Docker parity of the command line, against the real binary as root: arguments after IMAGE
//! (and after the container in `exec`) belong to the container, exit codes scripts rely on,
//! listings into a closed pipe, the prune prompts, `image prune -a`, the management forms,
//! `version` and `info`.

mod common;

use common::pulled_busybox as pulled;

use std::io::Write;
use std::process::{Output, Stdio};

use common::images;
use common::TestRoot;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs berth with `input` on stdin.
fn answering(root: &TestRoot, args: &[&str], input: &[u8]) -> Output {
    let mut child = root
        .cmd()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn berth");
    // A command that does not read its stdin may close it first: ignore EPIPE here.
    let _ = child.stdin.take().expect("stdin").write_all(input);
    child.wait_with_output().expect("berth output")
}

/// A registry with the busybox image pulled into `root` as `test/busybox:latest`.

#[test]
fn arguments_after_image_belong_to_the_container() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    // Flags after IMAGE are the command's, --help included.
    let out = root.berth_ok(["run", "--rm", &img, "echo", "-w", "/tmp", "--help"]);
    assert_eq!(out, "-w /tmp --help\n");
    let out = root.berth_ok(["run", "--rm", "--entrypoint", "id", &img, "-u"]);
    assert_eq!(out, "0\n");
    // Flags before IMAGE are still berth's.
    let out = root.berth_ok(["run", "--rm", "-w", "/tmp", &img, "pwd"]);
    assert_eq!(out, "/tmp\n");
    // The same after the container in exec, and in the management form.
    root.berth_ok(["run", "-d", "--name", "web", &img, "sleep", "100"]);
    let out = root.berth_ok(["exec", "web", "echo", "-u", "nobody", "-it"]);
    assert_eq!(out, "-u nobody -it\n");
    let out = root.berth_ok(["container", "exec", "-w", "/tmp", "web", "pwd", "-P"]);
    assert_eq!(out, "/tmp\n");
    // A flag berth does not know, before IMAGE, is still a usage error (not an image name).
    let out = root.berth(["run", "--no-such-flag", &img]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--no-such-flag"),
        "{}",
        text(&out.stderr)
    );
    root.berth_ok(["rm", "-f", "web"]);
}

#[test]
fn exit_codes_scripts_rely_on() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    // rm -f of a container that does not exist is not a failure.
    let out = root.berth(["rm", "-f", "nosuch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    root.berth_ok(["run", "-d", "--name", "web", &img, "sleep", "100"]);
    root.berth_ok(["create", "--name", "idle", &img, "true"]);
    // One target fails: the ones that worked are still printed, and the exit code is 1.
    let cases: [&[&str]; 6] = [
        &["pause", "web", "nosuch"],
        &["unpause", "web", "nosuch"],
        &["restart", "-t", "1", "web", "nosuch"],
        &["kill", "web", "nosuch"],
        &["start", "web", "nosuch"],
        &["stop", "-t", "1", "web", "nosuch"],
    ];
    for args in cases {
        let out = root.berth(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), "web\n", "{args:?}");
        assert!(text(&out.stderr).contains("nosuch"), "{args:?}");
    }
    let out = root.berth(["rm", "web", "nosuch", "idle"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "web\nidle\n");

    // Usage errors: a bad flag is 125, a missing argument 1, as in docker.
    for (args, code) in [
        (&["ps", "--no-such-flag"][..], 125),
        (&["run", "--cpus", "lots", &img], 125),
        (&["logs"][..], 1),
        (&["exec", "web"][..], 1),
        (&["logs", "a", "b"][..], 1),
    ] {
        let out = root.berth(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("--help"), "{args:?}");
    }
    assert_eq!(root.berth(["run", "--help"]).status.code(), Some(0));
}

#[test]
fn listings_into_a_closed_pipe_exit_quietly() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    root.berth_ok(["run", "-d", "--name", "web", &img, "sleep", "100"]);
    root.berth_ok(["volume", "create", "data"]);
    let cases: [&[&str]; 8] = [
        &["images"],
        &["images", "--format", "json"],
        &["ps", "-a"],
        &["ps", "--format", "json"],
        &["top", "web"],
        &["volume", "ls"],
        &["container", "ls"],
        &["info"],
    ];
    for args in cases {
        // The reader is gone before berth writes its first line.
        let (reader, writer) = nix::unistd::pipe().expect("pipe");
        drop(reader);
        let out = root
            .cmd()
            .args(args)
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .expect("run berth");
        let err = text(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_ne!(out.status.code(), Some(101), "{args:?}");
    }
    root.berth_ok(["rm", "-f", "web"]);
}

#[test]
fn container_prune_asks_and_reports_what_it_freed() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    let script = "head -c 200000 /dev/zero > /big";
    root.berth_ok(["run", "--name", "big", &img, "sh", "-c", script]);
    root.berth_ok(["run", "-d", "--name", "web", &img, "sleep", "100"]);

    // "n" (and the end of input) cancels: nothing removed, exit 0.
    for answer in [&b"n\n"[..], b""] {
        let out = answering(&root, &["container", "prune"], answer);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.starts_with(
                "WARNING! This will remove all stopped containers.\n\
                 Are you sure you want to continue? [y/N] "
            ),
            "{stdout}"
        );
        assert!(!stdout.contains("Deleted"), "{stdout}");
        assert!(root.berth_ok(["ps", "-aq"]).lines().count() == 2);
    }
    let out = answering(&root, &["container", "prune"], b"y\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let full = root.berth_ok(["ps", "-a", "--no-trunc", "-q"]);
    assert_eq!(full.lines().count(), 1, "only the running one is left");
    assert!(stdout.contains("Deleted Containers:\n"), "{stdout}");
    // The 200 kB file in the writable layer (and nothing much besides).
    assert!(
        stdout.contains("\n\nTotal reclaimed space: 200"),
        "{stdout}"
    );
    // -f does not ask.
    root.berth_ok(["stop", "-t", "1", "web"]);
    let out = root.berth_ok(["container", "prune", "-f"]);
    assert!(!out.contains("WARNING"), "{out}");
    assert!(out.starts_with("Deleted Containers:\n"), "{out}");
    assert_eq!(root.berth_ok(["ps", "-aq"]), "");
}

#[test]
fn image_prune_all_removes_every_unused_image() {
    let root = TestRoot::new();
    let (reg, used) = pulled(&root);
    reg.push(images::schema2(), "test/unused:1");
    let unused = reg.reference("test/unused:1");
    root.berth_ok(["pull", "-q", &unused]);
    let unused_id = images::schema2()
        .config_digest
        .clone()
        .expect("config digest");
    root.berth_ok(["create", "--name", "keep", &used, "true"]);

    // Without -a only dangling images go: there are none.
    let out = root.berth_ok(["image", "prune", "-f"]);
    assert!(out.starts_with("Total reclaimed space: "), "{out}");
    assert_eq!(root.berth_ok(["images", "-q"]).lines().count(), 2);
    // "n" cancels.
    let out = answering(&root, &["image", "prune", "-a"], b"n\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).starts_with(
            "WARNING! This will remove all images without at least one container associated \
             to them.\nAre you sure you want to continue? [y/N] "
        ),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(root.berth_ok(["images", "-q"]).lines().count(), 2);
    // "y": the unused image goes, tags and all; the one a container uses stays.
    let out = answering(&root, &["image", "prune", "-a"], b"y\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Deleted Images:\n"), "{stdout}");
    assert!(
        stdout.contains(&format!("untagged: {unused}\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("deleted: {unused_id}\n")),
        "{stdout}"
    );
    assert!(!stdout.contains(&used), "{stdout}");
    assert!(stdout.contains("Total reclaimed space: "), "{stdout}");
    let left = root.berth_ok(["images", "--format", "json"]);
    assert_eq!(left.lines().count(), 1, "{left}");
    assert!(left.contains("test/busybox"), "{left}");
}

#[test]
fn management_forms_version_and_info() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    let id = root.berth_ok(["container", "create", "--name", "web", &img, "sleep", "100"]);
    assert_eq!(id.trim().len(), 64);
    assert_eq!(root.berth_ok(["container", "start", "web"]), "web\n");
    for ls in ["ls", "list", "ps"] {
        let out = root.berth_ok(["container", ls]);
        assert!(out.contains("web"), "{ls}: {out}");
    }
    let v: serde_json::Value =
        serde_json::from_str(&root.berth_ok(["container", "inspect", "web"])).expect("json");
    assert_eq!(v[0]["State"]["Status"], "running");
    assert_eq!(
        root.berth_ok(["container", "exec", "web", "echo", "hi"]),
        "hi\n"
    );
    assert!(root.berth_ok(["container", "top", "web"]).contains("sleep"));
    root.berth_ok(["container", "logs", "web"]);

    // info counts what the engine holds.
    let info: serde_json::Value =
        serde_json::from_str(&root.berth_ok(["info", "--format", "json"])).expect("info json");
    assert_eq!(info["Containers"], 1);
    assert_eq!(info["ContainersRunning"], 1);
    assert_eq!(info["Images"], 1);
    assert_eq!(info["Driver"], "overlay");
    assert_eq!(
        info["DockerRootDir"],
        root.path().to_string_lossy().as_ref()
    );
    let cgroup = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "2"
    } else {
        "1"
    };
    assert_eq!(info["CgroupVersion"], cgroup);
    let out = root.berth_ok(["info"]);
    assert!(out.contains(" Containers: 1\n  Running: 1\n"), "{out}");
    assert!(
        out.contains(&format!(" Cgroup Version: {cgroup}\n")),
        "{out}"
    );
    let err = root.berth_err(["info", "--format", "{{yaml .}}"]);
    assert!(err.contains("yaml"), "{err}");

    let version: serde_json::Value =
        serde_json::from_str(&root.berth_ok(["version", "--format", "json"])).expect("json");
    assert_eq!(version["Client"]["Version"], env!("CARGO_PKG_VERSION"));
    assert!(root
        .berth_ok(["version"])
        .contains(env!("CARGO_PKG_VERSION")));

    root.berth_ok(["container", "stop", "-t", "1", "web"]);
    root.berth_ok(["container", "wait", "web"]);
    assert_eq!(root.berth_ok(["container", "rm", "web"]), "web\n");

    // The image management form.
    assert!(root.berth_ok(["image", "ls"]).contains("test/busybox"));
    root.berth_ok(["image", "tag", &img, "other:1"]);
    root.berth_ok(["image", "inspect", "other:1"]);
    let out = root.berth_ok(["image", "rm", "other:1"]);
    assert!(out.contains("Untagged: other:1"), "{out}");
    root.berth_ok(["image", "pull", "-q", &img]);
    root.berth_ok(["image", "prune", "-f"]);
}

/// Out-of-range limits are refused before the missing image is pulled (docker checks its
/// flags first): nothing is fetched, nothing is created.
#[test]
fn bad_limits_are_refused_before_a_pull() {
    let root = TestRoot::new();
    // Nothing listens on loopback port 9: a pull would fail with "cannot reach registry".
    for (flag, value, says) in [
        ("--cpus", "9999", "range of CPUs"),
        ("--memory", "1b", "Minimum memory limit"),
        ("--memory", "lots", "invalid size"),
    ] {
        let out = root.berth(["run", flag, value, "127.0.0.1:9/absent/image"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{flag} {value}: {err}");
        assert!(err.contains(says), "{flag} {value}: {err}");
        assert!(
            !err.contains("Unable to find image"),
            "{flag} {value}: {err}"
        );
    }
    assert_eq!(root.berth_ok(["ps", "-aq"]), "");
}
