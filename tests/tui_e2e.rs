//! End-to-end tests of the TUI: the real binary in a detached tmux session of fixed size on its
//! own socket, driven with `send-keys` and read with `capture-pane`.

mod common;
mod tui_support;

use std::path::Path;
use std::time::{Duration, Instant};

use common::throttle::ThrottledProxy;
use common::{images, Auth, Registry, TestRoot};
use tui_support::{rootfs, run_box, script, Tmux};

#[test]
fn starts_shows_panes_opens_help_and_q_restores_the_terminal() {
    let root = TestRoot::new();
    let tmux = Tmux::start(&script(&root), 120, 30);
    let s = tmux.wait_for("Containers");
    for pane in ["1 Containers", "2 Images", "3 Volumes", "4 Logs", "? help"] {
        assert!(s.contains(pane), "{pane} missing:\n{s}");
    }
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "1",
        "the TUI uses the alternate screen"
    );
    tmux.keys(&["?"]);
    let s = tmux.wait_for("Everywhere");
    assert!(
        s.contains("show this help") && s.contains("Esc close"),
        "{s}"
    );
    tmux.keys(&["Escape"]);
    tmux.wait("help closed", |s| !s.contains("Everywhere"));
    tmux.keys(&["3"]);
    tmux.wait_for("No volumes");
    tmux.keys(&["q"]);
    let s = tmux.wait_for("berth-exit=0");
    assert!(
        s.contains("ready-for-berth"),
        "the shell's screen is back:\n{s}"
    );
    assert!(
        !s.contains("Containers"),
        "nothing of the TUI is left:\n{s}"
    );
    assert_eq!(tmux.display("#{alternate_on}"), "0");
    assert_eq!(
        tmux.display("#{cursor_flag}"),
        "1",
        "the cursor is visible again"
    );
    let before = std::fs::read_to_string(root.base().join("stty.before")).unwrap();
    let after = std::fs::read_to_string(root.base().join("stty.after")).unwrap();
    assert_eq!(before, after, "terminal modes are as they were");
}

#[test]
fn follows_a_running_containers_log_live_and_removes_it_with_confirm() {
    let root = TestRoot::new();
    let dir = root.base().join("rootfs");
    rootfs(&dir);
    let id = root.berth_ok([
        "run",
        "-d",
        "--rootfs",
        "--name",
        "ticker",
        dir.to_str().unwrap(),
        "sh",
        "-c",
        "i=0; while :; do echo tick $i; echo oops $i >&2; i=$((i+1)); sleep 0.2; done",
    ]);
    assert!(!id.trim().is_empty());
    let tmux = Tmux::start(&script(&root), 120, 30);
    tmux.wait("ticker running", |s| {
        s.contains("ticker") && s.contains("running")
    });
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("tick ");
    assert!(s.contains("Logs ticker"), "{s}");
    let last_tick = |s: &str| {
        s.lines()
            .filter_map(|l| l.split("tick ").nth(1))
            .filter_map(|r| r.split_whitespace().next()?.parse::<u32>().ok())
            .max()
    };
    let first = last_tick(&s).expect("a tick number");
    tmux.wait("newer ticks", |s| {
        last_tick(s).is_some_and(|n| n >= first + 3)
    });
    tmux.wait_for("oops ");
    // Remove it from the logs pane: asks first, force because it runs.
    tmux.keys(&["d"]);
    tmux.wait_for("Remove container ticker?");
    tmux.keys(&["f", "y"]);
    tmux.wait_for("removed 1 container");
    tmux.wait_for("No containers yet");
    let ps = root.berth_ok(["ps", "-aq"]);
    assert!(ps.trim().is_empty(), "still listed: {ps}");
    tmux.quit();
}

#[test]
fn failures_show_a_message_and_the_ui_goes_on() {
    let root = TestRoot::new();
    let tmux = Tmux::start(&script(&root), 100, 24);
    tmux.wait_for("Containers");
    // Pulling needs the image engine; whatever this build says, it must say it and go on.
    tmux.keys(&["p"]);
    tmux.wait_for("Pull image");
    tmux.keys(&["N", "o", "t", " ", "A", "n", "Enter"]);
    tmux.wait_for("invalid");
    tmux.keys(&["Escape", "n"]);
    tmux.wait_for("Run a container");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Image: give an image to run");
    tmux.keys(&["Escape"]);
    tmux.wait("form closed", |s| !s.contains("Run a container"));
    tmux.quit();
}

