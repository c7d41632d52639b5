//! `run`/`create` flags of parity item 8 against the real binary as root: labels (inspect and
//! `ps --filter label=`), `--read-only`, and `--add-host`/`--dns*` in the container's
//! `/etc/hosts` and `/etc/resolv.conf`; each bad value refused with 125 and nothing created.

mod common;
mod interactive_support;

use interactive_support::{stderr, stdout, wait_for, Env};

/// Runs berth, requires the exit `code` and stderr naming `words`; nothing was created.
fn refused(env: &Env, args: &[&str], words: &[&str]) {
    let out = env.berth(args);
    assert_eq!(out.status.code(), Some(125), "{args:?}: {}", stderr(&out));
    let err = stderr(&out);
    for w in words {
        assert!(err.contains(w), "{args:?}: {err:?} lacks {w:?}");
    }
    assert_eq!(
        env.ok(&["ps", "-aq"]).trim(),
        "",
        "{args:?} left a container"
    );
}

#[test]
fn labels_are_recorded_inspected_and_filtered() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    let file = env.t.base().join("labels");
    std::fs::write(&file, "# team labels\ntier=web\n\nowner=ops\n").expect("label file");
    let file = file.to_string_lossy().into_owned();
    let id = env
        .ok(&[
            "create",
            "--name",
            "lab",
            "-l",
            "app=shop",
            "--label",
            "flag",
            "--label-file",
            &file,
            "--label",
            "owner=dev",
            "--rootfs",
            &root,
            "true",
        ])
        .trim()
        .to_string();
    env.ok(&[
        "create", "--name", "other", "-l", "app=blog", "--rootfs", &root, "true",
    ]);
    let labels = env.inspect("lab")["Config"]["Labels"].clone();
    assert_eq!(
        labels,
        serde_json::json!({"app": "shop", "flag": "", "tier": "web", "owner": "dev"})
    );
    let ps = |f: &str| env.ok(&["ps", "-a", "-q", "--no-trunc", "--filter", f]);
    assert_eq!(ps("label=app=shop").trim(), id);
    assert_eq!(ps("label=tier").trim(), id);
    assert_eq!(ps("label=app").lines().count(), 2);
    assert_eq!(ps("label=app=none").trim(), "");
    env.ok(&["rm", "lab", "other"]);

    refused(
        &env,
        &["create", "-l", "=x", "--rootfs", &root, "true"],
        &["label", "empty"],
    );
    refused(
        &env,
        &[
            "create",
            "--label-file",
            "/nonexistent/labels",
            "--rootfs",
            &root,
            "true",
        ],
        &["label file", "/nonexistent/labels"],
    );
}

#[test]
fn read_only_root_keeps_volumes_and_dev_writable() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    let out = env.berth(&[
        "run",
        "--rm",
        "--read-only",
        "--tmpfs",
        "/scratch",
        "--rootfs",
        &root,
        "sh",
        "-c",
        "touch /scratch/ok /dev/shm/ok && echo writable; touch /etc/nope 2>&1; exit 0",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("writable"), "{text}");
    assert!(text.contains("Read-only file system"), "{text}");

    env.ok(&[
        "create",
        "--name",
        "ro",
        "--read-only",
        "--rootfs",
        &root,
        "true",
    ]);
    assert_eq!(env.inspect("ro")["HostConfig"]["ReadonlyRootfs"], true);
    env.ok(&["create", "--name", "rw", "--rootfs", &root, "true"]);
    assert_eq!(env.inspect("rw")["HostConfig"]["ReadonlyRootfs"], false);
}

