//! Container lifecycle against the real binary, as root: run, ps, stop, start, restart, rm,
//! exit codes, stop escalation, logs, a layered rootfs, lost monitors, concurrency.

mod containers_support;

use std::time::{Duration, Instant};

use containers_support::{stderr, stdout, TestRoot};

fn inspect(t: &TestRoot, name: &str) -> serde_json::Value {
    let out = t.ok(&["inspect", name]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("inspect json");
    v[0].clone()
}

#[test]
fn lifecycle_run_ps_stop_start_restart_rm() {
    let t = TestRoot::new();
    let script = "trap 'echo bye; exit 0' TERM; echo up; while true; do sleep 0.1; done";
    let out = t.run(&["-d", "--name", "web"], &["sh", "-c", script]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    assert_eq!(id.len(), 64);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));

    let ps = t.ok(&["ps"]);
    assert!(ps.contains("web") && ps.contains(&id[..12]), "{ps}");
    let v = inspect(&t, &id[..8]);
    assert_eq!(v["Name"], "/web");
    assert_eq!(v["State"]["Status"], "running");
    assert_eq!(v["State"]["Running"], true);
    assert!(v["State"]["Pid"].as_i64().unwrap() > 0);
    assert_eq!(t.mounts().len(), 1, "the rootfs is mounted while running");

    let started = Instant::now();
    t.ok(&["stop", "-t", "5", "web"]);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "graceful stop was slow"
    );
    let v = inspect(&t, "web");
    assert_eq!(v["State"]["Status"], "exited");
    assert_eq!(v["State"]["ExitCode"], 0);
    assert_ne!(v["State"]["FinishedAt"], "0001-01-01T00:00:00Z");
    assert!(
        t.mounts().is_empty(),
        "rootfs unmounted after exit: {:?}",
        t.mounts()
    );
    assert!(
        t.ok(&["ps"]).lines().count() == 1,
        "ps without -a hides exited"
    );
    assert!(t
        .ok(&["ps", "-a", "--filter", "status=exited"])
        .contains("web"));
    let logs = t.ok(&["logs", "web"]);
    assert_eq!(logs, "up\nbye\n");

    t.ok(&["start", "web"]);
    assert_eq!(inspect(&t, "web")["State"]["Status"], "running");
    t.ok(&["restart", "-t", "5", "web"]);
    let v = inspect(&t, "web");
    assert_eq!(v["State"]["Status"], "running");
    assert_eq!(v["RestartCount"], 1);

    t.ok(&["pause", "web"]);
    assert_eq!(inspect(&t, "web")["State"]["Status"], "paused");
    let e = t.berth(&["start", "web"]);
    assert_eq!(e.status.code(), Some(1));
    assert!(stderr(&e).contains("unpause"), "{}", stderr(&e));
    t.ok(&["unpause", "web"]);

    let e = t.berth(&["rm", "web"]);
    assert_eq!(e.status.code(), Some(1));
    assert!(stderr(&e).contains("force remove"), "{}", stderr(&e));
    t.ok(&["rename", "web", "web2"]);
    t.ok(&["rm", "-f", "web2"]);
    assert_eq!(t.ok(&["ps", "-a", "-q"]), "");
    assert!(t.mounts().is_empty());
    assert_eq!(
        std::fs::read_dir(t.root().join("containers"))
            .unwrap()
            .count(),
        0
    );
    // Top-level inspect looks for any kind of object, and says so as docker does.
    let e = t.berth(&["inspect", "web2"]);
    assert!(
        stderr(&e).contains("No such object: web2"),
        "{}",
        stderr(&e)
    );
    let e = t.berth(&["container", "inspect", "web2"]);
    assert!(stderr(&e).contains("no such container"), "{}", stderr(&e));
}