#[test]
fn pull_shows_layer_progress_then_the_image_which_removes_with_confirm() {
    let reg = Registry::start(Auth::None);
    reg.push(images::big(2, 2 << 20), "test/big:latest");
    // Slow answers so that the progress can be seen mid-layer.
    let proxy = ThrottledProxy::start(reg.addr(), 1 << 20);
    let reference = format!("{}/test/big:latest", proxy.addr());
    let root = TestRoot::new();
    let tmux = Tmux::start(&script(&root), 120, 30);
    tmux.wait_for("Containers");
    tmux.keys(&["p"]);
    tmux.wait_for("Pull image");
    tmux.run(&["send-keys", "-l", &reference]);
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("Downloading");
    assert!(s.contains(&format!("Pull {reference}")), "{s}");
    assert!(s.contains('█') || s.contains('░'), "a progress bar:\n{s}");
    let s = tmux.wait_for("done: ");
    assert!(s.contains("Pull complete"), "{s}");
    tmux.keys(&["Escape", "2"]);
    let s = tmux.wait_for(&reference);
    assert!(s.contains("Images 1"), "{s}");
    tmux.keys(&["d"]);
    tmux.wait_for("Remove image");
    tmux.keys(&["y"]);
    tmux.wait_for("removed 1 image");
    tmux.wait_for("No images yet");
    tmux.quit();
}

#[test]
fn shell_pane_runs_commands_in_the_container() {
    let root = TestRoot::new();
    let dir = root.base().join("rootfs");
    rootfs(&dir);
    root.berth_ok([
        "run",
        "-d",
        "--rootfs",
        "--name",
        "box",
        dir.to_str().unwrap(),
        "sh",
        "-c",
        "while :; do sleep 1; done",
    ]);
    let tmux = Tmux::start(&script(&root), 120, 30);
    tmux.wait("box running", |s| {
        s.contains("box") && s.contains("running")
    });
    tmux.keys(&["x"]);
    tmux.wait_for("Shell: box");
    tmux.wait_for("# ");
    tmux.run(&["send-keys", "-l", "echo $((6*7))"]);
    tmux.keys(&["Enter"]);
    let s = tmux.wait("the answer", |s| {
        s.lines()
            .any(|l| l.split('│').any(|cell| cell.trim() == "42"))
    });
    assert!(s.contains("C-] leaves"), "{s}");
    // Give the keyboard back, then quit: the shell ends with berth.
    tmux.run(&["send-keys", "C-]"]);
    tmux.wait_for("x to type");
    tmux.quit();
}

