//! A container whose start fails: with `run --rm` nothing is left (record, directory, mounts,
//! anonymous volumes); without `--rm` it stays Created with its volumes, as in docker.

mod containers_support;

use containers_support::{stderr, TestRoot};

fn volumes(t: &TestRoot) -> Vec<String> {
    t.ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn dir_entries(t: &TestRoot, sub: &str) -> Vec<String> {
    std::fs::read_dir(t.root().join(sub))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn assert_nothing_left(t: &TestRoot, case: &str) {
    assert_eq!(t.ok(&["ps", "-aq"]), "", "{case}: a container is left");
    assert_eq!(volumes(t), Vec::<String>::new(), "{case}: volumes are left");
    assert_eq!(dir_entries(t, "volumes"), Vec::<String>::new(), "{case}");
    assert_eq!(dir_entries(t, "containers"), Vec::<String>::new(), "{case}");
    assert_eq!(t.mounts(), Vec::<String>::new(), "{case}: mounts are left");
}

#[test]
fn run_rm_that_fails_to_start_leaves_nothing() {
    let t = TestRoot::new();
    let rootfs = t.rootfs().to_string_lossy().into_owned();
    let empty = t.root().join("empty-rootfs");
    std::fs::create_dir(&empty).unwrap();
    let empty = empty.to_string_lossy().into_owned();
    let cases: [(&str, Vec<&str>); 4] = [
        (
            "missing command",
            vec!["--rm", "-v", "/data", "--rootfs", &rootfs, "/nonexistent"],
        ),
        (
            "memory limit below usage",
            vec![
                "--rm", "-v", "/data", "--memory", "1b", "--rootfs", &rootfs, "true",
            ],
        ),
        (
            "rootfs without the command",
            vec!["--rm", "-v", "/data", "--rootfs", &empty, "true"],
        ),
        (
            "interactive, missing command",
            vec![
                "--rm",
                "-i",
                "-v",
                "/data",
                "--rootfs",
                &rootfs,
                "/nonexistent",
            ],
        ),
    ];
    for (case, args) in cases {
        let mut all = vec!["run"];
        all.extend(args);
        let out = t.berth(&all);
        assert!(!out.status.success(), "{case}: the run succeeded");
        assert!(!stderr(&out).trim().is_empty(), "{case}: no error message");
        assert_nothing_left(&t, case);
    }
    let out = t.berth(&[
        "run",
        "--rm",
        "-v",
        "/data",
        "--rootfs",
        &rootfs,
        "/nonexistent",
    ]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
}

#[test]
fn plain_run_that_fails_to_start_keeps_the_container_and_its_volumes() {
    let t = TestRoot::new();
    let rootfs = t.rootfs().to_string_lossy().into_owned();
    let out = t.berth(&[
        "run",
        "--name",
        "kept",
        "-v",
        "/data",
        "--rootfs",
        &rootfs,
        "/nonexistent",
    ]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&t.ok(&["inspect", "kept"])).unwrap();
    assert_eq!(v[0]["State"]["Status"], "created");
    assert_eq!(v[0]["State"]["ExitCode"], 127);
    assert_eq!(v[0]["State"]["Pid"], 0);
    let vol = v[0]["Mounts"][0]["Name"].as_str().unwrap().to_string();
    assert_eq!(volumes(&t), vec![vol.clone()]);
    assert!(t.mounts().is_empty(), "{:?}", t.mounts());
    // A second failed start keeps it too; `rm -v` then takes the volume with it.
    let again = t.berth(&["start", "kept"]);
    assert!(!again.status.success());
    assert_eq!(volumes(&t), vec![vol]);
    t.ok(&["rm", "-v", "kept"]);
    assert_nothing_left(&t, "rm -v");
}