#[test]
fn add_host_and_dns_reach_the_containers_etc_files() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    let out = env.berth(&[
        "run",
        "--name",
        "dns",
        "--add-host",
        "db:127.0.0.2",
        "--add-host",
        "v6=[::1]",
        "--dns",
        "127.0.0.53",
        "--dns",
        "::1",
        "--dns-search",
        "example.test",
        "--dns-option",
        "ndots:2",
        "--rootfs",
        &root,
        "sh",
        "-c",
        "cat /etc/hosts; echo ---; cat /etc/resolv.conf",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let (hosts, resolv) = text.split_once("---\n").expect("both files");
    assert!(hosts.lines().any(|l| l == "127.0.0.2\tdb"), "{hosts}");
    assert!(hosts.lines().any(|l| l == "::1\tv6"), "{hosts}");
    assert!(
        hosts.lines().any(|l| l.starts_with("127.0.0.1\tlocalhost")),
        "{hosts}"
    );
    let ns: Vec<&str> = resolv
        .lines()
        .filter(|l| l.starts_with("nameserver"))
        .collect();
    assert_eq!(ns, ["nameserver 127.0.0.53", "nameserver ::1"], "{resolv}");
    assert!(
        resolv.lines().any(|l| l == "search example.test"),
        "{resolv}"
    );
    assert!(resolv.lines().any(|l| l == "options ndots:2"), "{resolv}");
    let hc = env.inspect("dns")["HostConfig"].clone();
    assert_eq!(
        hc["ExtraHosts"],
        serde_json::json!(["db:127.0.0.2", "v6:::1"])
    );
    assert_eq!(hc["Dns"], serde_json::json!(["127.0.0.53", "::1"]));
    assert_eq!(hc["DnsSearch"], serde_json::json!(["example.test"]));
    assert_eq!(hc["DnsOptions"], serde_json::json!(["ndots:2"]));
    env.ok(&["rm", "dns"]);

    for (flag, value, word) in [
        ("--add-host", "db", "HOST:IP"),
        ("--add-host", "db:not-an-ip", "invalid IP address"),
        ("--dns", "resolver", "is not an ip address"),
        ("--dns-search", "bad_domain!", "is not a valid domain"),
        ("--dns-option", "a b", "one word"),
    ] {
        refused(
            &env,
            &["run", "--rm", flag, value, "--rootfs", &root, "true"],
            &[flag, word],
        );
    }
}

#[test]
fn stop_signal_and_stop_timeout_are_the_containers_own() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    let trap = "trap 'echo got-usr1; exit 7' USR1; echo trap-set; while :; do sleep 0.1; done";
    env.run_detached("sig", &["--stop-signal", "USR1"], &["sh", "-c", trap]);
    let config = env.inspect("sig")["Config"].clone();
    assert_eq!(config["StopSignal"], "USR1");
    // Until the shell has set its trap, USR1 to it as pid 1 is ignored.
    wait_for("the trap", std::time::Duration::from_secs(10), || {
        env.ok(&["logs", "sig"]).contains("trap-set").then_some(())
    });
    env.ok(&["stop", "sig"]);
    assert_eq!(env.inspect("sig")["State"]["ExitCode"], 7);
    assert!(env.ok(&["logs", "sig"]).contains("got-usr1"));

    // TERM ignored: the container's own 1 s, not docker's 10 s, before SIGKILL.
    let deaf = "trap '' TERM; echo trap-set; while :; do sleep 0.1; done";
    env.run_detached("deaf", &["--stop-timeout", "1"], &["sh", "-c", deaf]);
    wait_for("the trap", std::time::Duration::from_secs(10), || {
        env.ok(&["logs", "deaf"]).contains("trap-set").then_some(())
    });
    assert_eq!(env.inspect("deaf")["Config"]["StopTimeout"], 1);
    let start = std::time::Instant::now();
    env.ok(&["stop", "deaf"]);
    let took = start.elapsed();
    assert!(
        took < std::time::Duration::from_secs(6),
        "stop took {took:?}"
    );
    assert!(
        took >= std::time::Duration::from_millis(900),
        "stop took {took:?}"
    );
    assert_eq!(env.inspect("deaf")["State"]["ExitCode"], 137);
    env.ok(&["rm", "sig", "deaf"]);

    refused(
        &env,
        &[
            "run",
            "--rm",
            "--stop-signal",
            "BOGUS",
            "--rootfs",
            &root,
            "true",
        ],
        &["--stop-signal", "BOGUS"],
    );
    refused(
        &env,
        &[
            "run",
            "--rm",
            "--stop-timeout",
            "-5",
            "--rootfs",
            &root,
            "true",
        ],
        &["--stop-timeout", "-1"],
    );
}

