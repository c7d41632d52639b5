//! Hardening (issue 9, items 1, 3, 4 and 15a), as root against real containers: the engine
//! root and berth's runtime state are closed to other users; files of an image or a container
//! are read inside its rootfs, never through a symlink on the host; mounts on /proc and /sys
//! are refused and symlinked destinations resolve inside the rootfs; a read-only root is one
//! clear error.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::symlinked::{symlinked, Case, HOST_DEV, HOST_HOSTS, HOST_PASSWD, HOST_UID};
use common::{Auth, Registry, TestRoot};

fn out(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Pushes the image of `case` and returns its reference, pulled into `t`.
fn pulled(reg: &Registry, t: &TestRoot, case: Case) -> String {
    let repo = format!("test/{case:?}:latest").to_lowercase();
    reg.push(symlinked(case), &repo);
    let image = reg.reference(&repo);
    t.berth_ok(["pull", "-q", "--tls-verify=false", &image]);
    image
}

/// Runs berth with `args`, killing it (by pid) if it takes longer than `limit`.
fn berth_bounded(t: &TestRoot, args: &[&str], limit: Duration) -> (i32, String, String) {
    let mut child = t
        .cmd()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run berth");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("berth {args:?} still runs after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    out(&child.wait_with_output().expect("output"))
}

/// Every path at or below `dir` (not following symlinks; through mounts).
fn walk(dir: &Path, into: &mut Vec<PathBuf>) {
    into.push(dir.to_path_buf());
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    if !meta.is_dir() {
        return;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            walk(&e.path(), into);
        }
    }
}

/// Runs busybox sh as uid/gid 65534 with no groups; `paths` on stdin.
fn as_nobody(script: &str, paths: &[PathBuf]) -> String {
    let mut child = Command::new("/bin/busybox")
        .args(["sh", "-c", script])
        .uid(65534)
        .gid(65534)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run busybox as nobody");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        for p in paths {
            writeln!(stdin, "{}", p.display()).expect("write paths");
        }
    }
    String::from_utf8_lossy(&child.wait_with_output().expect("wait").stdout).into_owned()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("stat").permissions().mode() & 0o7777
}

