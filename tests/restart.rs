//! Restart policies against the real binary, as root: each policy with a container that exits
//! 0, exits 1 and is killed; docker's doubling backoff; `stop` and `rm -f` during the backoff
//! end the loop and leave no monitor behind; bad policies refused.

mod containers_support;

use std::time::{Duration, Instant};

use containers_support::{stderr, stdout, TestRoot};

fn field(t: &TestRoot, name: &str, template: &str) -> String {
    t.ok(&["inspect", "--format", template, name])
        .trim()
        .to_string()
}

fn restarts(t: &TestRoot, name: &str) -> u32 {
    field(t, name, "{{.RestartCount}}").parse().expect("count")
}

fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

fn run(t: &TestRoot, name: &str, policy: &str, script: &str) -> String {
    let out = t.run(
        &["-d", "--name", name, "--restart", policy],
        &["sh", "-c", script],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// Pids of monitors of this test's root still alive.
fn monitors(t: &TestRoot) -> Vec<i32> {
    let root = t.root().to_string_lossy().into_owned();
    containers_support::procs::with_words(&[" monitor ", &root])
        .into_iter()
        .map(|(pid, _)| pid)
        .collect()
}

#[test]
fn each_policy_with_exit_0_exit_1_and_a_kill() {
    let t = TestRoot::new();
    // no: nothing restarts.
    run(&t, "no1", "no", "exit 1");
    // on-failure: exit 0 stays down; exit 1 restarts up to the limit.
    run(&t, "of0", "on-failure", "exit 0");
    run(&t, "of1", "on-failure:2", "echo ran; exit 1");
    // always and unless-stopped: exit 0 restarts too.
    run(&t, "al0", "always", "sleep 0.2; exit 0");
    run(&t, "us1", "unless-stopped", "sleep 0.2; exit 1");
    assert!(
        eventually(Duration::from_secs(20), || restarts(&t, "of1") == 2
            && field(&t, "of1", "{{.State.Status}}") == "exited"),
        "{}",
        field(&t, "of1", "{{.RestartCount}} {{.State.Status}}")
    );
    assert_eq!(t.ok(&["logs", "of1"]), "ran\nran\nran\n");
    assert_eq!(field(&t, "of1", "{{.State.ExitCode}}"), "1");
    assert!(eventually(Duration::from_secs(20), || restarts(&t, "al0")
        >= 2
        && restarts(&t, "us1") >= 2));
    assert_eq!(restarts(&t, "no1"), 0);
    assert_eq!(restarts(&t, "of0"), 0);
    assert_eq!(field(&t, "of0", "{{.State.Status}}"), "exited");
    assert_eq!(
        field(
            &t,
            "of1",
            "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"
        ),
        "on-failure:2"
    );

    // Killed (SIGKILL from outside, exit 137): every policy but `no` brings it back.
    for (name, policy) in [
        ("kno", "no"),
        ("kof", "on-failure"),
        ("kal", "always"),
        ("kus", "unless-stopped"),
    ] {
        run(&t, name, policy, "sleep 1000");
    }
    for name in ["kno", "kof", "kal", "kus"] {
        let pid: i32 = field(&t, name, "{{.State.Pid}}").parse().unwrap();
        assert!(pid > 0);
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
    }
    for name in ["kof", "kal", "kus"] {
        assert!(
            eventually(Duration::from_secs(10), || restarts(&t, name) == 1
                && field(&t, name, "{{.State.Status}}") == "running"),
            "{name}: {}",
            field(&t, name, "{{.RestartCount}} {{.State.Status}}")
        );
    }
    assert!(eventually(Duration::from_secs(5), || field(
        &t,
        "kno",
        "{{.State.Status}}"
    ) == "exited"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(restarts(&t, "kno"), 0);
    assert_eq!(field(&t, "kno", "{{.State.ExitCode}}"), "137");
}

#[test]
fn backoff_doubles_and_stop_during_it_ends_the_loop() {
    let t = TestRoot::new();
    let id = run(&t, "flap", "always", "exit 1");
    // The fifth restart waits 1.6 s: wait for the record to say restarting there.
    assert!(
        eventually(Duration::from_secs(20), || restarts(&t, "flap") >= 4
            && field(&t, "flap", "{{.State.Restarting}}") == "true"),
        "{}",
        field(&t, "flap", "{{.RestartCount}} {{.State.Restarting}}")
    );
    // Docker lists a restarting container with the running ones, and says so.
    let ps = t.ok(&["ps"]);
    assert!(ps.contains("flap") && ps.contains("Restarting (1)"), "{ps}");
    assert_eq!(
        field(&t, "flap", "{{.State.Status}} {{.State.Running}}"),
        "restarting true"
    );
    // `start` while it waits for its restart has nothing to do (docker: not modified).
    t.ok(&["start", "flap"]);
    let stopped_at = Instant::now();
    t.ok(&["stop", "flap"]);
    assert!(stopped_at.elapsed() < Duration::from_secs(3));
    let count = restarts(&t, "flap");
    assert_eq!(field(&t, "flap", "{{.State.Restarting}}"), "false");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(restarts(&t, "flap"), count, "no restart after stop");
    assert_eq!(field(&t, "flap", "{{.State.Status}}"), "exited");
    assert!(
        monitors(&t).is_empty(),
        "the monitor gave up: {:?}",
        monitors(&t)
    );

    // The gaps between a die and the next start: at least 100, 200, 400, 800 ms.
    let events = t.ok(&[
        "events",
        "--since",
        "10m",
        "--until",
        "0s",
        "--filter",
        &format!("container={id}"),
        "--format",
        "{{.Action}} {{.TimeNano}}",
    ]);
    let mut gaps = Vec::new();
    let mut died = None;
    for line in events.lines() {
        let (action, nanos) = line.split_once(' ').unwrap();
        let nanos: i64 = nanos.parse().unwrap();
        match action {
            "die" => died = Some(nanos),
            "start" => {
                if let Some(d) = died.take() {
                    gaps.push((nanos - d) / 1_000_000);
                }
            }
            _ => {}
        }
    }
    assert!(gaps.len() >= 4, "{events}");
    for (i, want) in [100, 200, 400, 800].into_iter().enumerate() {
        assert!(gaps[i] >= want, "gap {i}: {gaps:?}");
    }

    // A start by the user resets the stop: the policy applies again.
    t.ok(&["start", "flap"]);
    assert!(eventually(Duration::from_secs(10), || restarts(&t, "flap") > count));
    t.ok(&["rm", "-f", "flap"]);
    assert!(
        eventually(Duration::from_secs(5), || monitors(&t).is_empty()),
        "rm -f ends the loop: {:?}",
        monitors(&t)
    );
    assert!(t.berth(&["inspect", "flap"]).status.code() == Some(1));
}

#[test]
fn bad_policies_are_refused() {
    let t = TestRoot::new();
    let out = t.run(&["--restart", "sometimes"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("sometimes"), "{}", stderr(&out));
    let out = t.run(&["--restart", "always", "--rm"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("--rm"), "{}", stderr(&out));
    assert_eq!(t.ok(&["ps", "-aq"]), "");
}

#[test]
fn update_changes_limits_and_policy_of_a_live_container() {
    let t = TestRoot::new();
    let id = run(&t, "upd", "no", "sleep 1000");
    t.ok(&[
        "update",
        "--memory",
        "96m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "30",
        "--restart",
        "on-failure:1",
        "upd",
    ]);
    let v1 = |ctrl: &str, file: &str| {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{ctrl}/berth/{id}/{file}"))
            .ok()
            .map(|s| s.trim().to_string())
    };
    if std::path::Path::new("/sys/fs/cgroup/memory").exists() {
        assert_eq!(
            v1("memory", "memory.limit_in_bytes").as_deref(),
            Some("100663296")
        );
        assert_eq!(v1("cpu", "cpu.cfs_quota_us").as_deref(), Some("50000"));
        assert_eq!(v1("pids", "pids.max").as_deref(), Some("30"));
    } else {
        let v2 = |file: &str| {
            std::fs::read_to_string(format!("/sys/fs/cgroup/berth/{id}/{file}")).unwrap()
        };
        assert_eq!(v2("memory.max").trim(), "100663296");
        assert_eq!(v2("cpu.max").trim(), "50000 100000");
        assert_eq!(v2("pids.max").trim(), "30");
    }
    // The limit the container now lives under, as stats reads it back from its cgroup.
    let usage = t.ok(&["stats", "--no-stream", "--format", "{{.MemUsage}}", "upd"]);
    assert!(usage.trim().ends_with("/ 96MiB"), "{usage}");
    assert_eq!(
        field(&t, "upd", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}"),
        "100663296 500000000 30 on-failure"
    );
    // The new policy applies to the next exit.
    let pid: i32 = field(&t, "upd", "{{.State.Pid}}").parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
    assert!(eventually(Duration::from_secs(10), || restarts(&t, "upd")
        == 1
        && field(&t, "upd", "{{.State.Status}}") == "running"));
    // A stopped container keeps the change for its next start.
    t.ok(&["stop", "-t", "0", "upd"]);
    t.ok(&["update", "--memory", "64m", "upd"]);
    t.ok(&["start", "upd"]);
    let id_mem = if std::path::Path::new("/sys/fs/cgroup/memory").exists() {
        v1("memory", "memory.limit_in_bytes")
    } else {
        None
    };
    if let Some(m) = id_mem {
        assert_eq!(m, "67108864");
    }
    let bad = t.berth(&["update", "upd"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("--memory"), "{}", stderr(&bad));
    let bad = t.berth(&["update", "--restart", "sometimes", "upd"]);
    assert!(stderr(&bad).contains("sometimes"), "{}", stderr(&bad));
}

#[test]
fn system_restore_starts_always_and_unless_stopped_after_their_monitors_died() {
    let t = TestRoot::new();
    for (name, policy) in [
        ("ra", "always"),
        ("ru", "unless-stopped"),
        ("rs", "unless-stopped"),
        ("rn", "no"),
    ] {
        run(&t, name, policy, "sleep 1000");
    }
    run(&t, "rstopped", "always", "sleep 1000");
    t.ok(&["stop", "-t", "0", "rs"]);
    t.ok(&["stop", "-t", "0", "rstopped"]);
    // A reboot: every monitor and container process gone at once, records left as they were.
    let pids: Vec<i32> = ["ra", "ru", "rn"]
        .iter()
        .map(|n| field(&t, n, "{{.State.Pid}}").parse().unwrap())
        .collect();
    for m in monitors(&t) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(m), nix::sys::signal::SIGKILL);
    }
    for p in pids {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), nix::sys::signal::SIGKILL);
    }
    assert!(eventually(Duration::from_secs(5), || monitors(&t).is_empty()));
    let out = t.ok(&["system", "restore"]);
    let mut started: Vec<&str> = out.lines().collect();
    started.sort();
    // `always` even after a stop; `unless-stopped` unless stopped; `no` never.
    assert_eq!(started, ["ra", "rstopped", "ru"], "{out}");
    for name in ["ra", "ru", "rstopped"] {
        assert_eq!(field(&t, name, "{{.State.Status}}"), "running", "{name}");
    }
    for name in ["rs", "rn"] {
        assert_eq!(field(&t, name, "{{.State.Status}}"), "exited", "{name}");
    }
    // Nothing left to do the second time.
    assert_eq!(t.ok(&["system", "restore"]), "");
}
