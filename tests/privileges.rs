//! What a container's privileges allow, as Docker's defaults do, as root against the real
//! binary: Docker's 14 capabilities (a `cap_net_raw=ep` ping runs), ptrace under the default
//! seccomp profile, and `--privileged` with the host's devices and an open device cgroup.

mod containers_support;

use std::path::Path;
use std::process::Command;

use containers_support::{stderr, stdout, TestRoot};

fn sh(t: &TestRoot, flags: &[&str], script: &str) -> (i32, String, String) {
    let mut f = vec!["--rm"];
    f.extend_from_slice(flags);
    let o = t.run(&f, &["sh", "-c", script]);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

/// A field of `/proc/self/status` (`CapEff`, `CapBnd`) inside a container.
fn status_field(t: &TestRoot, flags: &[&str], field: &str) -> String {
    let (code, out, err) = sh(t, flags, &format!("grep {field}: /proc/self/status"));
    assert_eq!(code, 0, "{err}");
    out.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// Docker's 14: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE
/// NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
const DOCKER_CAPS: &str = "00000000a80425fb";

/// Gives `file` the file capability `cap_net_raw=ep` (what Debian's ping carries): a
/// `security.capability` xattr, version 2, effective flag, permitted = bit 13.
fn set_cap_net_raw(file: &Path) {
    let words: [u32; 5] = [0x0200_0000 | 1, 1 << 13, 0, 0, 0];
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let path = std::ffi::CString::new(file.as_os_str().as_encoded_bytes()).unwrap();
    let name = c"security.capability";
    // SAFETY: both strings are NUL-terminated and `bytes` outlives the call.
    let rc = unsafe {
        libc::setxattr(
            path.as_ptr(),
            name.as_ptr(),
            bytes.as_ptr().cast(),
            bytes.len(),
            0,
        )
    };
    assert_eq!(rc, 0, "setxattr: {}", std::io::Error::last_os_error());
}

#[test]
fn default_capabilities_are_dockers_and_a_file_capability_ping_runs() {
    let t = TestRoot::new();
    assert_eq!(status_field(&t, &[], "CapBnd"), DOCKER_CAPS);
    assert_eq!(status_field(&t, &[], "CapEff"), DOCKER_CAPS);
    assert_eq!(
        status_field(&t, &["--cap-drop", "ALL"], "CapEff"),
        "0000000000000000"
    );
    assert_eq!(
        status_field(&t, &["--cap-drop", "NET_RAW"], "CapBnd"),
        "00000000a80405fb"
    );
    let own_bounding = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:").map(|v| v.trim().to_string()))
        .unwrap();
    assert_eq!(
        status_field(&t, &["--cap-add", "ALL"], "CapEff"),
        own_bounding
    );

    // busybox as a ping carrying cap_net_raw=ep, like Debian's iputils ping: the kernel refuses
    // to exec it unless NET_RAW is in the bounding set.
    let capbin = t.rootfs().join("capbin");
    std::fs::create_dir_all(&capbin).unwrap();
    std::fs::copy("/bin/busybox", capbin.join("ping")).unwrap();
    set_cap_net_raw(&capbin.join("ping"));
    let (code, out, err) = sh(&t, &[], "/capbin/ping -c 1 -W 5 127.0.0.1");
    assert_eq!(code, 0, "ping in a default container: {out}{err}");
    assert!(out.contains("1 packets received"), "{out}");
    // Without NET_RAW it cannot even start, as in Docker.
    let (code, _, err) = sh(
        &t,
        &["--cap-drop", "NET_RAW"],
        "/capbin/ping -c 1 127.0.0.1",
    );
    assert_ne!(code, 0);
    assert!(err.contains("Operation not permitted"), "{err}");
}

/// A static C program that traces its own child twice: the child asks for it
/// (PTRACE_TRACEME), then a second child is attached to (PTRACE_ATTACH), as strace and gdb do.
const TRACER_C: &str = r#"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static int stopped(pid_t pid) {
    int st;
    if (waitpid(pid, &st, 0) != pid) return 0;
    return WIFSTOPPED(st);
}

int main(void) {
    pid_t child = fork();
    if (child == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) {
            printf("traceme: %s\n", strerror(errno));
            _exit(3);
        }
        raise(SIGSTOP);
        _exit(0);
    }
    int st;
    if (waitpid(child, &st, 0) != child || !WIFSTOPPED(st)) {
        printf("traceme child not stopped (status %d)\n", st);
        return 1;
    }
    ptrace(PTRACE_CONT, child, 0, 0);
    waitpid(child, &st, 0);
    pid_t sleeper = fork();
    if (sleeper == 0) {
        pause();
        _exit(0);
    }
    if (ptrace(PTRACE_ATTACH, sleeper, 0, 0) != 0) {
        printf("attach: %s\n", strerror(errno));
        kill(sleeper, SIGKILL);
        return 1;
    }
    if (!stopped(sleeper)) {
        printf("attached child not stopped\n");
        return 1;
    }
    ptrace(PTRACE_DETACH, sleeper, 0, 0);
    kill(sleeper, SIGKILL);
    waitpid(sleeper, &st, 0);
    printf("traced\n");
    return 0;
}
"#;

