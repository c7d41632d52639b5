//! Bad input and failed starts against the real binary, as root: `-w` created as docker does,
//! libcontainer failures named by their cause, docker's range checks and exit codes.

mod containers_support;

use std::os::unix::fs::MetadataExt;

use containers_support::{stderr, stdout, TestRoot};

/// Runs and requires exit `code`; returns stderr.
fn fails(t: &TestRoot, args: &[&str], code: i32) -> String {
    let out = t.berth(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "berth {args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stderr(&out)
}

#[test]
fn workdir_is_created_in_the_rootfs_owned_as_docker_does() {
    let t = TestRoot::new();
    let out = t.run(
        &["--rm", "-w", "/new/deep/../dir"],
        &["sh", "-c", "pwd; stat -c '%u:%g %a' . /new"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "/new/dir\n0:0 755\n0:0 755\n");

    let out = t.run(
        &["--rm", "-u", "1000:50", "-w", "/home/app/work"],
        &["sh", "-c", "pwd; stat -c '%u:%g' . ..; touch mine"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "/home/app/work\n1000:50\n0:0\n");

    // Inside a bind mount, the directory is made in the mount's source, where the container
    // sees it.
    let host = t.root().join("host-dir");
    std::fs::create_dir(&host).unwrap();
    let bind = format!("{}:/data", host.display());
    let out = t.run(&["--rm", "-v", &bind, "-w", "/data/a/b"], &["pwd"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "/data/a/b\n");
    assert!(host.join("a/b").is_dir());
    assert_eq!(
        std::fs::metadata(host.join("a")).unwrap().mode() & 0o777,
        0o755
    );

    // A symlink in the image resolves inside the rootfs, never on the host: one to a
    // directory of the image is followed there, one to a host directory is refused.
    let rootfs = t.rootfs();
    std::os::unix::fs::symlink("/tmp", rootfs.join("scratch")).unwrap();
    let out = t.run(&["--rm", "-w", "/scratch/made"], &["ls", "-d", "/tmp/made"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "/tmp/made\n");
    let outside = t.root().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, rootfs.join("escape")).unwrap();
    std::os::unix::fs::symlink("../../../../../../..", rootfs.join("up")).unwrap();
    let out = t.run(&["--rm", "-w", "/escape/made"], &["pwd"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("/escape is a symlink to a directory that does not exist in the container"),
        "{}",
        stderr(&out)
    );
    // `..` stops at the container's root: this path is made inside the rootfs.
    let up = format!("/up{}/made", outside.display());
    let out = t.run(&["--rm", "-w", &up], &["pwd"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !outside.join("made").exists(),
        "the workdir was created on the host through a symlink"
    );
    // A file in the way is named, with docker's code.
    let out = t.run(&["--rm", "-w", "/etc/passwd/x"], &["pwd"]);
    assert_eq!(out.status.code(), Some(125));
    let e = stderr(&out);
    assert!(
        e.contains("\"/etc/passwd/x\"")
            && e.contains("/etc/passwd exists in the container and is not a directory"),
        "{e}"
    );
    assert!(!e.contains("unix syscall"), "{e}");
    assert!(t.mounts().is_empty(), "{:?}", t.mounts());
}

#[test]
fn start_failures_name_their_cause_path_and_errno() {
    let t = TestRoot::new();
    let file = t.root().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let on_dir = format!("{}:/etc", file.display());
    let e = stderr(&t.run(&["--rm", "-v", &on_dir], &["true"]));
    assert!(
        e.contains("/etc") && e.contains("a-file") && e.contains("not a directory (ENOTDIR)"),
        "{e}"
    );
    assert!(!e.contains("prepare rootfs"), "{e}");

    let out = t.run(&["--rm", "--tmpfs", "/etc/passwd/x"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    let e = stderr(&out);
    assert!(
        e.contains("\"/etc/passwd/x\"") && e.contains("ENOTDIR"),
        "{e}"
    );

    // A working directory inside a tmpfs cannot be made in advance: the init process's own
    // cause (chdir, ENOENT) reaches the user instead of "failed to unix syscall" alone.
    let out = t.run(
        &["--name", "tmpwd", "--tmpfs", "/t", "-w", "/t/sub"],
        &["pwd"],
    );
    let e = stderr(&out);
    assert!(
        e.contains("failed to chdir") && e.contains("ENOENT (no such file or directory)"),
        "{e}"
    );
    assert!(
        e.contains("\"/t/sub\"") && e.contains("inside a tmpfs mount"),
        "{e}"
    );
    assert_eq!(out.status.code(), Some(127), "{e}");
    // The container stays created, with the message recorded for inspect and the TUI.
    let v: serde_json::Value = serde_json::from_str(&t.ok(&["inspect", "tmpwd"])).unwrap();
    assert_eq!(v[0]["State"]["Status"], "created");
    let id = v[0]["Id"].as_str().unwrap();
    for hierarchy in ["memory", "pids", "cpu"] {
        let cg = std::path::Path::new("/sys/fs/cgroup")
            .join(hierarchy)
            .join("berth")
            .join(id);
        assert!(!cg.exists(), "the failed start left {}", cg.display());
    }
    assert!(
        v[0]["State"]["Error"]
            .as_str()
            .is_some_and(|s| s.contains("failed to chdir")),
        "{v}"
    );

    // exec's failures carry their cause too.
    let out = t.run(&["-d", "--name", "execme"], &["sleep", "100"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let e = stderr(&t.berth(&["exec", "-w", "/etc/passwd", "execme", "pwd"]));
    assert!(
        e.contains("failed to chdir") && e.contains("ENOTDIR (not a directory)"),
        "{e}"
    );
    t.ok(&["rm", "-f", "execme"]);

    // The command's own failures keep docker's wording and codes.
    let e = fails(
        &t,
        &[
            "run",
            "--rm",
            "--rootfs",
            t.rootfs().to_str().unwrap(),
            "/nonexistent",
        ],
        127,
    );
    assert!(
        e.contains("exec: \"/nonexistent\": stat /nonexistent: no such file or directory"),
        "{e}"
    );
    let e = fails(
        &t,
        &[
            "run",
            "--rm",
            "--rootfs",
            t.rootfs().to_str().unwrap(),
            "/etc",
        ],
        126,
    );
    assert!(e.contains("is a directory"), "{e}");
    assert!(t.mounts().is_empty(), "{:?}", t.mounts());
}

#[test]
fn numeric_flags_are_range_checked_with_dockers_messages() {
    let t = TestRoot::new();
    let rootfs = t.rootfs();
    let r = rootfs.to_str().unwrap();
    let cpus = std::thread::available_parallelism().unwrap().get();
    let range =
        format!("range of CPUs is from 0.01 to {cpus}.00, as there are only {cpus} CPUs available");
    let too_many = (cpus + 1).to_string();
    for (flags, want) in [
        (vec!["--memory", "-5m"], "invalid size: '-5m'"),
        (vec!["-m", "4m"], "Minimum memory limit allowed is 6MB"),
        (vec!["--memory", "99999999999t"], "too large"),
        (vec!["--memory", "lots"], "invalid size: 'lots'"),
        (vec!["--cpus", "-1"], range.as_str()),
        (vec!["--cpus", "0.001"], range.as_str()),
        (vec!["--cpus", too_many.as_str()], range.as_str()),
        (
            vec!["--cpus", "1e400"],
            "failed to parse 1e400 as a rational number",
        ),
        (
            vec!["--cpus", "NaN"],
            "failed to parse NaN as a rational number",
        ),
        (vec!["--pids-limit", "99999999999999999999"], "--pids-limit"),
    ] {
        for verb in ["create", "run"] {
            let mut args = vec![verb, "--rm", "--rootfs"];
            args.extend(&flags);
            args.extend([r, "true"]);
            let e = fails(&t, &args, 125);
            assert!(e.contains(want), "{args:?}: {e}");
        }
    }
    assert_eq!(t.ok(&["ps", "-aq"]), "", "nothing half-made is left");
    // In range: accepted, and -1 pids means unlimited as in docker.
    let out = t.run(
        &["--rm", "-m", "6m", "--cpus", "0.5", "--pids-limit", "-1"],
        &["true"],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let out = t.run(
        &["-d", "--name", "talker"],
        &[
            "sh",
            "-c",
            "trap 'exit 0' TERM; echo one; echo two; while :; do sleep 0.1; done",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::thread::sleep(std::time::Duration::from_millis(500));
    // --tail -1 is everything, as in docker; nonsense is refused.
    assert_eq!(t.ok(&["logs", "--tail", "-1", "talker"]), "one\ntwo\n");
    assert_eq!(t.ok(&["logs", "-n", "1", "talker"]), "two\n");
    let e = fails(&t, &["logs", "--tail", "x", "talker"], 125);
    assert!(e.contains("invalid --tail \"x\""), "{e}");
    let e = fails(&t, &["stop", "-t", "99999999999", "talker"], 125);
    assert!(e.contains("invalid --time 99999999999"), "{e}");
    // stop -t -1 waits without a limit; the container ends on TERM at once.
    t.ok(&["stop", "-t", "-1", "talker"]);
    t.ok(&["rm", "talker"]);
}

#[test]
fn no_such_container_exits_1_everywhere_but_run_and_create() {
    let t = TestRoot::new();
    for args in [
        vec!["logs", "nosuch"],
        vec!["logs", "--tail", "-1", "nosuch"],
        vec!["top", "nosuch"],
        vec!["rename", "nosuch", "other"],
        vec!["start", "nosuch"],
        vec!["start", "-a", "nosuch"],
        vec!["stop", "nosuch"],
        vec!["stop", "-t", "-1", "nosuch"],
        vec!["restart", "nosuch"],
        vec!["kill", "nosuch"],
        vec!["rm", "nosuch"],
        vec!["pause", "nosuch"],
        vec!["unpause", "nosuch"],
        vec!["wait", "nosuch"],
        vec!["container", "inspect", "nosuch"],
        vec!["attach", "nosuch"],
        vec!["exec", "nosuch", "true"],
    ] {
        let e = fails(&t, &args, 1);
        assert!(e.contains("no such container: nosuch"), "{args:?}: {e}");
    }
    let r = t.rootfs();
    let e = fails(
        &t,
        &[
            "run",
            "--rm",
            "--rootfs",
            "--volumes-from",
            "nosuch",
            r.to_str().unwrap(),
            "true",
        ],
        125,
    );
    assert!(e.contains("no such container"), "{e}");
    // A command line clap cannot parse is docker's 125 too, not 2.
    fails(&t, &["stop", "--no-such-flag", "x"], 125);
}