#[test]
fn engine_root_and_runtime_state_are_closed_to_other_users() {
    let reg = Registry::start(Auth::None);
    let t = TestRoot::new();
    let image = pulled(&reg, &t, Case::Setuid);
    let root = t.path();
    assert_eq!(mode(&root), 0o700, "a new root is 0700");
    // A container that plants a setuid copy of busybox and writes a secret into a volume.
    t.berth_ok([
        "run",
        "-d",
        "--name",
        "planter",
        "-e",
        "SECRET=hunter2",
        "-v",
        "vol:/data",
        &image,
        "sh",
        "-c",
        "cp /bin/busybox /tmp/e && chmod 4755 /tmp/e && echo s > /data/s && sleep 300",
    ]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut paths = Vec::new();
    while Instant::now() < deadline {
        paths.clear();
        walk(&root, &mut paths);
        if paths.iter().any(|p| p.ends_with("merged/tmp/e")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let planted: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| p.ends_with("merged/tmp/e") || p.ends_with("usr/bin/su-copy"))
        .collect();
    assert!(planted.len() >= 2, "setuid files in place: {planted:?}");
    let run_state = Path::new("/run/berth");
    if run_state.exists() {
        assert_eq!(mode(run_state), 0o700, "/run/berth");
        walk(run_state, &mut paths);
    }
    // Below the root nothing is even visible to nobody; the root itself cannot be listed, and
    // no planted setuid binary can be run.
    let seen = as_nobody(
        r#"read root; ls "$root" >/dev/null 2>&1 && echo "listed: $root"
           while read -r p; do
             if [ -e "$p" ] || [ -L "$p" ]; then echo "visible: $p"; fi
             cat "$p" >/dev/null 2>&1 && echo "readable: $p"
             "$p" true >/dev/null 2>&1 && echo "executed: $p"
           done"#,
        &paths,
    );
    let seen: Vec<&str> = seen
        .lines()
        .filter(|l| !l.ends_with("/run/berth") || !l.starts_with("visible"))
        .collect();
    assert!(
        seen.is_empty(),
        "other users reach the engine's files: {seen:?}"
    );
    t.berth_ok(["rm", "-f", "planter"]);
    // An old, wider root is tightened; a mode an admin narrowed further is kept.
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o711)).unwrap();
    t.berth_ok(["ps"]);
    assert_eq!(mode(&root), 0o700);
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o500)).unwrap();
    t.berth_ok(["ps"]);
    assert_eq!(mode(&root), 0o500, "never loosened");
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn non_root_containers_use_volumes_and_binds_under_a_closed_root() {
    let reg = Registry::start(Auth::None);
    let t = TestRoot::new();
    let image = pulled(&reg, &t, Case::Setuid);
    let share = t.base().join("share");
    std::fs::create_dir(&share).unwrap();
    std::fs::write(share.join("f"), "from the host\n").unwrap();
    std::os::unix::fs::chown(&share, Some(1000), Some(1000)).unwrap();
    t.berth_ok(["volume", "create", "v1"]);
    let bind = format!("{}:/b", share.display());
    let (code, stdout, stderr) = out(&t.berth([
        "run",
        "--rm",
        "-u",
        "1000:1000",
        "-v",
        "v1:/data",
        "-v",
        &bind,
        "--tmpfs",
        "/scratch",
        &image,
        "sh",
        "-c",
        "id -u && cat /b/f && echo w > /b/w && cat /etc/hostname >/dev/null && ls / >/dev/null \
         && echo ok > /scratch/x && cat /scratch/x",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "1000\nfrom the host\nok\n");
    assert_eq!(std::fs::read_to_string(share.join("w")).unwrap(), "w\n");
    // A volume the user owns after a root container chowned it.
    t.berth_ok([
        "run", "--rm", "-v", "v1:/data", &image, "chown", "1000", "/data",
    ]);
    let (code, stdout, stderr) = out(&t.berth([
        "run",
        "--rm",
        "-u",
        "1000",
        "-v",
        "v1:/data",
        &image,
        "sh",
        "-c",
        "echo mine > /data/f && cat /data/f",
    ]));
    assert_eq!((code, stdout.as_str()), (0, "mine\n"), "{stderr}");
}

#[test]
fn passwd_and_group_are_read_inside_the_image() {
    let reg = Registry::start(Auth::None);
    let t = TestRoot::new();
    std::fs::write(
        HOST_PASSWD,
        format!("app:x:{HOST_UID}:{HOST_UID}:host:/hosthome:/bin/sh\napp:x:{HOST_UID}:\n"),
    )
    .unwrap();
    struct Remove;
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(HOST_PASSWD);
        }
    }
    let _remove = Remove;
    // A symlink to a host file: inside the image it leads nowhere, so `app` is unknown.
    let image = pulled(&reg, &t, Case::HostPasswd);
    let (code, stdout, stderr) = out(&t.berth(["run", "--rm", "-u", "app", &image, "id", "-u"]));
    assert!(
        !stdout.contains(&HOST_UID.to_string()),
        "host passwd used: {stdout}"
    );
    assert_eq!(code, 125, "{stdout}{stderr}");
    assert!(stderr.contains("unable to find user app"), "{stderr}");
    let (code, stdout, _) = out(&t.berth(["run", "--rm", &image, "id", "-u"]));
    assert_eq!((code, stdout.as_str()), (0, "0\n"));
    // -> /dev/zero: the image has no /dev/zero, so no passwd; nothing is read without bound.
    let image = pulled(&reg, &t, Case::ZeroPasswd);
    let (code, stdout, stderr) = berth_bounded(
        &t,
        &[
            "run",
            "--rm",
            "-u",
            "1000",
            &image,
            "grep",
            "-c",
            "^Uid:.1000",
            "/proc/self/status",
        ],
        Duration::from_secs(60),
    );
    assert_eq!((code, stdout.as_str()), (0, "1\n"), "{stderr}");
    // A FIFO: a clear error, at once, for `run -d` as for `run`.
    let image = pulled(&reg, &t, Case::FifoPasswd);
    for args in [
        vec!["run", "-d", "--name", "fifo", image.as_str(), "sleep", "30"],
        vec!["run", "--rm", image.as_str(), "true"],
    ] {
        let (code, _, stderr) = berth_bounded(&t, &args, Duration::from_secs(30));
        assert_eq!(code, 125, "{stderr}");
        assert!(
            stderr.contains("/etc/passwd") && stderr.contains("a FIFO, not a regular file"),
            "{stderr}"
        );
    }
    // `exec -u` on a running container whose /etc/passwd became a link to the host file.
    let image = pulled(&reg, &t, Case::Setuid);
    t.berth_ok(["run", "-d", "--name", "cc", &image, "sleep", "300"]);
    t.berth_ok([
        "exec",
        "cc",
        "sh",
        "-c",
        &format!("rm /etc/passwd && ln -s {HOST_PASSWD} /etc/passwd"),
    ]);
    let (code, stdout, stderr) = out(&t.berth(["exec", "-u", "app", "cc", "id", "-u"]));
    assert!(
        !stdout.contains(&HOST_UID.to_string()),
        "host passwd used: {stdout}"
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("unable to find user app"), "{stderr}");
    t.berth_ok(["rm", "-f", "cc"]);
}

