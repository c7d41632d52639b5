//! What a container can and cannot do, as root against the real binary: pid 1, hostname,
//! mounts, capabilities, seccomp, cgroup limits, inherited descriptors, the host binary.

mod containers_support;

use std::os::fd::AsRawFd;
use std::time::Duration;

use containers_support::{stderr, stdout, TestRoot};

fn sh(t: &TestRoot, flags: &[&str], script: &str) -> (i32, String, String) {
    let mut f = vec!["--rm"];
    f.extend_from_slice(flags);
    let o = t.run(&f, &["sh", "-c", script]);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

#[test]
fn namespaces_pid_hostname_mounts_network() {
    let t = TestRoot::new();
    let (code, out, err) = sh(&t, &[], "echo $$; hostname; cat /etc/hostname");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1", "the command is pid 1");
    assert_eq!(lines[1].len(), 12, "hostname is the short id: {out}");
    assert_eq!(lines[1], lines[2]);
    let (_, out, _) = sh(&t, &["--hostname", "box1"], "hostname");
    assert_eq!(out.trim(), "box1");
    // The container sees its own rootfs and kernel filesystems, none of the host's mounts.
    let (_, out, _) = sh(&t, &[], "cat /proc/self/mountinfo");
    assert!(out.lines().next().unwrap().contains(" / / "), "{out}");
    let mount_points: Vec<&str> = out.lines().filter_map(|l| l.split(' ').nth(4)).collect();
    assert!(
        mount_points
            .iter()
            .all(|m| !m.starts_with("/work") && !m.starts_with("/tmp/")),
        "host mounts leak: {out}"
    );
    // Private network namespace: loopback only, and up.
    let (_, out, _) = sh(
        &t,
        &[],
        "ls /sys/class/net; cat /sys/class/net/lo/operstate",
    );
    assert_eq!(out.split_whitespace().next(), Some("lo"), "{out}");
    assert_eq!(out.split_whitespace().count(), 2, "{out}");
    let host_ifaces = std::fs::read_dir("/sys/class/net").unwrap().count();
    let (_, out, _) = sh(&t, &["--network", "host"], "ls /sys/class/net");
    assert_eq!(out.split_whitespace().count(), host_ifaces);
    // The rootfs directory on the host is untouched by writes in the container.
    let (code, _, _) = sh(&t, &[], "echo x > /written && rm /bin/sh");
    assert_eq!(code, 0);
    assert!(!t.rootfs().join("written").exists());
    assert!(t.rootfs().join("bin/sh").exists());
}

#[test]
fn capabilities_and_privileges() {
    let t = TestRoot::new();
    let cap = |flags: &[&str]| {
        let (_, out, _) = sh(&t, flags, "grep CapEff /proc/self/status");
        out.split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    // Docker's 14: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE
    // NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
    assert_eq!(cap(&[]), "00000000a80425fb");
    assert_eq!(cap(&["--cap-add", "NET_ADMIN"]), "00000000a80435fb");
    assert_eq!(cap(&["--cap-drop", "CHOWN"]), "00000000a80425fa");
    let own_bounding = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:").map(|v| v.trim().to_string()))
        .unwrap();
    assert_eq!(
        cap(&["--privileged"]),
        own_bounding,
        "privileged: all berth holds"
    );
    let (_, out, _) = sh(
        &t,
        &["--security-opt", "no-new-privileges"],
        "grep NoNewPrivs /proc/self/status",
    );
    assert!(out.contains('1'), "{out}");
    let (_, out, _) = sh(&t, &[], "grep NoNewPrivs /proc/self/status");
    assert!(out.contains('0'), "{out}");
    // Users come from the image's passwd and group files.
    let (_, out, _) = sh(&t, &["-u", "app", "-w", "/tmp"], "id; pwd; echo $HOME");
    assert_eq!(
        out,
        "uid=1000(app) gid=1000(app) groups=50(staff)\n/tmp\n/home/app\n"
    );
    let (code, _, err) = sh(&t, &["-u", "nobody-here"], "true");
    assert_eq!(code, 125);
    assert!(err.contains("unable to find user nobody-here"), "{err}");
    let (_, out, _) = sh(&t, &["-e", "A=1", "-e", "B=two words"], "echo $A-$B");
    assert_eq!(out, "1-two words\n");
}

#[test]
fn seccomp_masked_paths_and_readonly_paths() {
    let t = TestRoot::new();
    // A user namespace needs no capability: only the seccomp profile refuses it.
    let (code, _, err) = sh(&t, &[], "unshare -U true");
    assert_ne!(code, 0);
    assert!(err.contains("Operation not permitted"), "{err}");
    let (code, _, err) = sh(&t, &["--privileged"], "unshare -U true");
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = sh(
        &t,
        &[],
        "cat /proc/timer_list | wc -c; echo 1 > /proc/sys/kernel/domainname 2>&1 && echo wrote",
    );
    assert_eq!(out.lines().next(), Some("0"), "masked: {out}");
    assert!(!out.contains("wrote"), "/proc/sys is read-only: {out}");
    let (code, _, _) = sh(&t, &[], "mount -t tmpfs none /mnt");
    assert_ne!(code, 0, "no CAP_SYS_ADMIN");
}

#[test]
fn cgroup_limits_are_applied() {
    let t = TestRoot::new();
    let (code, out, err) = sh(
        &t,
        &["--memory", "64m", "--pids-limit", "20", "--cpus", "0.5"],
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max \
         /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "67108864\n20\n50000\n100000\n");
    // The pids limit is enforced: forks beyond it fail and the host's cgroup counts them.
    // busybox sh gives up on a failed fork: fork from a subshell so pid 1 survives.
    let script = "(for i in 1 2 3 4 5 6 7 8 9 10; do sleep 100 & done) 2>/dev/null; exec sleep 100";
    let id = stdout(&t.run(&["-d", "--pids-limit", "7"], &["sh", "-c", script]))
        .trim()
        .to_string();
    let cg = format!("/sys/fs/cgroup/pids/berth/{id}");
    let max = std::fs::read_to_string(format!("{cg}/pids.max")).unwrap();
    assert_eq!(
        max.trim(),
        "7",
        "the cgroup lives under berth/<id> on the host"
    );
    let mut refused = 0;
    for _ in 0..100 {
        let events = std::fs::read_to_string(format!("{cg}/pids.events")).unwrap();
        refused = events
            .trim()
            .strip_prefix("max ")
            .unwrap()
            .parse::<u32>()
            .unwrap();
        if refused > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(refused > 0, "forks beyond the limit were refused");
    let current = std::fs::read_to_string(format!("{cg}/pids.current")).unwrap();
    assert!(current.trim().parse::<u32>().unwrap() <= 7);
    t.ok(&["rm", "-f", &id]);
    assert!(!std::path::Path::new(&format!("/sys/fs/cgroup/pids/berth/{id}")).exists());
}

#[test]
fn only_stdio_descriptors_reach_the_container() {
    let t = TestRoot::new();
    // Leak a descriptor into berth's environment on purpose: it must not reach the container.
    let leaked = std::fs::File::open("/etc/hostname").unwrap();
    let raw = nix::unistd::dup(leaked.as_raw_fd()).unwrap();
    // `; true` keeps sh from exec'ing ls as pid 1 (ls's own directory fd would show).
    let (code, out, err) = sh(&t, &[], "ls /proc/$$/fd; true");
    let _ = nix::unistd::close(raw);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["0", "1", "2"]);
    let id = stdout(&t.run(&["-d"], &["sleep", "100"]))
        .trim()
        .to_string();
    let pid = berth::engine::container::get(&t.engine(), &id)
        .unwrap()
        .state
        .pid;
    // `start` returns when the container is told to run; its exec follows at once.
    for _ in 0..200 {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if exe.to_string_lossy().ends_with("busybox") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut fds = fds;
    fds.sort();

    assert_eq!(fds, ["0", "1", "2"]);
}

#[test]
fn host_binary_cannot_be_opened_for_writing_through_proc() {
    let t = TestRoot::new();
    let id = stdout(&t.run(&["-d"], &["sleep", "100"]))
        .trim()
        .to_string();
    let rec = berth::engine::container::get(&t.engine(), &id).unwrap();
    use std::os::unix::fs::MetadataExt;
    let file_id = |p: &str| std::fs::metadata(p).map(|m| (m.dev(), m.ino())).unwrap();
    let berth_id = file_id(containers_support::berth_bin());
    let relay_id = file_id(env!("CARGO_BIN_EXE_berth-relay"));
    let exe_path = format!("/proc/{}/exe", rec.state.monitor_pid);
    // Take a handle on the monitor's executable the way CVE-2019-5736 does, and try to write
    // through it once the monitor is gone (so "text file busy" no longer protects it): first
    // the berth binary the monitor starts from (or already the relay binary, on a slow
    // machine), then the relay binary it runs once the container has run for a moment.
    let take = || {
        nix::fcntl::open(
            exe_path.as_str(),
            nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .unwrap()
    };
    let first = take();
    let mut handles = vec![first];
    for _ in 0..500 {
        if std::fs::metadata(&exe_path)
            .map(|m| (m.dev(), m.ino()))
            .ok()
            == Some(relay_id)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    handles.push(take());
    for (n, &exe) in handles.iter().enumerate() {
        // The handle names the berth or the relay binary, on a read-only mount: writing
        // through it fails with EROFS even once no berth process runs (while one runs, "text
        // file busy" comes first).
        let st = nix::sys::stat::fstat(exe).unwrap();
        let id = (st.st_dev, st.st_ino);
        if n == 0 {
            assert!(id == berth_id || id == relay_id, "{id:?}");
        } else {
            assert_eq!(id, relay_id, "the long-lived monitor runs berth-relay");
        }
        // SAFETY: `exe` is an open descriptor owned by this test until it is closed below.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(exe) };
        let vfs = nix::sys::statvfs::fstatvfs(borrowed).unwrap();
        assert!(
            vfs.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY),
            "the monitor's executable is writable"
        );
    }
    t.ok(&["rm", "-f", &id]);
    std::thread::sleep(Duration::from_millis(50));
    for exe in handles {
        let reopen = std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/self/fd/{exe}"));
        let _ = nix::unistd::close(exe);
        let err = reopen.expect_err("the monitor's binary must not be writable through /proc");
        assert!(
            matches!(err.raw_os_error(), Some(libc::EROFS) | Some(libc::ETXTBSY)),
            "{err}"
        );
    }
    // Inside the container, /proc/self/exe of pid 1 is the container's own binary.
    let (code, out, _) = sh(&t, &[], "readlink /proc/1/exe");
    assert_eq!((code, out.as_str()), (0, "/bin/busybox\n"));
}

#[test]
fn the_container_starts_with_no_signal_ignored() {
    let t = TestRoot::new();
    // The monitor ignores SIGPIPE; its container must not inherit that (nor anything the shell
    // that ran berth ignores): `yes | head` ends because `yes` dies of SIGPIPE.
    let (code, out, err) = sh(
        &t,
        &[],
        "grep SigIgn /proc/self/status; yes hello | head -c 12; echo; exec grep SigIgn /proc/1/status",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "SigIgn:\t0000000000000000\nhello\nhello\n\nSigIgn:\t0000000000000000\n"
    );
    let (code, out, err) = sh(&t, &["-d"], "sleep 100");
    assert_eq!(code, 0, "{err}");
    let id = out.trim();
    let (code, out, err) = {
        let o = t.berth(&["exec", id, "grep", "SigIgn", "/proc/self/status"]);
        (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
    };
    assert_eq!(
        (code, out.as_str()),
        (0, "SigIgn:\t0000000000000000\n"),
        "{err}"
    );
    t.ok(&["rm", "-f", id]);
}
