//! The container's view of the cgroup filesystem, as root against the real binary: read-only
//! and only its own cgroup by default (its limits cannot be lifted from inside, no host
//! hierarchy root or `release_agent` is reachable), writable with `--privileged`, and whatever
//! cgroups a container made inside its own are removed with it.

mod containers_support;

use std::path::Path;

use containers_support::{stderr, stdout, TestRoot};

fn sh(t: &TestRoot, flags: &[&str], script: &str) -> (i32, String, String) {
    let mut f = vec!["--rm"];
    f.extend_from_slice(flags);
    let o = t.run(&f, &["sh", "-c", script]);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

/// Whether this host has cgroup v1 hierarchies (else cgroup v2 only).
fn cgroup_v1() -> bool {
    Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists()
}

#[test]
fn a_container_cannot_lift_its_own_limits() {
    let t = TestRoot::new();
    let limits = ["--memory", "64m", "--pids-limit", "20", "--cpus", "0.5"];
    let (files, expect) = if cgroup_v1() {
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max \
             /sys/fs/cgroup/cpu/cpu.cfs_quota_us",
            "67108864\n20\n50000\n",
        )
    } else {
        (
            "/sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max",
            "67108864\n20\n50000 100000\n",
        )
    };
    let script = format!(
        "for f in {files}; do echo 999999999999 > $f && echo lifted $f; done; \
         mkdir /sys/fs/cgroup/memory/sub /sys/fs/cgroup/sub && echo made a cgroup; \
         touch /sys/fs/cgroup/x && echo wrote the tmpfs; \
         cat {files}"
    );
    for flags in [
        &limits[..],
        &[&limits[..], &["--cap-add", "SYS_ADMIN"]].concat(),
    ] {
        let (code, out, err) = sh(&t, flags, &script);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, expect, "{flags:?}: {err}");
        assert!(err.contains("Read-only file system"), "{err}");
    }
}

#[test]
fn only_the_containers_own_cgroup_is_visible() {
    let t = TestRoot::new();
    // No hierarchy root of the host: no release_agent (only roots have one), no name=systemd
    // hierarchy the container does not belong to, not even with CAP_SYS_ADMIN.
    for flags in [&[][..], &["--cap-add", "SYS_ADMIN"][..]] {
        let (code, out, err) = sh(
            &t,
            flags,
            "find /sys/fs/cgroup -name release_agent; ls /sys/fs/cgroup; \
             cat /sys/fs/cgroup/memory/cgroup.procs /sys/fs/cgroup/cgroup.procs 2>/dev/null; \
             true",
        );
        assert_eq!(code, 0, "{err}");
        assert!(!out.contains("release_agent"), "{out}");
        assert!(!out.contains("systemd"), "{out}");
        assert!(!out.contains("unified"), "{out}");
        // The container's cgroup holds just its own processes (sh and cat), pids in its namespace.
        let pids: Vec<&str> = out
            .lines()
            .filter(|l| l.chars().all(|c| c.is_ascii_digit()))
            .collect();
        assert!(pids.contains(&"1"), "{out}");
        assert!(pids.iter().all(|p| p.len() < 3), "host pids visible: {out}");
    }
    // Nor by mounting the hierarchies libcontainer does not manage (name=systemd, the hybrid
    // cgroup2) with CAP_SYS_ADMIN: the container has a cgroup of its own there too, so its
    // cgroup namespace is rooted at that and not at the host's root.
    let mut script = String::from("mkdir -p /tmp/h; ");
    if Path::new("/sys/fs/cgroup/systemd").is_dir() {
        script += "mount -t cgroup -o none,name=systemd cgroup /tmp/h && ls /tmp/h && \
                   cat /tmp/h/cgroup.procs && umount /tmp/h; ";
    }
    if Path::new("/sys/fs/cgroup/unified").is_dir() {
        script += "mount -t cgroup2 none /tmp/h && ls /tmp/h && cat /tmp/h/cgroup.procs; ";
    }
    let (code, out, err) = sh(&t, &["--cap-add", "SYS_ADMIN"], &script);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("release_agent"), "{out}");
    assert!(
        out.lines()
            .filter(|l| l.chars().all(|c| c.is_ascii_digit()))
            .all(|p| p.len() < 3),
        "host processes visible: {out}"
    );
    // The container's own cgroup is what it sees: its memory limit is the host's berth/<id>.
    let id = stdout(&t.run(&["-d", "--memory", "48m"], &["sleep", "100"]))
        .trim()
        .to_string();
    let inside = t.ok(&["exec", &id, "cat", "/proc/self/cgroup"]);
    assert!(
        inside.lines().all(|l| l.ends_with(":/")),
        "cgroup namespace: {inside}"
    );
    if cgroup_v1() {
        let host = std::fs::read_to_string(format!(
            "/sys/fs/cgroup/memory/berth/{id}/memory.limit_in_bytes"
        ))
        .unwrap();
        let seen = t.ok(&[
            "exec",
            &id,
            "cat",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        ]);
        assert_eq!((host.trim(), seen.trim()), ("50331648", "50331648"));
    }
    t.ok(&["rm", "-f", &id]);
}

#[test]
fn privileged_cgroups_are_writable_and_sub_cgroups_go_with_the_container() {
    let t = TestRoot::new();
    let hierarchy = if cgroup_v1() {
        "/sys/fs/cgroup/memory"
    } else {
        "/sys/fs/cgroup"
    };
    let script = format!("mkdir -p {hierarchy}/child/grandchild && echo made; exec sleep 100");
    let out = t.run(&["-d", "--privileged"], &["sh", "-c", &script]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    let own = Path::new(hierarchy).join("berth").join(&id);
    let grandchild = own.join("child/grandchild");
    for _ in 0..200 {
        if grandchild.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        grandchild.exists(),
        "the privileged container made {}",
        grandchild.display()
    );
    t.ok(&["rm", "-f", &id]);
    assert_eq!(cgroups_of(&id), Vec::<std::path::PathBuf>::new());
    assert!(!own.exists());
    // Killed by `rm -f` while running: the cgroups go too, on every hierarchy (the dying
    // processes leave them a moment after the kill).
    for _ in 0..5 {
        let id = stdout(&t.run(&["-d"], &["sleep", "100"]))
            .trim()
            .to_string();
        t.ok(&["rm", "-f", &id]);
        assert_eq!(cgroups_of(&id), Vec::<std::path::PathBuf>::new());
    }
}

/// The container's cgroup directories on the host, on any hierarchy.
fn cgroups_of(id: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir("/sys/fs/cgroup")
        .unwrap()
        .flatten()
        .map(|h| h.path().join("berth").join(id))
        .filter(|p| p.exists())
        .collect()
}