#[test]
fn mounts_on_proc_and_sys_are_refused() {
    let reg = Registry::start(Auth::None);
    let t = TestRoot::new();
    let image = pulled(&reg, &t, Case::Setuid);
    for flags in [
        ["-v", "vol:/proc"],
        ["-v", "vol:/proc/sys"],
        ["--tmpfs", "/proc"],
        ["-v", "vol:/sys/fs"],
        ["--mount", "type=tmpfs,dst=/sys"],
    ] {
        let (code, _, stderr) = out(&t.berth(
            [
                &["run", "--rm"][..],
                &flags[..],
                &[image.as_str(), "true"][..],
            ]
            .concat(),
        ));
        assert_eq!(code, 125, "{flags:?}: {stderr}");
        assert!(stderr.contains("cannot mount on /"), "{flags:?}: {stderr}");
    }
    assert!(
        t.berth_ok(["ps", "-aq"]).trim().is_empty(),
        "nothing created"
    );
    assert!(
        t.berth_ok(["volume", "ls", "-q"]).trim().is_empty(),
        "no volume left"
    );
}

#[test]
fn symlinked_destinations_resolve_inside_the_rootfs() {
    let reg = Registry::start(Auth::None);
    let t = TestRoot::new();
    let image = pulled(&reg, &t, Case::Destinations);
    let (code, stdout, stderr) = out(&t.berth([
        "run",
        "--rm",
        "--hostname",
        "box",
        "-v",
        "vol:/data",
        "--tmpfs",
        "/data/t",
        &image,
        "sh",
        "-c",
        "grep -c box /etc/hosts; cat /etc/resolv.conf >/dev/null && echo resolv; \
         cat /proc/self/comm; test -c /dev/null && echo devnull; cat /data/seed; \
         grep -o ' /srv/real[^ ]* ' /proc/self/mountinfo",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "1\nresolv\ncat\ndevnull\nfrom the image\n /srv/real \n /srv/real/t \n"
    );
    assert!(!Path::new(HOST_HOSTS).exists(), "a host path was written");
    // An absolute /dev symlink would make the runtime write on the host: refused, clearly.
    let image = pulled(&reg, &t, Case::AbsoluteDev);
    let (code, _, stderr) = out(&t.berth(["run", "--rm", &image, "true"]));
    assert_eq!(code, 125, "{stderr}");
    assert!(stderr.contains("/dev is a symlink"), "{stderr}");
    assert!(
        t.berth_ok(["ps", "-aq"]).trim().is_empty(),
        "--rm leaves nothing"
    );
    assert!(!Path::new(HOST_DEV).exists(), "a host path was written");
}

#[test]
fn read_only_root_is_one_clear_error() {
    let t = TestRoot::new();
    t.berth_ok(["volume", "create", "vv"]);
    let root = t.path();
    // TestRoot's drop unmounts whatever is left under it, also when this test fails.
    let bind = |args: &[&str]| {
        let st = Command::new("mount")
            .args(args)
            .arg(&root)
            .arg(&root)
            .status()
            .unwrap();
        assert!(st.success(), "mount {args:?}");
    };
    bind(&["--bind"]);
    let st = Command::new("mount")
        .args(["-o", "remount,bind,ro"])
        .arg(&root)
        .status()
        .unwrap();
    assert!(st.success());
    for args in [
        vec!["ps", "-a"],
        vec!["images"],
        vec!["volume", "create", "w"],
        vec!["run", "--rm", "busybox", "true"],
    ] {
        let (code, _, stderr) = out(&t.berth(&args));
        assert_eq!(code, 125, "{args:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: one error: {stderr}");
        assert!(
            lines[0].contains(&format!("engine root {}", root.display()))
                && lines[0].contains("read-only file system")
                && lines[0].contains("remount it read-write"),
            "{args:?}: {stderr}"
        );
    }
    nix::mount::umount2(&root, nix::mount::MntFlags::MNT_DETACH).unwrap();
    t.berth_ok(["volume", "rm", "vv"]);
}
