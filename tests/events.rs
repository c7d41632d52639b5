//! `events` against the real binary, as root: every kind of change recorded by the process
//! that made it (the CLI, a container's monitor, an exec's monitor) and read by `events
//! --since` from another process; filters and formats; following live until `--until`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::images;
use common::{Auth, Registry, TestRoot};

/// `(type, action, actor, attributes)` of every event in the window, through `--format`.
fn events(root: &TestRoot, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec![
        "events", "--since", "10m", "--until", "0s", "--format", "json",
    ];
    args.extend_from_slice(extra);
    root.berth_ok(args)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn actions(list: &[serde_json::Value]) -> Vec<String> {
    list.iter()
        .map(|e| e["Action"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn every_change_is_recorded_by_whoever_made_it() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    reg.push(images::single_layer(), "test/busybox:latest");
    let img = reg.reference("test/busybox:latest");
    root.berth_ok(["pull", "-q", &img]);
    root.berth_ok(["tag", &img, "other:v1"]);

    // A container that exits by itself: its monitor records start and die.
    let out = root.berth([
        "run",
        "--name",
        "quits",
        "-l",
        "tier=front",
        &img,
        "sh",
        "-c",
        "exit 3",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let id = root.berth_ok(["run", "-d", "--name", "lives", &img, "sleep", "1000"]);
    let id = id.trim();
    for _ in 0..2 {
        let exec = root.berth(["exec", "lives", "sh", "-c", "exit 4"]);
        assert_eq!(exec.status.code(), Some(4));
    }
    root.berth_ok(["pause", "lives"]);
    root.berth_ok(["unpause", "lives"]);
    root.berth_ok(["rename", "lives", "renamed"]);
    root.berth_ok(["kill", "-s", "USR1", "renamed"]);
    root.berth_ok(["stop", "-t", "1", "renamed"]);
    root.berth_ok(["rm", "quits", "renamed"]);
    root.berth_ok(["volume", "create", "data"]);
    root.berth_ok(["volume", "rm", "data"]);
    root.berth_ok(["rmi", "other:v1"]);
    root.berth_ok(["rmi", &img]);

    let all = events(&root, &[]);
    let ours: Vec<String> = all
        .iter()
        .filter(|e| e["Actor"]["ID"] == id)
        .map(|e| e["Action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ours,
        [
            "create",
            "start",
            "exec_create: sh -c exit 4",
            "exec_start: sh -c exit 4",
            "exec_die",
            "exec_create: sh -c exit 4",
            "exec_start: sh -c exit 4",
            "exec_die",
            "pause",
            "unpause",
            "rename",
            "kill",
            "kill",
            "kill",
            "die",
            "stop",
            "destroy"
        ],
        "{all:#?}"
    );
    let of = |action: &str, name: &str| {
        all.iter()
            .find(|e| e["Action"] == action && e["Actor"]["Attributes"]["name"] == name)
            .unwrap_or_else(|| panic!("no {action} of {name}: {all:#?}"))
            .clone()
    };
    let die = of("die", "quits");
    assert_eq!(die["Actor"]["Attributes"]["exitCode"], "3");
    assert_eq!(die["Actor"]["Attributes"]["tier"], "front");
    assert_eq!(die["Actor"]["Attributes"]["image"], img);
    assert_eq!(die["from"], img);
    assert_eq!(
        of("rename", "renamed")["Actor"]["Attributes"]["oldName"],
        "lives"
    );
    let exec_die = all
        .iter()
        .find(|e| e["Action"] == "exec_die")
        .expect("exec_die");
    assert_eq!(exec_die["Actor"]["Attributes"]["exitCode"], "4");
    let signals: Vec<&str> = all
        .iter()
        .filter(|e| e["Action"] == "kill")
        .filter_map(|e| e["Actor"]["Attributes"]["signal"].as_str())
        .collect();
    // USR1 from `kill -s`, then stop's TERM and, a second later, KILL (sleep ignores TERM).
    assert_eq!(signals, ["10", "15", "9"], "{all:#?}");

    let volume: Vec<String> = actions(&events(&root, &["--filter", "type=volume"]));
    assert_eq!(volume, ["create", "destroy"]);
    let image = events(&root, &["--filter", "type=image"]);
    assert_eq!(
        actions(&image),
        ["pull", "tag", "untag", "untag", "delete"],
        "{image:#?}"
    );
    assert_eq!(image[0]["Actor"]["ID"], img);
    assert_eq!(image[1]["Actor"]["Attributes"]["name"], "other:v1");

    // Filters: keys together, values as alternatives.
    let dies = events(
        &root,
        &["--filter", "event=die", "--filter", "container=quits"],
    );
    assert_eq!(actions(&dies), ["die"]);
    let labelled = events(&root, &["--filter", "label=tier=front"]);
    assert!(
        labelled
            .iter()
            .all(|e| e["Actor"]["Attributes"]["name"] == "quits")
            && labelled.len() >= 4,
        "{labelled:#?}"
    );
    let by_image = events(&root, &["--filter", "image=other:v1"]);
    assert_eq!(actions(&by_image), ["tag", "untag"], "{by_image:#?}");

    // Docker's default line.
    let text = root.berth_ok([
        "events",
        "--since",
        "10m",
        "--until",
        "0s",
        "--filter",
        "event=die",
        "--filter",
        "container=quits",
    ]);
    assert!(
        text.trim_end().ends_with(&format!(
            "container die {} (exitCode=3, image={img}, name=quits, \
             org.berth.test.image=single-layer, tier=front)",
            die["Actor"]["ID"].as_str().unwrap()
        )),
        "{text}"
    );
    let bad = root.berth(["events", "--filter", "colour=red", "--until", "0s"]);
    assert_eq!(bad.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("colour"));
}

/// Ends the follower the test started, by pid.
struct Follower(std::process::Child);

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn events_follow_live_until_the_until_time() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    reg.push(images::single_layer(), "test/busybox:latest");
    let img = reg.reference("test/busybox:latest");
    root.berth_ok(["pull", "-q", &img]);
    // What happens from now (the pull before is not shown), until 30 s from now.
    let until = (chrono::Utc::now() + chrono::TimeDelta::seconds(30)).to_rfc3339();
    let mut follower = Follower(
        root.cmd()
            .args([
                "events",
                "--since",
                "0s",
                "--until",
                &until,
                "--format",
                "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start events"),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = follower.0.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    // The follower notes where "new" starts when it starts: give it a moment.
    std::thread::sleep(Duration::from_millis(500));
    root.berth_ok(["run", "--rm", "--name", "brief", &img, "true"]);
    let mut seen = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        match rx.recv_timeout(Duration::from_secs(2)) {
            Ok(l) => {
                seen.push(l);
                if seen.last().is_some_and(|l| l.ends_with("destroy brief")) {
                    break;
                }
            }
            Err(_) if !seen.is_empty() => break,
            Err(_) => {}
        }
    }
    assert_eq!(
        seen,
        [
            "container create brief",
            "container start brief",
            "container die brief",
            "container destroy brief"
        ]
    );
    // A window that ended: the command prints it and exits.
    let past = root
        .cmd()
        .args(["events", "--since", "1h", "--until", "0s"])
        .output()
        .unwrap();
    assert!(past.status.success());
    assert!(String::from_utf8_lossy(&past.stdout).contains("container destroy"));
}