#[test]
fn exit_codes_follow_docker() {
    let t = TestRoot::new();
    let code = |flags: &[&str], cmd: &[&str]| t.run(flags, cmd).status.code();
    assert_eq!(code(&["--rm"], &["true"]), Some(0));
    assert_eq!(code(&["--rm"], &["sh", "-c", "exit 3"]), Some(3));
    let missing = t.run(&["--rm"], &["no-such-command"]);
    assert_eq!(missing.status.code(), Some(127));
    assert!(
        stderr(&missing).contains("executable file not found in $PATH"),
        "{}",
        stderr(&missing)
    );
    let not_exec = t.run(&["--rm"], &["/etc/passwd"]);
    assert_eq!(not_exec.status.code(), Some(126));
    assert!(stderr(&not_exec).contains("permission denied"));
    // A failed start without --rm leaves the container created, with the code recorded.
    let kept = t.run(&["--name", "bad"], &["nope"]);
    assert_eq!(kept.status.code(), Some(127));
    let v = inspect(&t, "bad");
    assert_eq!(v["State"]["Status"], "created");
    assert_eq!(v["State"]["ExitCode"], 127);
    let e = t.berth(&["start", "bad"]);
    assert_eq!(e.status.code(), Some(1));

    let id = stdout(&t.run(&["-d"], &["sleep", "100"]))
        .trim()
        .to_string();
    t.ok(&["kill", &id]);
    assert_eq!(t.ok(&["wait", &id]).trim(), "137");
    assert_eq!(inspect(&t, &id)["State"]["ExitCode"], 137);
    let e = t.berth(&["kill", &id]);
    assert!(stderr(&e).contains("not running"), "{}", stderr(&e));
    assert!(
        t.berth(&["run", "--rootfs", "/nonexistent-dir", "true"])
            .status
            .code()
            == Some(125)
    );
    // A network that does not exist (never `bridge` here: this test runs in the machine's own
    // network namespace).
    let out = t.run(&["--network", "nosuchnet"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("network nosuchnet not found"),
        "{}",
        stderr(&out)
    );
    assert!(t.mounts().is_empty());
}

#[test]
fn stop_escalates_to_sigkill() {
    let t = TestRoot::new();
    let id = stdout(&t.run(&["-d"], &["sh", "-c", "trap '' TERM; sleep 100"]))
        .trim()
        .to_string();
    let started = Instant::now();
    t.ok(&["stop", "-t", "1", &id]);
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "stop waited {took:?}");
    assert!(took < Duration::from_secs(6), "stop took {took:?}");
    assert_eq!(inspect(&t, &id)["State"]["ExitCode"], 137);
    assert!(t.mounts().is_empty());
}

#[test]
fn logs_are_split_by_stream_followed_and_tailed() {
    let t = TestRoot::new();
    let script = "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; sleep 0.05; done";
    let out = t.run(&["-d", "--name", "chatty"], &["sh", "-c", script]);
    assert!(out.status.success());
    // -f returns when the container exits, with everything in order.
    let f = t.berth(&["logs", "-f", "chatty"]);
    assert_eq!(stdout(&f), "out1\nout2\nout3\nout4\nout5\n");
    assert_eq!(stderr(&f), "err1\nerr2\nerr3\nerr4\nerr5\n");
    let tail = t.berth(&["logs", "--tail", "2", "chatty"]);
    assert_eq!(stdout(&tail), "out5\n");
    assert_eq!(stderr(&tail), "err5\n");
    let ts = t.ok(&["logs", "-t", "--tail", "2", "chatty"]);
    assert!(ts.contains('T') && ts.ends_with(" out5\n"), "{ts}");
    let future = t.berth(&["logs", "--since", "2999-01-01T00:00:00Z", "chatty"]);
    assert_eq!(stdout(&future), "");
    // The file is Docker's json-file format.
    let raw = std::fs::read_to_string(
        t.root()
            .join("containers")
            .join(inspect(&t, "chatty")["Id"].as_str().unwrap())
            .join("log.json"),
    )
    .unwrap();
    let first: serde_json::Value = serde_json::from_str(raw.lines().next().unwrap()).unwrap();
    assert_eq!(first["log"], "out1\n");
    assert_eq!(first["stream"], "stdout");
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    // Foreground run relays both streams.
    let fg = t.run(&["--rm"], &["sh", "-c", "echo a; echo b >&2"]);
    assert_eq!((stdout(&fg).as_str(), stderr(&fg).as_str()), ("a\n", "b\n"));
}