/// The "done when": pull an image, run it from the form, watch its log, open a shell
/// in a pane, remove it, all from the keyboard.
#[test]
fn a_new_user_pulls_runs_watches_shells_and_removes() {
    let reg = Registry::start(Auth::None);
    reg.push(images::single_layer(), "demo/busybox:1");
    let reference = reg.reference("demo/busybox:1");
    let root = TestRoot::new();
    let tmux = Tmux::start(&script(&root), 130, 32);
    tmux.wait_for("Containers");
    tmux.keys(&["p"]);
    tmux.run(&["send-keys", "-l", &reference]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("done: ");
    tmux.keys(&["Escape", "2"]);
    tmux.wait_for(&reference);
    // Run it from the images pane: the form starts with the selected image.
    tmux.keys(&["n"]);
    tmux.wait_for("Run a container");
    tmux.run(&["send-keys", "-l", "app"]);
    tmux.keys(&["Tab"]);
    tmux.run(&[
        "send-keys",
        "-l",
        "sh -c 'i=0; while :; do echo hello $i; i=$((i+1)); sleep 0.2; done'",
    ]);
    tmux.keys(&["Tab", "Tab"]);
    tmux.run(&["send-keys", "-l", "notes:/notes"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("started app");
    let s = tmux.wait_for("hello 3");
    assert!(s.contains("Logs app"), "{s}");
    // A shell beside the log, in the new container, with the volume mounted.
    tmux.keys(&["x"]);
    tmux.wait_for("Shell: app");
    tmux.wait_for("# ");
    tmux.run(&[
        "send-keys",
        "-l",
        "echo $((6*7)) > /notes/answer; cat /notes/answer",
    ]);
    tmux.keys(&["Enter"]);
    tmux.wait("the answer", |s| {
        s.lines()
            .any(|l| l.split('│').any(|cell| cell.trim() == "42"))
    });
    tmux.run(&["send-keys", "C-]"]);
    tmux.keys(&["3"]);
    tmux.wait("the volume", |s| s.contains("notes") && s.contains("app"));
    tmux.keys(&["1", "d"]);
    tmux.wait_for("Remove container app?");
    tmux.keys(&["f", "y"]);
    tmux.wait_for("removed 1 container");
    tmux.quit();
    assert!(root.berth_ok(["ps", "-aq"]).trim().is_empty());
}

/// A start that libcontainer refuses shows its cause (path and errno), not "failed to prepare
/// rootfs", and the UI goes on.
#[test]
fn a_failed_start_shows_its_cause() {
    let root = TestRoot::new();
    let dir = root.base().join("rootfs");
    rootfs(&dir);
    root.berth_ok([
        "create",
        "--rootfs",
        "--name",
        "badmount",
        "--tmpfs",
        "/etc/passwd/x",
        dir.to_str().unwrap(),
        "true",
    ]);
    let tmux = Tmux::start(&script(&root), 200, 30);
    tmux.wait("badmount listed", |s| s.contains("badmount"));
    tmux.keys(&["s"]);
    let s = tmux.wait_for("ENOTDIR");
    assert!(s.contains("/etc/passwd/x"), "{s}");
    assert!(!s.contains("prepare rootfs"), "{s}");
    tmux.keys(&["Escape", "q"]);
    tmux.wait_for("berth-exit=0");
}

/// Writes `text` as the session's tui.toml.
fn write_tui_toml(root: &TestRoot, text: &str) {
    let dir = root.base().join("config/berth");
    std::fs::create_dir_all(&dir).expect("mkdir config");
    std::fs::write(dir.join("tui.toml"), text).expect("write tui.toml");
}

/// A tui.toml without a usable quit key, or with one key for two actions, is refused with the
/// key named; the TUI starts with the defaults (q quits).
#[test]
fn a_keymap_without_quit_or_with_a_doubled_key_is_refused() {
    for (toml, want) in [
        ("[keys]\nquit = []\n", "keys.quit: no key is left"),
        ("[keys]\nquit = \"x\"\nremove = \"x\"\n", "keys.remove"),
        (
            "[keys]\nrestart = \"z\"\nkill = [\"K\", \"z\"]\n",
            "key \"z\" is bound to two actions",
        ),
    ] {
        let root = TestRoot::new();
        write_tui_toml(&root, toml);
        let tmux = Tmux::start(&script(&root), 160, 30);
        let s = tmux.wait_for("Config ignored");
        // The popup's text, its wrapped lines joined again.
        let text = s
            .lines()
            .flat_map(|l| l.split('│').map(str::trim).filter(|c| !c.is_empty()))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains(want), "{toml}: {s}");
        assert!(text.contains("default keys"), "{s}");
        tmux.keys(&["Escape"]);
        tmux.wait("popup closed", |s| !s.contains("Config ignored"));
        tmux.quit();
    }
}

#[test]
fn image_prune_removes_every_image_no_container_uses_as_it_says() {
    let reg = Registry::start(Auth::None);
    reg.push(images::single_layer(), "test/busybox:latest");
    let reference = reg.reference("test/busybox:latest");
    let root = TestRoot::new();
    root.berth_ok(["pull", "-q", &reference]);
    let tmux = Tmux::start(&script(&root), 120, 30);
    tmux.wait_for("Containers");
    tmux.keys(&["2"]);
    tmux.wait_for(&reference);
    tmux.keys(&["X"]);
    let s = tmux.wait_for("Prune 1 image?");
    assert!(s.contains("This removes 1 image no container uses"), "{s}");
    tmux.keys(&["y"]);
    // A tagged image no container uses is unused: the prune the popup promised removes it.
    tmux.wait_for("removed 1 unused image");
    tmux.wait_for("No images yet");
    tmux.quit();
    assert_eq!(root.berth_ok(["images", "-q"]), "");
}

/// The `rows cols` that `stty size` printed in the shell pane, the last one on screen.
fn stty_size(s: &str) -> Option<(u16, u16)> {
    s.lines()
        .flat_map(|l| l.split('│'))
        .filter_map(|cell| {
            let mut it = cell.split_whitespace();
            let (r, c) = (it.next()?, it.next()?);
            if it.next().is_some() {
                return None;
            }
            Some((r.parse().ok()?, c.parse().ok()?))
        })
        .next_back()
}

/// Item 9: a terminal resize while the images pane is in front; back in the containers pane
/// the shell's pty has the size of the pane it is drawn in (9 rows under the log, not 20).
#[test]
fn shell_pty_follows_its_pane_after_a_resize_behind_another_pane() {
    let root = TestRoot::new();
    run_box(&root, "box", &[], "while :; do sleep 1; done");
    let tmux = Tmux::start(&script(&root), 120, 30);
    tmux.wait("box running", |s| {
        s.contains("box") && s.contains("running")
    });
    // The log above, the shell below it: each gets half of the right side.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Logs box");
    tmux.keys(&["x"]);
    tmux.wait_for("Shell: box");
    tmux.wait_for("# ");
    tmux.run(&["send-keys", "C-]"]);
    tmux.keys(&["2"]);
    tmux.wait_for("No images");
    tmux.run(&["resize-window", "-x", "120", "-y", "24"]);
    tmux.wait("the smaller screen", |s| s.lines().count() <= 24);
    tmux.keys(&["1", "x"]);
    tmux.wait_for("C-] leaves");
    tmux.run(&["send-keys", "-l", "clear; stty size"]);
    tmux.keys(&["Enter"]);
    // The pane: half of 24 rows less the header and the status bar, less its own border.
    let s = tmux.wait("stty size", |s| stty_size(s).is_some_and(|(r, _)| r > 0));
    assert_eq!(stty_size(&s).map(|(r, _)| r), Some(9), "{s}");
    tmux.run(&["send-keys", "C-]"]);
    tmux.quit();
}

/// Item 10: run without Detach from the form: the attach pane shows the container's output
/// from its first line, and each line (bare LF, no tty) starts at the pane's left edge.
#[test]
fn run_without_detach_shows_the_first_lines_each_at_the_left_edge() {
    let root = TestRoot::new();
    let dir = root.base().join("rootfs");
    rootfs(&dir);
    let tmux = Tmux::start(&script(&root), 120, 30);
    tmux.wait_for("Containers");
    tmux.keys(&["n"]);
    tmux.wait_for("Run a container");
    tmux.run(&["send-keys", "-l", dir.to_str().unwrap()]);
    tmux.keys(&["Tab"]);
    tmux.run(&["send-keys", "-l", "talker"]);
    tmux.keys(&["Tab"]);
    tmux.run(&[
        "send-keys",
        "-l",
        "sh -c 'echo first-line; echo second-line; echo third-line; sleep 600'",
    ]);
    // Command → Env → Volumes → Ports → Network → Aliases → Workdir → User → Memory → CPUs
    // → Restart → Detach: turn it off.
    tmux.keys(&["Tab"; 11]);
    tmux.keys(&["Space", "Enter"]);
    let s = tmux.wait_for("third-line");
    assert!(s.contains("Attach: talker"), "{s}");
    for word in ["first-line", "second-line", "third-line"] {
        let at_edge = s
            .lines()
            .any(|l| l.split('│').any(|cell| cell.trim_end() == word));
        assert!(at_edge, "{word} is not at the pane's left edge:\n{s}");
    }
    tmux.run(&["send-keys", "C-]"]);
    tmux.quit();
}

/// Item 14: stopping a container that ignores SIGTERM takes the 10 s grace period; its row
/// says "stopping" from the key press until it has exited.
#[test]
fn a_slow_stop_shows_stopping_in_the_list_until_it_exits() {
    let root = TestRoot::new();
    run_box(
        &root,
        "stubborn",
        &[],
        "trap '' TERM; while :; do sleep 1; done",
    );
    let tmux = Tmux::start(&script(&root), 120, 30);
    let row = |s: &str| {
        s.lines()
            .find(|l| l.contains("│  stubborn"))
            .unwrap_or_default()
            .to_string()
    };
    tmux.wait("stubborn running", |s| row(s).contains("running"));
    tmux.keys(&["s"]);
    let s = tmux.wait("stopping", |s| row(s).contains("stopping"));
    let since = Instant::now();
    assert!(!row(&s).contains("running"), "{s}");
    // Still stopping a few seconds on (the grace period is 10 s), then exited.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        row(&tmux.screen()).contains("stopping"),
        "{}",
        tmux.screen()
    );
    tmux.wait("exited", |s| row(s).contains("exited"));
    assert!(since.elapsed() >= Duration::from_secs(5));
    tmux.quit();
}

/// Item 17: `l` moves to the next pane (twice: the volumes), where a volume's size is shown
/// as inspect measures it, not `?`.
#[test]
fn l_reaches_the_volumes_which_show_their_size() {
    let root = TestRoot::new();
    root.berth_ok(["volume", "create", "sized"]);
    let inspect = root.berth_ok(["volume", "inspect", "sized"]);
    let v: serde_json::Value = serde_json::from_str(&inspect).expect("inspect is JSON");
    let mount = v[0]["Mountpoint"].as_str().expect("a Mountpoint");
    std::fs::write(Path::new(mount).join("blob"), vec![7u8; 5000]).expect("write blob");
    let tmux = Tmux::start(&script(&root), 120, 30);
    tmux.wait_for("Containers");
    tmux.keys(&["l", "l"]);
    let s = tmux.wait_for("sized");
    let row = s
        .lines()
        .find(|l| l.contains("│  sized"))
        .unwrap_or_default();
    assert!(row.contains("5.0 kB"), "{s}");
    tmux.quit();
}

/// Item 11: attaching while a shell is open keeps the shell alive behind; `]` brings it back
/// with its screen, and it still answers.
#[test]
fn a_second_session_keeps_the_first_shell_alive() {
    let root = TestRoot::new();
    run_box(&root, "box", &[], "while :; do sleep 1; done");
    let tmux = Tmux::start(&script(&root), 120, 30);
    tmux.wait("box running", |s| {
        s.contains("box") && s.contains("running")
    });
    tmux.keys(&["x"]);
    tmux.wait_for("Shell: box");
    tmux.wait_for("# ");
    tmux.run(&["send-keys", "-l", "echo marker-$((40+2))"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("marker-42");
    tmux.run(&["send-keys", "C-]"]);
    tmux.keys(&["a"]);
    tmux.wait_for("Attach: box");
    tmux.wait_for("1 more (] next)");
    tmux.run(&["send-keys", "C-]"]);
    tmux.keys(&["]"]);
    let s = tmux.wait_for("Shell: box");
    assert!(s.contains("marker-42"), "the shell's screen is kept:\n{s}");
    tmux.run(&["send-keys", "-l", "echo alive-$((6*7))"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("alive-42");
    tmux.run(&["send-keys", "C-]"]);
    tmux.quit();
}

#[test]
fn y_puts_the_selected_id_on_the_clipboard_through_osc_52() {
    let root = TestRoot::new();
    let dir = root.base().join("rootfs");
    rootfs(&dir);
    let id = root.berth_ok([
        "create",
        "--rootfs",
        "--name",
        "copyme",
        dir.to_str().unwrap(),
        "true",
    ]);
    let tmux = Tmux::start(&script(&root), 120, 30);
    // tmux keeps what an application sets with OSC 52 as a paste buffer.
    tmux.run(&["set", "-s", "set-clipboard", "on"]);
    tmux.wait("copyme listed", |s| s.contains("copyme"));
    tmux.keys(&["y"]);
    tmux.wait_for("to the clipboard");
    let out = tmux.run(&["show-buffer"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), id.trim());
    tmux.quit();
}

#[test]
fn details_tabs_show_env_and_live_processes() {
    let root = TestRoot::new();
    run_box(
        &root,
        "tabbed",
        &["-e", "GREETING=hello-tabs"],
        "sleep 300 & sleep 301; wait",
    );
    let tmux = Tmux::start(&script(&root), 140, 30);
    tmux.wait("tabbed running", |s| {
        s.contains("tabbed") && s.contains("running")
    });
    tmux.keys(&["v"]);
    tmux.wait_for("hello-tabs");
    for _ in 0..4 {
        tmux.keys(&["v"]);
    }
    let s = tmux.wait("processes", |s| {
        s.contains("PPID") && s.contains("sleep 301")
    });
    assert!(s.contains("sleep 300"), "{s}");
    root.berth_ok(["rm", "-f", "tabbed"]);
    tmux.quit();
}

#[test]
fn e_runs_a_command_of_the_users_as_another_user() {
    let root = TestRoot::new();
    run_box(&root, "execd", &[], "sleep 300");
    let tmux = Tmux::start(&script(&root), 120, 30);
    tmux.wait("execd running", |s| {
        s.contains("execd") && s.contains("running")
    });
    tmux.keys(&["e"]);
    tmux.wait_for("Exec in execd");
    tmux.run(&[
        "send-keys",
        "-l",
        "--",
        "-u 65534 sh -c 'echo uid=$(id -u); sleep 5'",
    ]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("uid=65534");
    root.berth_ok(["rm", "-f", "execd"]);
    tmux.keys(&["C-]"]);
    tmux.quit();
}