/// Compiles [`TRACER_C`] statically into `dest`.
fn build_tracer(dest: &Path) {
    let src = dest.with_extension("c");
    std::fs::write(&src, TRACER_C).unwrap();
    let out = Command::new("cc")
        .args(["-static", "-O1", "-o"])
        .arg(dest)
        .arg(&src)
        .output()
        .expect("a C compiler (cc) with static libc (libc6-dev) is needed for the ptrace test");
    assert!(
        out.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&src).unwrap();
}

#[test]
fn ptrace_works_under_the_default_seccomp_profile() {
    let t = TestRoot::new();
    build_tracer(&t.rootfs().join("bin/tracer"));
    let o = t.run(&["--rm"], &["/bin/tracer"]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "traced\n"),
        "{}",
        stderr(&o)
    );
    // The profile still refuses what Docker's refuses without privileges (the ptrace rule did
    // not open anything else).
    let (code, _, err) = sh(&t, &[], "unshare -U true");
    assert_ne!(code, 0);
    assert!(err.contains("Operation not permitted"), "{err}");
}

#[test]
fn privileged_gets_host_devices_and_an_open_device_cgroup() {
    let t = TestRoot::new();
    // loop-control is 10:237 on every Linux; a default container neither sees it nor may open
    // a node it makes for it (making one is allowed, as in Docker).
    let script = "test -c /dev/loop-control && echo seen; \
                  mknod /dev/lc c 10 237 && echo made; \
                  (exec 3<>/dev/lc) && echo opened; true";
    let (code, out, err) = sh(&t, &[], script);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "made\n", "{err}");
    assert!(err.contains("Operation not permitted"), "{err}");
    let (code, out, err) = sh(&t, &["--privileged"], script);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "seen\nmade\nopened\n", "{err}");
    // Every device node of the host's /dev, with its numbers (kmsg is 1:11).
    let (code, out, err) = sh(
        &t,
        &["--privileged"],
        "(exec 3</dev/loop-control) && echo lc; stat -c '%t:%T' /dev/kmsg",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "lc\n1:b\n", "{err}");
    // Writable /sys, no masked paths, no seccomp.
    let (code, out, err) = sh(
        &t,
        &["--privileged"],
        "grep -E ' /sys (rw|ro)' /proc/self/mountinfo | cut -d' ' -f6 | cut -d, -f1; \
         grep Seccomp: /proc/self/status; wc -c < /proc/timer_list",
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "rw", "{out}");
    assert_eq!(lines[1].split_whitespace().nth(1), Some("0"), "{out}");
    assert_ne!(lines[2], "0", "/proc/timer_list is not masked: {out}");
}