#[test]
fn shm_size_sets_dev_shm() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    let out = env.berth(&[
        "run",
        "--name",
        "shm",
        "--shm-size",
        "8m",
        "--rootfs",
        &root,
        "grep",
        " /dev/shm ",
        "/proc/mounts",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("size=8192k"), "{}", stdout(&out));
    assert_eq!(env.inspect("shm")["HostConfig"]["ShmSize"], 8 << 20);
    env.ok(&["create", "--name", "plain", "--rootfs", &root, "true"]);
    assert_eq!(env.inspect("plain")["HostConfig"]["ShmSize"], 64 << 20);
    env.ok(&["rm", "shm", "plain"]);
    refused(
        &env,
        &["run", "--rm", "--shm-size", "0", "--rootfs", &root, "true"],
        &["--shm-size"],
    );
    refused(
        &env,
        &[
            "run",
            "--rm",
            "--shm-size",
            "lots",
            "--rootfs",
            &root,
            "true",
        ],
        &["lots"],
    );
}

#[test]
fn cidfile_holds_the_id_and_is_never_overwritten() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    let file = env.t.base().join("cid");
    let f = file.to_string_lossy().into_owned();
    let id = env.ok(&["create", "--cidfile", &f, "--rootfs", &root, "true"]);
    assert_eq!(std::fs::read_to_string(&file).expect("cidfile"), id.trim());
    let out = env.berth(&["run", "--rm", "--cidfile", &f, "--rootfs", &root, "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("container ID file found"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.ok(&["ps", "-aq"]).lines().count(), 1);
    env.ok(&["rm", id.trim()]);
    // A create that fails leaves no ID file behind.
    let other = env.t.base().join("cid2");
    let o = other.to_string_lossy().into_owned();
    refused(
        &env,
        &[
            "create",
            "--cidfile",
            &o,
            "--stop-signal",
            "NOPE",
            "--rootfs",
            &root,
            "true",
        ],
        &["NOPE"],
    );
    assert!(!other.exists());
    // run -d writes it too.
    let id = env.ok(&["run", "-d", "--cidfile", &o, "--rootfs", &root, "true"]);
    assert_eq!(std::fs::read_to_string(&other).expect("cidfile"), id.trim());
}

#[test]
fn ulimits_and_added_groups_reach_the_process() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    let out = env.berth(&[
        "run",
        "--name",
        "lim",
        "--ulimit",
        "nofile=100:200",
        "--ulimit",
        "core=0",
        "--group-add",
        "app",
        "--group-add",
        "4242",
        "--rootfs",
        &root,
        "sh",
        "-c",
        "echo soft=$(ulimit -n) hard=$(ulimit -Hn) core=$(ulimit -c); echo groups=$(id -G)",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("soft=100 hard=200 core=0"), "{text}");
    assert!(text.contains("groups=0 1000 4242"), "{text}");
    let hc = env.inspect("lim")["HostConfig"].clone();
    assert_eq!(
        hc["Ulimits"],
        serde_json::json!([{"Name": "nofile", "Hard": 200, "Soft": 100},
                           {"Name": "core", "Hard": 0, "Soft": 0}])
    );
    assert_eq!(hc["GroupAdd"], serde_json::json!(["app", "4242"]));
    env.ok(&["rm", "lim"]);

    // Above berth's own hard limit: refused, never half-applied.
    let (_, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .expect("getrlimit");
    let above = format!("nofile={}", hard + 1);
    refused(
        &env,
        &["run", "--rm", "--ulimit", &above, "--rootfs", &root, "true"],
        &["--ulimit", "CAP_SYS_RESOURCE"],
    );
    refused(
        &env,
        &[
            "run", "--rm", "--ulimit", "files=1", "--rootfs", &root, "true",
        ],
        &["unknown limit"],
    );
    refused(
        &env,
        &[
            "run",
            "--rm",
            "--ulimit",
            "nofile=9:3",
            "--rootfs",
            &root,
            "true",
        ],
        &["above the hard limit"],
    );
    refused(
        &env,
        &[
            "run",
            "--rm",
            "--group-add",
            "a b",
            "--rootfs",
            &root,
            "true",
        ],
        &["--group-add"],
    );
    // An unknown group name fails the start with docker's words.
    let out = env.berth(&[
        "run",
        "--rm",
        "--group-add",
        "nosuch",
        "--rootfs",
        &root,
        "true",
    ]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unable to find group nosuch"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn attach_chooses_the_streams_shown() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    let cmd = "echo to-out; echo to-err >&2; exit 3";
    let out = env.berth(&[
        "run", "--name", "aout", "-a", "stdout", "--rootfs", &root, "sh", "-c", cmd,
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        (stdout(&out).as_str(), stderr(&out).as_str()),
        ("to-out\n", "")
    );
    let out = env.berth(&[
        "run", "--rm", "-a", "STDERR", "--rootfs", &root, "sh", "-c", cmd,
    ]);
    assert_eq!(
        (stdout(&out).as_str(), stderr(&out).as_str()),
        ("", "to-err\n")
    );
    let c = env.inspect("aout")["Config"].clone();
    assert_eq!(
        (
            c["AttachStdin"].as_bool(),
            c["AttachStdout"].as_bool(),
            c["AttachStderr"].as_bool()
        ),
        (Some(false), Some(true), Some(false))
    );
    // With -i too (the interactive path): only the named streams, recorded as such.
    let out = env.berth(&[
        "run", "--name", "ai", "-i", "-a", "stderr", "--rootfs", &root, "sh", "-c", cmd,
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        (stdout(&out).as_str(), stderr(&out).as_str()),
        ("", "to-err\n")
    );
    let c = env.inspect("ai")["Config"].clone();
    assert_eq!(
        (c["AttachStdin"].as_bool(), c["AttachStdout"].as_bool()),
        (Some(false), Some(false))
    );
    env.ok(&["rm", "ai"]);
    env.run_detached("adet", &[], &["true"]);
    assert_eq!(env.inspect("adet")["Config"]["AttachStdout"], false);
    env.ok(&["rm", "-f", "aout", "adet"]);
    refused(
        &env,
        &["run", "-a", "stdlog", "--rootfs", &root, "true"],
        &["stdlog", "stdout"],
    );
    refused(
        &env,
        &["run", "-d", "-a", "stdout", "--rootfs", &root, "true"],
        &["-a and -d"],
    );
}

#[test]
fn init_runs_tini_as_pid_one_and_forwards_signals() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    // pid 1 is the init, the command its child; the command's exit code is the container's.
    let out = env.berth(&[
        "run",
        "--rm",
        "--init",
        "--rootfs",
        &root,
        "sh",
        "-c",
        "tr '\\0' ' ' < /proc/1/cmdline; echo; echo $$; exit 7",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("/sbin/docker-init -- sh -c"), "{text}");
    assert_ne!(text.lines().nth(1), Some("1"), "{text}");
    // SIGTERM reaches a command that, as pid 1, would have ignored it: exit 143, not the
    // SIGKILL's 137 after the timeout.
    env.run_detached("inited", &["--init"], &["sleep", "100"]);
    assert_eq!(env.inspect("inited")["HostConfig"]["Init"], true);
    env.ok(&["stop", "-t", "20", "inited"]);
    assert_eq!(env.inspect("inited")["State"]["ExitCode"], 143);
    env.ok(&["rm", "inited"]);
    // A dynamically linked init is refused before anything is created.
    let out = env
        .t
        .cmd()
        .env("BERTH_INIT_PATH", "/usr/bin/tini")
        .args(["run", "--rm", "--init", "--rootfs", &root, "true"])
        .output()
        .expect("berth");
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("statically linked"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.ok(&["ps", "-aq"]).trim(), "");
}
