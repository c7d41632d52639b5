//! Interactive containers against the real binary, as root: a shell in a real terminal (tmux),
//! detach and re-attach, several attached clients, exec (exit codes, streams, user, seccomp,
//! no leaks), refusals, and stdin pipes.

mod common;
mod interactive_support;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use interactive_support::{
    entries, fds, monitor_sockets, parent_of, processes_with, stderr, stdout, wait_for,
    wait_for_relay, Env, Tmux,
};

/// Prints `icanon` when the pane's terminal is in cooked mode, `-icanon` when raw.
const COOKED: &str = "stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon";

fn status(env: &Env, name: &str) -> (String, i64) {
    let v = env.inspect(name);
    (
        v["State"]["Status"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        v["State"]["ExitCode"].as_i64().unwrap_or(-1),
    )
}

#[test]
fn shell_in_a_real_terminal_detach_reattach_exit() {
    let env = Env::new();
    let run = env.berth_line(&format!(
        "run -it --name term --rootfs {} sh; echo RUN-EXITED $?; {COOKED}; sleep 600",
        env.rootfs.display()
    ));
    let tmux = Tmux::start(&run);
    let pane = "main:0";
    tmux.wait_line(pane, "the shell prompt", |l| l.starts_with("/ #"));

    tmux.type_text(pane, "echo $((6*7))");
    tmux.keys(pane, &["Enter"]);
    tmux.wait_line(pane, "42", |l| l == "42");

    tmux.tmux(&["resize-window", "-t", "main", "-x", "100", "-y", "30"]);
    wait_for("the window to resize", Duration::from_secs(5), || {
        let w = tmux.tmux(&["display", "-p", "-t", pane, "#{pane_width}x#{pane_height}"]);
        (w.trim() == "100x30").then_some(())
    });
    tmux.type_text(pane, "stty size");
    tmux.keys(pane, &["Enter"]);
    tmux.wait_line(pane, "stty size = 30 100", |l| l == "30 100");

    // ctrl-p ctrl-q detaches; the client exits 0 and the shell keeps running.
    tmux.keys(pane, &["C-p", "C-q"]);
    tmux.wait_line(pane, "the detached client's exit", |l| {
        l.ends_with("RUN-EXITED 0")
    });
    // The local terminal is back in cooked mode after the detach.
    tmux.wait_line(pane, "cooked mode after detach", |l| l == "icanon");
    assert_eq!(status(&env, "term").0, "running");

    let pid = env.inspect("term")["State"]["Pid"].as_i64().expect("pid");
    let monitor = parent_of(pid);
    let before = monitor_sockets(monitor);
    let attach = tmux.window(
        "again",
        &env.berth_line(&format!(
            "attach term; echo ATTACH-EXITED $?; {COOKED}; sleep 600"
        )),
    );
    wait_for("the attach client", Duration::from_secs(10), || {
        (monitor_sockets(monitor) > before).then_some(())
    });
    tmux.type_text(&attach, "echo attached-$((1+1))");
    tmux.keys(&attach, &["Enter"]);
    tmux.wait_line(&attach, "output after re-attaching", |l| l == "attached-2");
    tmux.type_text(&attach, "exit");
    tmux.keys(&attach, &["Enter"]);
    tmux.wait_line(&attach, "the attach client's exit", |l| {
        l.ends_with("ATTACH-EXITED 0")
    });
    tmux.wait_line(&attach, "cooked mode after exit", |l| l == "icanon");
    assert_eq!(status(&env, "term"), ("exited".to_string(), 0));
}

#[test]
fn two_clients_attached_at_once_both_see_output_and_exit_code() {
    let env = Env::new();
    let id = env.run_detached(
        "duo",
        &["-i"],
        &[
            "sh",
            "-c",
            "read line; echo got $line; echo warn >&2; exit 4",
        ],
    );
    let pid = env.inspect(&id)["State"]["Pid"].as_i64().expect("pid");
    let monitor = parent_of(pid);
    let before = monitor_sockets(monitor);
    let mut writer = env.spawn_attach("duo");
    let reader = env
        .t
        .cmd()
        .args(["attach", "--no-stdin", "duo"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn attach");
    wait_for("two attach clients", Duration::from_secs(10), || {
        (monitor_sockets(monitor) >= before + 2).then_some(())
    });
    let mut input = writer.stdin.take().expect("stdin");
    input.write_all(b"hello\n").expect("write stdin");
    let a = writer.wait_with_output().expect("attach output");
    let b = reader.wait_with_output().expect("attach output");
    drop(input);
    for out in [&a, &b] {
        assert_eq!(out.status.code(), Some(4), "{}", stderr(out));
        assert_eq!(stdout(out), "got hello\n");
        assert_eq!(stderr(out), "warn\n");
    }
    assert_eq!(status(&env, "duo"), ("exited".to_string(), 4));
}

#[test]
fn exec_exit_codes_streams_options_and_nothing_leaks() {
    let env = Env::new();
    let id = env.run_detached("ex", &[], &["sleep", "1000"]);
    let pid = env.inspect(&id)["State"]["Pid"].as_i64().expect("pid");
    let monitor = parent_of(pid);
    // The monitor has settled once it runs the relay binary, its log is open and it has let go
    // of the spawner's status pipe (fd 3; the number is then free, and may be reused).
    wait_for_relay(monitor);
    let monitor_fds = wait_for("the monitor's log", Duration::from_secs(10), || {
        let f = fds(monitor);
        (f.iter().any(|l| l.ends_with("log.json"))
            && !f.iter().any(|l| l.starts_with("3 -> pipe:")))
        .then_some(f)
    });
    let init_fds = env.ok(&["exec", "ex", "ls", "/proc/1/fd"]);

    let o = env.berth(&["exec", "ex", "sh", "-c", "echo out; echo err >&2; exit 7"]);
    assert_eq!(o.status.code(), Some(7));
    assert_eq!(
        (stdout(&o).as_str(), stderr(&o).as_str()),
        ("out\n", "err\n")
    );
    assert_eq!(env.berth(&["exec", "ex", "true"]).status.code(), Some(0));
    let o = env.berth(&["exec", "ex", "no-such-command"]);
    assert_eq!(o.status.code(), Some(127));
    assert!(
        stderr(&o).contains("executable file not found"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        env.berth(&["exec", "ex", "/etc/passwd"]).status.code(),
        Some(126)
    );
    let o = env.ok(&[
        "exec",
        "-e",
        "A=1",
        "-w",
        "/tmp",
        "-u",
        "app",
        "ex",
        "sh",
        "-c",
        "echo $A $PWD $(id -u) $HOME",
    ]);
    assert_eq!(o, "1 /tmp 1000 /home/app\n");
    // The container's seccomp filter and capabilities apply to exec'd processes too.
    let o = env.berth(&["exec", "ex", "unshare", "-U", "true"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("Operation not permitted"),
        "{}",
        stderr(&o)
    );
    let status_line = env.ok(&[
        "exec",
        "ex",
        "grep",
        "-E",
        "^(CapEff|Seccomp):",
        "/proc/self/status",
    ]);
    assert!(status_line.contains("Seccomp:\t2"), "{status_line}");
    assert!(
        status_line.contains("CapEff:\t00000000a80425fb"),
        "{status_line}"
    );

    let mut child = env
        .t
        .cmd()
        .args(["exec", "-i", "ex", "sh", "-c", "cat; echo done"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn exec -i");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"piped\n")
        .expect("write");
    let o = child.wait_with_output().expect("exec output");
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "piped\ndone\n")
    );

    let o = env.ok(&[
        "exec",
        "-t",
        "ex",
        "sh",
        "-c",
        "test -t 0 && test -t 1 && echo tty",
    ]);
    assert_eq!(o, "tty\r\n", "-t gives a pty (output has the pty's CRLF)");

    let mut child = env
        .t
        .cmd()
        .args(["exec", "-i", "ex", "shell"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn exec shell");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"echo shell=$0\n")
        .expect("write");
    let o = child.wait_with_output().expect("exec output");
    assert_eq!(
        stdout(&o),
        "shell=/bin/sh\n",
        "the login shell from /etc/passwd"
    );

    env.ok(&[
        "exec",
        "-d",
        "ex",
        "sh",
        "-c",
        "sleep 0.2; touch /tmp/detached",
    ]);
    wait_for("the detached exec", Duration::from_secs(10), || {
        (env.berth(&["exec", "ex", "test", "-e", "/tmp/detached"])
            .status
            .code()
            == Some(0))
        .then_some(())
    });

    wait_for("exec monitors to exit", Duration::from_secs(10), || {
        processes_with(&["monitor", "--exec", &id])
            .is_empty()
            .then_some(())
    });
    // Nothing new is open. (An idle monitor may close its state database connections
    // meanwhile, so fewer is fine.)
    let now = fds(monitor);
    let new: Vec<_> = now.iter().filter(|f| !monitor_fds.contains(f)).collect();
    assert!(
        new.is_empty(),
        "the container's monitor leaks no fds: {new:?} (before: {monitor_fds:?})"
    );
    assert_eq!(env.ok(&["exec", "ex", "ls", "/proc/1/fd"]), init_fds);
    assert_eq!(
        entries(&env.container_dir(&id).join("attach")),
        ["attach.sock"]
    );
    let rt = env.container_dir(&id).join("rt").join(&id);
    assert!(
        entries(&rt).iter().all(|e| !e.starts_with("tenant-")),
        "libcontainer's session sockets are removed: {:?}",
        entries(&rt)
    );
    env.ok(&["rm", "-f", "ex"]);
    let locks = entries(&env.t.path().join("locks"));
    assert!(locks.iter().all(|l| !l.starts_with(&id)), "{locks:?}");
}

#[test]
fn exec_and_attach_refuse_stopped_and_paused_containers() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    env.ok(&[
        "create", "--name", "idle", "--rootfs", &root, "sleep", "1000",
    ]);
    let o = env.berth(&["exec", "idle", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("not running") && stderr(&o).contains("start it"),
        "{}",
        stderr(&o)
    );
    let o = env.berth(&["attach", "idle"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("cannot attach"), "{}", stderr(&o));

    let id = env.run_detached("pz", &[], &["sleep", "1000"]);
    env.ok(&["pause", "pz"]);
    let o = env.berth(&["exec", "pz", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("unpause"), "{}", stderr(&o));
    env.ok(&["unpause", "pz"]);
    env.ok(&["exec", "pz", "true"]);
    env.ok(&["stop", "-t", "1", "pz"]);
    let o = env.berth(&["exec", "pz", "true"]);
    assert!(stderr(&o).contains("not running"), "{}", stderr(&o));
    assert!(entries(&env.container_dir(&id).join("attach")).is_empty());
    wait_for("the monitor to exit", Duration::from_secs(10), || {
        processes_with(&["monitor", &id]).is_empty().then_some(())
    });
}

#[test]
fn stdin_pipes_with_i_and_start_ai() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();
    let mut child = env
        .t
        .cmd()
        .args([
            "run",
            "-i",
            "--rootfs",
            &root,
            "sh",
            "-c",
            "cat; echo err >&2; exit 3",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn run -i");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"hello\n")
        .expect("write");
    let o = child.wait_with_output().expect("run output");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(
        (stdout(&o).as_str(), stderr(&o).as_str()),
        ("hello\n", "err\n")
    );

    env.ok(&[
        "create",
        "-i",
        "--name",
        "later",
        "--rootfs",
        &root,
        "sh",
        "-c",
        "cat; exit 5",
    ]);
    let mut child = env
        .t
        .cmd()
        .args(["start", "-ai", "later"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn start -ai");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"x\n")
        .expect("write");
    let o = child.wait_with_output().expect("start output");
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(5), "x\n"));

    let o = env.berth(&["run", "-it", "--rootfs", &root, "sh"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("not a TTY"), "{}", stderr(&o));
}
