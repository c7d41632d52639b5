//! The seccomp program compiled once per profile and kept under `ROOT/seccomp/` (see
//! `engine::runtime::seccomp_cache` and docs/libcontainer-patch.md): a start that finds it
//! loads it, and the filter it loads refuses what the profile refuses; a different profile
//! (other capabilities) gets a program of its own; a damaged file is compiled again.

mod containers_support;

use std::path::PathBuf;

use containers_support::{stderr, stdout, TestRoot};

fn sh(t: &TestRoot, flags: &[&str], script: &str) -> (i32, String, String) {
    let mut f = vec!["--rm"];
    f.extend_from_slice(flags);
    let o = t.run(&f, &["sh", "-c", script]);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

fn programs(t: &TestRoot) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(t.root().join("seccomp"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn the_program_is_compiled_once_per_profile_and_enforced_from_the_file() {
    let t = TestRoot::new();
    // A user namespace needs no capability: only the seccomp profile refuses it.
    let (code, _, err) = sh(&t, &[], "unshare -U true");
    assert_ne!(code, 0);
    assert!(err.contains("Operation not permitted"), "{err}");
    let first = programs(&t);
    assert_eq!(
        first.len(),
        1,
        "one program for the default profile: {first:?}"
    );
    assert!(first[0].extension().is_some_and(|e| e == "bpf"));
    let bytes = std::fs::read(&first[0]).unwrap();
    assert!(
        !bytes.is_empty() && bytes.len().is_multiple_of(8),
        "{} bytes",
        bytes.len()
    );
    let written = std::fs::metadata(&first[0]).unwrap().modified().unwrap();

    // The second start loads the kept program: the same file, not rewritten, still enforced.
    let (code, _, err) = sh(&t, &[], "unshare -U true");
    assert_ne!(code, 0);
    assert!(err.contains("Operation not permitted"), "{err}");
    assert_eq!(programs(&t), first);
    let again = std::fs::metadata(&first[0]).unwrap().modified().unwrap();
    assert_eq!(written, again, "the program was compiled again");

    // CAP_SYS_ADMIN changes the profile (docker's rules gated on it): a program of its own.
    let (code, _, err) = sh(&t, &["--cap-add", "SYS_ADMIN"], "unshare -U true");
    assert_eq!(code, 0, "{err}");
    assert_eq!(programs(&t).len(), 2, "{:?}", programs(&t));

    // A damaged file (not whole BPF records) is compiled again, and the filter still holds.
    std::fs::write(&first[0], b"garbage").unwrap();
    let (code, _, err) = sh(&t, &[], "unshare -U true");
    assert_ne!(code, 0);
    assert!(err.contains("Operation not permitted"), "{err}");
    let repaired = std::fs::read(&first[0]).unwrap();
    assert_eq!(
        repaired, bytes,
        "the same profile compiles to the same program"
    );
}

#[test]
fn privileged_containers_have_no_program() {
    let t = TestRoot::new();
    let (code, _, err) = sh(&t, &["--privileged"], "unshare -U true");
    assert_eq!(code, 0, "{err}");
    assert!(programs(&t).is_empty(), "{:?}", programs(&t));
}
