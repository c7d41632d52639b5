//! The long-lived part of a container's monitor is the small `berth-relay` binary
//! (`engine::monitor::handover`): once the container has run for a moment its monitor process
//! runs it, from a read-only sealed copy, and still serves the log (`logs --tail`, `logs -f`),
//! attach clients (stdin, both output streams, the exit code), the restart policy and health
//! checks, and hands back to berth to record the exit.

mod common;
mod interactive_support;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use interactive_support::{
    monitor_sockets, parent_of, stderr, stdout, wait_for, wait_for_relay, Env,
};

fn monitor_of(env: &Env, name: &str) -> i64 {
    let pid = env.inspect(name)["State"]["Pid"].as_i64().expect("pid");
    parent_of(pid)
}

#[test]
fn the_running_containers_monitor_is_the_relay_binary_and_serves_logs_and_attach() {
    let env = Env::new();
    let script = "echo before; read line; echo got $line; echo warn >&2; exit 4";
    env.run_detached("relayed", &["-i"], &["sh", "-c", script]);
    let monitor = monitor_of(&env, "relayed");
    wait_for_relay(monitor);
    let record = env.inspect("relayed");
    assert_eq!(record["State"]["Status"], "running");
    // Sealed as the berth binary is: its executable is on a read-only mount.
    let vfs = nix::sys::statvfs::statvfs(format!("/proc/{monitor}/exe").as_str()).unwrap();
    assert!(
        vfs.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY),
        "the relay's executable is writable"
    );
    // What `ps` and the tests look for: the monitor's command line names the root and the id.
    let cmdline = std::fs::read_to_string(format!("/proc/{monitor}/cmdline"))
        .unwrap()
        .replace('\0', " ");
    assert!(cmdline.contains(" monitor "), "{cmdline}");
    assert!(
        cmdline.contains(&env.t.path().display().to_string()),
        "{cmdline}"
    );
    assert_eq!(env.ok(&["logs", "--tail", "1", "relayed"]), "before\n");
    let follow = env
        .t
        .cmd()
        .args(["logs", "-f", "relayed"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn logs -f");
    let mut writer = env.spawn_attach("relayed");
    // The client is connected once the relay holds a second socket (listener + client).
    wait_for("the attach client", Duration::from_secs(10), || {
        (monitor_sockets(monitor) >= 2).then_some(())
    });
    let mut input = writer.stdin.take().expect("stdin");
    input.write_all(b"hello\n").expect("write stdin");
    let attached = writer.wait_with_output().expect("attach output");
    drop(input);
    assert_eq!(attached.status.code(), Some(4), "{}", stderr(&attached));
    assert_eq!(stdout(&attached), "got hello\n");
    assert_eq!(stderr(&attached), "warn\n");
    let followed = follow.wait_with_output().expect("logs -f output");
    assert_eq!(stdout(&followed), "before\ngot hello\n");
    assert_eq!(stderr(&followed), "warn\n");
    // Berth recorded the exit (the relay handed back), in the same process.
    let record = env.inspect("relayed");
    assert_eq!(record["State"]["Status"], "exited");
    assert_eq!(record["State"]["ExitCode"], 4);
    wait_for("the monitor to end", Duration::from_secs(10), || {
        let stat = std::fs::read_to_string(format!("/proc/{monitor}/stat")).unwrap_or_default();
        (stat.is_empty() || stat.contains(") Z")).then_some(())
    });
}

#[test]
fn restart_policy_and_health_checks_go_on_through_the_relay() {
    let env = Env::new();
    // Each run outlives the handover, then fails: the berth side restarts it after the relay
    // handed back, and the next run is handed over again.
    env.run_detached(
        "again",
        &[
            "--restart",
            "on-failure:2",
            "--health-cmd",
            "test -e /tmp/ok",
            "--health-interval",
            "200ms",
        ],
        &["sh", "-c", "echo ran; touch /tmp/ok; sleep 1.5; exit 3"],
    );
    let monitor = monitor_of(&env, "again");
    wait_for_relay(monitor);
    wait_for("a healthy check result", Duration::from_secs(10), || {
        let v = env.inspect("again");
        (v["State"]["Health"]["Status"] == "healthy").then_some(())
    });
    let done = wait_for("the restarts to end", Duration::from_secs(60), || {
        let v = env.inspect("again");
        (v["State"]["Status"] == "exited" && v["RestartCount"] == 2).then_some(v)
    });
    assert_eq!(done["State"]["ExitCode"], 3);
    // One monitor process did it all (relay and berth in turn), and ends with the last run.
    wait_for("the monitor to end", Duration::from_secs(10), || {
        let stat = std::fs::read_to_string(format!("/proc/{monitor}/stat")).unwrap_or_default();
        (stat.is_empty() || stat.contains(") Z")).then_some(())
    });
    assert_eq!(env.ok(&["logs", "again"]), "ran\nran\nran\n");
}

#[test]
fn a_lone_berth_binary_keeps_its_monitor_in_process() {
    use std::os::unix::fs::MetadataExt;
    let env = Env::new();
    // A copy of the berth binary with no berth-relay beside it (a user's copy or install of
    // the one file): the monitor must still serve, from the berth binary itself.
    let lone = env.t.base().join("lone");
    std::fs::create_dir(&lone).unwrap();
    let copy = lone.join("berth");
    std::fs::copy(common::testroot::BERTH, &copy).unwrap();
    let copy_id = std::fs::metadata(&copy)
        .map(|m| (m.dev(), m.ino()))
        .unwrap();
    let rootfs = env.t.base().join("rootfs");
    let out = env
        .t
        .cmd()
        .env("BERTH_EXE", &copy)
        .args(["run", "-d", "--name", "lone", "--rootfs"])
        .arg(&rootfs)
        .args(["sh", "-c", "echo one; sleep 1; echo two; sleep 100"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let monitor = monitor_of(&env, "lone");
    wait_for("the second line", Duration::from_secs(10), || {
        (env.ok(&["logs", "lone"]) == "one\ntwo\n").then_some(())
    });
    let exe = std::fs::metadata(format!("/proc/{monitor}/exe")).unwrap();
    assert_eq!(
        (exe.dev(), exe.ino()),
        copy_id,
        "the monitor stayed the berth binary"
    );
    env.ok(&["stop", "-t", "1", "lone"]);
    let v = env.inspect("lone");
    assert_eq!(v["State"]["Status"], "exited");
    assert_eq!(v["State"]["ExitCode"], 137);
}
