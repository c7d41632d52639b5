//! The monitor a `run` starts before it opens the engine (`Engine::prespawn_monitor`): it runs
//! the container the `run` creates, shows that container's id in its command line as every
//! monitor does, and when the `run` fails before its start it is gone when the `run` returns,
//! having touched nothing.

mod containers_support;

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use containers_support::{berth_bin, procs, stdout, TestRoot};

/// This root's monitor processes, by command line.
fn monitors(t: &TestRoot) -> Vec<String> {
    let root = t.root().to_string_lossy().into_owned();
    procs::with_words(&[&format!("--root {root} monitor ")])
        .into_iter()
        .map(|(_, line)| line)
        .collect()
}

#[test]
fn a_run_s_monitor_is_prespawned_and_named_after_its_container() {
    let t = TestRoot::new();
    let out = t.run(&["-d", "--name", "early"], &["sleep", "30"]);
    assert!(out.status.success(), "{out:?}");
    let id = stdout(&out).trim().to_string();
    let lines = monitors(&t);
    assert_eq!(lines.len(), 1, "{lines:?}");
    // The prespawned one (its flag) carries the id in place of its placeholder.
    assert!(
        lines[0].contains(" monitor --pending ") && lines[0].contains(&id),
        "{lines:?}"
    );
    let out = t.run(&["--rm"], &["sh", "-c", "echo relayed; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(stdout(&out), "relayed\n");
    t.ok(&["rm", "-f", "early"]);
}

#[test]
fn a_run_that_fails_before_its_start_leaves_no_monitor() {
    let t = TestRoot::new();
    t.ok(&[
        "create",
        "--name",
        "taken",
        "--rootfs",
        &t.rootfs().to_string_lossy(),
        "true",
    ]);
    for flags in [vec!["--name", "taken"], vec!["-d", "--name", "taken"]] {
        let out = t.run(&flags, &["true"]);
        assert_eq!(out.status.code(), Some(125), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("already in use"),
            "{out:?}"
        );
        // Checked at once: the run waited for its monitor's exit.
        assert_eq!(monitors(&t), Vec::<String>::new(), "{flags:?}");
    }
    assert_eq!(t.ok(&["ps", "-aq"]).lines().count(), 1);
}

/// `berth --root ROOT monitor --pending 000…` given `sent` then the end of file on its fd 7.
fn pending_monitor(root: &std::path::Path, sent: &[u8]) -> std::process::Output {
    let (go_r, go_w) = nix::unistd::pipe().unwrap();
    nix::unistd::write(&go_w, sent).unwrap();
    drop(go_w);
    let go = go_r.as_raw_fd();
    let mut cmd = Command::new(berth_bin());
    cmd.arg("--root")
        .arg(root)
        .args(["monitor", "--pending", &"0".repeat(64)])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: dup2 is async-signal-safe; it runs in the child before exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(go, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    drop(go_r);
    out
}

#[test]
fn a_pending_monitor_let_go_exits_and_touches_nothing() {
    let t = TestRoot::new();
    let fresh = t.root().join("never-made");
    // The spawner went away (end of file), or sent what is not an id.
    for sent in [&b""[..], b"../../etc\n", b"0123\n"] {
        let out = pending_monitor(&fresh, sent);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(!fresh.exists(), "a let-go monitor made its root");
    }
}
