//! `-t` sessions are whole terminals (parity item 2): the pty comes from the container's own
//! devpts, so it is `/dev/pts/N` inside and `tty` names it; TERM is xterm unless the image or
//! the user sets one; an exec's terminal is the next one in the same devpts.

mod common;
mod interactive_support;

use interactive_support::{stderr, stdout, Env};

/// What the probe prints: the terminal, TERM, /dev/pts and the terminal's owner.
const PROBE: &str = "tty; echo TERM=$TERM; echo PTS=$(ls /dev/pts | tr '\\n' ' '); \
                     stat -c OWNER=%u:%g /proc/self/fd/0 2>/dev/null || true";

fn lines(out: &std::process::Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    stdout(out)
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

#[test]
fn run_and_exec_terminals_are_the_containers_own_with_term() {
    let env = Env::new();
    let root = env.rootfs.to_string_lossy().into_owned();

    // run -t: /dev/pts/0 of the container's devpts, TERM=xterm.
    let out = env.berth(&["run", "-t", "--rm", "--rootfs", &root, "sh", "-c", PROBE]);
    let l = lines(&out);
    assert!(l.contains(&"/dev/pts/0".to_string()), "{l:?}");
    assert!(l.contains(&"TERM=xterm".to_string()), "{l:?}");
    assert!(l.contains(&"PTS=0 ptmx".to_string()), "{l:?}");

    // The user's TERM wins.
    let out = env.berth(&[
        "run",
        "-t",
        "--rm",
        "-e",
        "TERM=screen",
        "--rootfs",
        &root,
        "sh",
        "-c",
        PROBE,
    ]);
    let l = lines(&out);
    assert!(l.contains(&"TERM=screen".to_string()), "{l:?}");
    assert!(l.contains(&"/dev/pts/0".to_string()), "{l:?}");

    // Without -t: no terminal and no TERM.
    let out = env.berth(&["run", "--rm", "--rootfs", &root, "sh", "-c", PROBE]);
    let l = lines(&out);
    assert!(l.contains(&"not a tty".to_string()), "{l:?}");
    assert!(l.contains(&"TERM=".to_string()), "{l:?}");

    // exec -t into a container that has its own terminal: the next one, /dev/pts/1.
    env.run_detached("tc", &["-t"], &["sleep", "600"]);
    let out = env.berth(&["exec", "-t", "tc", "sh", "-c", PROBE]);
    let l = lines(&out);
    assert!(l.contains(&"/dev/pts/1".to_string()), "{l:?}");
    assert!(l.contains(&"TERM=xterm".to_string()), "{l:?}");
    assert!(l.contains(&"PTS=0 1 ptmx".to_string()), "{l:?}");

    // A user's exec terminal is theirs.
    let out = env.berth(&["exec", "-t", "-u", "1000:1000", "tc", "sh", "-c", PROBE]);
    let l = lines(&out);
    assert!(l.contains(&"/dev/pts/1".to_string()), "{l:?}");
    assert!(l.iter().any(|x| x.starts_with("OWNER=1000:")), "{l:?}");

    // exec -e TERM wins; exec without -t has neither a terminal nor the container's TERM.
    let out = env.berth(&["exec", "-t", "-e", "TERM=vt100", "tc", "sh", "-c", PROBE]);
    assert!(lines(&out).contains(&"TERM=vt100".to_string()));
    let out = env.berth(&["exec", "tc", "sh", "-c", PROBE]);
    let l = lines(&out);
    assert!(l.contains(&"not a tty".to_string()), "{l:?}");
    assert!(l.contains(&"TERM=".to_string()), "{l:?}");

    env.ok(&["rm", "-f", "tc"]);
}

#[test]
fn run_detach_keys_are_the_users() {
    use interactive_support::Tmux;
    let env = Env::new();
    let run = env.berth_line(&format!(
        "run -it --detach-keys ctrl-x,x --name dk --rootfs {} sh; echo RUN-EXITED $?; sleep 600",
        env.rootfs.display()
    ));
    let tmux = Tmux::start(&run);
    let pane = "main:0";
    tmux.wait_line(pane, "the shell prompt", |l| l.starts_with("/ #"));
    // docker's default sequence is just input now.
    tmux.keys(pane, &["C-p", "C-q"]);
    tmux.type_text(pane, "echo still-$((2+3))");
    tmux.keys(pane, &["Enter"]);
    tmux.wait_line(pane, "the shell still attached", |l| l == "still-5");
    tmux.keys(pane, &["C-x", "x"]);
    tmux.wait_line(pane, "the detached client's exit", |l| {
        l.ends_with("RUN-EXITED 0")
    });
    assert_eq!(env.inspect("dk")["State"]["Status"], "running");
    env.ok(&["rm", "-f", "dk"]);

    let root = env.rootfs.to_string_lossy().into_owned();
    let out = env.berth(&[
        "run",
        "-d",
        "--detach-keys",
        "ctrl-",
        "--rootfs",
        &root,
        "true",
    ]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert_eq!(env.ok(&["ps", "-aq"]).trim(), "");
}
