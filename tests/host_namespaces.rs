//! `--pid host`, `--ipc host`, `--uts host` (parity item 8): the container shares exactly the
//! host namespaces asked for, inspect shows docker's modes, and bad modes are refused.

mod common;
mod interactive_support;

use interactive_support::{stderr, stdout, Env};

fn host_ns(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .expect("own namespace")
        .to_string_lossy()
        .into_owned()
}

const PROBE: &str = "for n in pid ipc uts; do echo $n=$(readlink /proc/self/ns/$n); done; \
                     echo name=$(hostname)";

fn probe(env: &Env, name: &str, extra: &[&str]) -> String {
    let root = env.rootfs.to_string_lossy().into_owned();
    let mut args = vec!["run", "--name", name];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--rootfs", &root, "sh", "-c", PROBE]);
    let out = env.berth(&args);
    assert!(out.status.success(), "{extra:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn host_namespaces_are_shared_only_when_asked() {
    let env = Env::new();
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let own = probe(&env, "own", &[]);
    for n in ["pid", "ipc", "uts"] {
        assert!(!own.contains(&format!("{n}={}", host_ns(n))), "{n}: {own}");
    }
    let hc = env.inspect("own")["HostConfig"].clone();
    assert_eq!(
        (
            hc["PidMode"].as_str(),
            hc["IpcMode"].as_str(),
            hc["UTSMode"].as_str()
        ),
        (Some(""), Some("private"), Some(""))
    );

    let shared = probe(
        &env,
        "shared",
        &["--pid", "host", "--ipc", "host", "--uts", "host"],
    );
    for n in ["pid", "ipc", "uts"] {
        assert!(
            shared.contains(&format!("{n}={}", host_ns(n))),
            "{n}: {shared}"
        );
    }
    assert!(
        shared.contains(&format!("name={}", host_name.trim())),
        "{shared}"
    );
    let hc = env.inspect("shared")["HostConfig"].clone();
    assert_eq!(
        (
            hc["PidMode"].as_str(),
            hc["IpcMode"].as_str(),
            hc["UTSMode"].as_str()
        ),
        (Some("host"), Some("host"), Some("host"))
    );

    // One at a time: only the pid namespace is the host's.
    let pid_only = probe(&env, "pidonly", &["--pid", "host"]);
    assert!(
        pid_only.contains(&format!("pid={}", host_ns("pid"))),
        "{pid_only}"
    );
    assert!(
        !pid_only.contains(&format!("ipc={}", host_ns("ipc"))),
        "{pid_only}"
    );
    env.ok(&["rm", "own", "shared", "pidonly"]);

    let root = env.rootfs.to_string_lossy().into_owned();
    for (flag, value) in [
        ("--pid", "container:x"),
        ("--ipc", "none"),
        ("--uts", "private"),
    ] {
        let out = env.berth(&["run", "--rm", flag, value, "--rootfs", &root, "true"]);
        assert_eq!(out.status.code(), Some(125), "{flag} {value}");
        assert!(stderr(&out).contains(flag), "{}", stderr(&out));
    }
    let out = env.berth(&[
        "run",
        "--rm",
        "--uts",
        "host",
        "--hostname",
        "x1",
        "--rootfs",
        &root,
        "true",
    ]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("conflicting options"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.ok(&["ps", "-aq"]).trim(), "");
}