#[test]
fn layered_rootfs_is_seen_flattened() {
    use berth::engine::container::{self, image_source::ResolvedImage, CreateOptions};
    let t = TestRoot::new();
    let base = t.rootfs();
    let top = t.root().join("layer-top");
    std::fs::create_dir_all(top.join("etc")).unwrap();
    std::fs::write(top.join("etc/motd"), "from the top layer\n").unwrap();
    std::fs::write(top.join("etc/group"), "root:x:0:\n").unwrap();
    // An overlay whiteout hides /tmp/.keep of the base layer.
    std::fs::create_dir_all(top.join("tmp")).unwrap();
    nix::sys::stat::mknod(
        &top.join("tmp/.keep"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::empty(),
        0,
    )
    .unwrap();
    std::env::set_var("BERTH_EXE", containers_support::berth_bin());
    let engine = t.engine();
    let image = ResolvedImage {
        name: "layered".into(),
        id: String::new(),
        config: Default::default(),
        lowers: vec![top.clone(), base.clone()],
    };
    let opts = CreateOptions {
        name: Some("layered".into()),
        cmd: vec![
            "sh".into(),
            "-c".into(),
            "cat /etc/motd /etc/group; ls /tmp; test -x /bin/busybox && echo base".into(),
        ],
        ..Default::default()
    };
    let rec = container::create::create_from(&engine, &opts, image).unwrap();
    let code = t.berth(&["start", "-a", &rec.id]);
    assert_eq!(stdout(&code), "from the top layer\nroot:x:0:\nbase\n");
    assert!(t.mounts().is_empty());
    // The lowers are untouched.
    assert!(base.join("tmp/.keep").exists());
}

#[test]
fn lost_monitor_is_noticed_and_cleaned_up() {
    let t = TestRoot::new();
    let id = stdout(&t.run(&["-d", "--name", "orphan"], &["sleep", "100"]))
        .trim()
        .to_string();
    let engine = t.engine();
    let rec = berth::engine::container::get(&engine, &id).unwrap();
    let container_pid = rec.state.pid;
    assert!(rec.state.monitor_pid > 0);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(rec.state.monitor_pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let v = inspect(&t, "orphan");
    assert_eq!(v["State"]["Status"], "exited");
    assert_eq!(v["State"]["ExitCode"], 255);
    assert!(
        v["State"]["Error"].as_str().unwrap().contains("monitor"),
        "{v}"
    );
    assert!(t.mounts().is_empty(), "{:?}", t.mounts());
    let alive = std::fs::read_to_string(format!("/proc/{container_pid}/stat"))
        .map(|s| !s.contains(") Z"))
        .unwrap_or(false);
    assert!(!alive, "the container's process was stopped");
    t.ok(&["rm", "orphan"]);
}

#[test]
fn twenty_concurrent_runs_then_removals() {
    let t = TestRoot::new();
    let rootfs = t.rootfs();
    let spawn_all = |args: &dyn Fn(usize) -> Vec<String>| {
        let children: Vec<_> = (0..20)
            .map(|i| {
                std::process::Command::new(containers_support::berth_bin())
                    .arg("--root")
                    .arg(t.root())
                    .args(args(i))
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    };
    let r = rootfs.to_string_lossy().into_owned();
    let runs = spawn_all(&|i| {
        vec![
            "run".into(),
            "-d".into(),
            "--name".into(),
            format!("c{i}"),
            "--rootfs".into(),
            r.clone(),
            "sleep".into(),
            "100".into(),
        ]
    });
    for o in &runs {
        assert!(o.status.success(), "{}", stderr(o));
    }
    let running = t.ok(&["ps", "-q"]);
    assert_eq!(running.lines().count(), 20, "{running}");
    assert_eq!(t.mounts().len(), 20);
    let rms = spawn_all(&|i| vec!["rm".into(), "-f".into(), format!("c{i}")]);
    for o in &rms {
        assert!(o.status.success(), "{}", stderr(o));
    }
    assert_eq!(t.ok(&["ps", "-a", "-q"]), "");
    assert!(t.mounts().is_empty(), "{:?}", t.mounts());
    assert_eq!(
        std::fs::read_dir(t.root().join("containers"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn foreground_run_forwards_sigint_to_the_container() {
    let t = TestRoot::new();
    let rootfs = t.rootfs();
    let mut child = std::process::Command::new(containers_support::berth_bin())
        .arg("--root")
        .arg(t.root())
        .args(["run", "--rm", "--rootfs"])
        .arg(&rootfs)
        .args([
            "sh",
            "-c",
            "trap 'echo interrupted; exit 5' INT; echo ready; while true; do sleep 0.1; done",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 6];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"ready\n");
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(rest, "interrupted\n");
    assert_eq!(status.code(), Some(5));
    assert_eq!(t.ok(&["ps", "-a", "-q"]), "", "--rm removed it");
}
