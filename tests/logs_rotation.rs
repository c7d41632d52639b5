//! `--log-driver` and `--log-opt`: docker's checks (exit 125, nothing created), rotation by
//! size read back in order by `logs` (plain and gzipped files), `--tail` across files,
//! `logs -f` across rotations, the `none` driver, and `HostConfig.LogConfig` in `inspect`.
//! As root, with the real binary and real containers.

mod containers_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use containers_support::{stderr, stdout, TestRoot};

fn inspect(t: &TestRoot, name: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&t.ok(&["inspect", name])).expect("json");
    v[0].clone()
}

fn container_dir(t: &TestRoot, id: &str) -> PathBuf {
    t.root().join("containers").join(id)
}

/// The log files in a container's directory, sorted by name.
fn log_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("log.json"))
        .collect();
    names.sort();
    names
}

/// A shell loop printing `line 0` … `line N-1`, with an optional pause between lines.
fn counting(n: u32, pause: Option<&str>) -> Vec<String> {
    let pause = pause.map(|p| format!("sleep {p}; ")).unwrap_or_default();
    vec![
        "sh".into(),
        "-c".into(),
        format!("i=0; while [ $i -lt {n} ]; do echo \"line $i\"; {pause}i=$((i+1)); done"),
    ]
}

/// Asserts `text` is `line K` … `line N-1` for some K, consecutive, and returns K.
fn assert_consecutive_to(text: &str, n: u32) -> u32 {
    let nums: Vec<u32> = text
        .lines()
        .map(|l| {
            l.strip_prefix("line ")
                .and_then(|x| x.parse().ok())
                .unwrap_or_else(|| panic!("unexpected line {l:?}"))
        })
        .collect();
    assert!(!nums.is_empty(), "no output");
    assert_eq!(*nums.last().unwrap(), n - 1, "ends with the last line");
    for w in nums.windows(2) {
        assert_eq!(w[1], w[0] + 1, "in order and without gaps");
    }
    nums[0]
}

fn run_fg(t: &TestRoot, flags: &[&str], cmd: &[String]) -> String {
    let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
    let out = t.run(flags, &cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = inspect(
        t,
        flags[flags.iter().position(|f| *f == "--name").unwrap() + 1],
    );
    v["Id"].as_str().unwrap().to_string()
}

/// Starts (detached) a container printing `line 0` … `line 299` over about three seconds, its log
/// rotating every 2k (50 files kept, so nothing is lost); returns its id.
fn run_rotating(t: &TestRoot, name: &str) -> String {
    let cmd = counting(300, Some("0.01"));
    let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
    let flags = [
        "-d",
        "--name",
        name,
        "--log-opt",
        "max-size=2k",
        "--log-opt",
        "max-file=50",
    ];
    let out = t.run(&flags, &cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

#[test]
fn bad_log_options_are_refused_like_docker_and_create_nothing() {
    let t = TestRoot::new();
    let cases: &[(&[&str], &str)] = &[
        (&["--log-opt", "max-size=abc"], "invalid size: 'abc'"),
        (
            &["--log-opt", "max-file=0"],
            "max-file cannot be less than 1",
        ),
        (
            &["--log-opt", "bogus=1"],
            "unknown log opt 'bogus' for json-file log driver",
        ),
        (
            &["--log-driver", "local", "--log-opt", "bogus=1"],
            "unknown log opt 'bogus' for log driver local",
        ),
        (
            &["--log-driver", "syslog"],
            "logger: no log driver named 'syslog' is registered",
        ),
        (
            &["--log-driver", "none", "--log-opt", "max-size=1m"],
            "invalid logging opts for driver none",
        ),
    ];
    for (flags, message) in cases {
        let out = t.run(flags, &["true"]);
        assert_eq!(out.status.code(), Some(125), "{flags:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(message),
            "{flags:?}: {}",
            stderr(&out)
        );
    }
    assert_eq!(t.ok(&["ps", "-a", "-q"]), "", "nothing was created");
    let containers = t.root().join("containers");
    let left = std::fs::read_dir(&containers)
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "no container directory left");
}

#[test]
fn json_file_rotates_by_size_and_logs_reads_the_files_in_order() {
    let t = TestRoot::new();
    let id = run_fg(
        &t,
        &[
            "--name",
            "rot",
            "--log-opt",
            "max-size=10k",
            "--log-opt",
            "max-file=3",
        ],
        &counting(3000, None),
    );
    let dir = container_dir(&t, &id);
    assert_eq!(
        log_files(&dir),
        vec!["log.json", "log.json.1", "log.json.2"]
    );
    for f in log_files(&dir) {
        let len = std::fs::metadata(dir.join(&f)).unwrap().len();
        assert!(len <= 10_000, "{f} is {len} bytes");
    }
    let all = t.ok(&["logs", "rot"]);
    let first = assert_consecutive_to(&all, 3000);
    assert!(first > 0, "the oldest output was rotated away");
    let tail = t.ok(&["logs", "--tail", "4", "rot"]);
    assert_eq!(tail, "line 2996\nline 2997\nline 2998\nline 2999\n");
    // A tail longer than the current file reaches into the rotated ones.
    let lines_in_current = std::fs::read_to_string(dir.join("log.json"))
        .unwrap()
        .lines()
        .count();
    let n = (lines_in_current + 20).to_string();
    let tail = t.ok(&["logs", "--tail", &n, "rot"]);
    assert_eq!(tail.lines().count(), lines_in_current + 20);
    assert_consecutive_to(&tail, 3000);
    let lc = &inspect(&t, "rot")["HostConfig"]["LogConfig"];
    assert_eq!(
        lc,
        &serde_json::json!({"Type": "json-file", "Config": {"max-size": "10k", "max-file": "3"}})
    );
}

#[test]
fn local_compresses_rotated_files_and_reads_them_back() {
    let t = TestRoot::new();
    let id = run_fg(
        &t,
        &[
            "--name",
            "loc",
            "--log-driver",
            "local",
            "--log-opt",
            "max-size=8k",
        ],
        &counting(2000, None),
    );
    let dir = container_dir(&t, &id);
    let files = log_files(&dir);
    assert_eq!(
        files,
        vec![
            "log.json",
            "log.json.1.gz",
            "log.json.2.gz",
            "log.json.3.gz",
            "log.json.4.gz"
        ],
        "local keeps 5 files, rotated ones gzipped"
    );
    for f in files.iter().filter(|f| f.ends_with(".gz")) {
        let head = std::fs::read(dir.join(f)).unwrap();
        assert_eq!(&head[..2], &[0x1f, 0x8b], "{f} is gzip");
    }
    let all = t.ok(&["logs", "loc"]);
    assert!(assert_consecutive_to(&all, 2000) > 0);
    let lines_in_current = std::fs::read_to_string(dir.join("log.json"))
        .unwrap()
        .lines()
        .count();
    let n = (lines_in_current + 5).to_string();
    let tail = t.ok(&["logs", "--tail", &n, "loc"]);
    assert_eq!(tail.lines().count(), lines_in_current + 5);
    assert_consecutive_to(&tail, 2000);
    let lc = &inspect(&t, "loc")["HostConfig"]["LogConfig"];
    assert_eq!(lc["Type"], "local");
    assert_eq!(lc["Config"]["max-file"], "5");
}

#[test]
fn a_default_container_has_a_capped_log() {
    let t = TestRoot::new();
    run_fg(&t, &["--name", "plain"], &counting(3, None));
    let lc = &inspect(&t, "plain")["HostConfig"]["LogConfig"];
    assert_eq!(
        lc,
        &serde_json::json!({"Type": "json-file", "Config": {"max-size": "20m", "max-file": "5"}})
    );
    assert_eq!(t.ok(&["logs", "plain"]), "line 0\nline 1\nline 2\n");
}

#[test]
fn none_keeps_no_log_and_logs_says_it_cannot_read() {
    let t = TestRoot::new();
    let out = t.run(
        &["--name", "quiet", "--log-driver", "none"],
        &["echo", "hi"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "hi\n",
        "attached output still reaches the caller"
    );
    let id = inspect(&t, "quiet")["Id"].as_str().unwrap().to_string();
    assert!(log_files(&container_dir(&t, &id)).is_empty());
    let out = t.berth(&["logs", "quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("configured logging driver does not support reading"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        inspect(&t, "quiet")["HostConfig"]["LogConfig"]["Type"],
        "none"
    );
}

#[test]
fn logs_follow_goes_on_across_rotations() {
    let t = TestRoot::new();
    let id = run_rotating(&t, "fol");
    let follower = std::process::Command::new(containers_support::berth_bin())
        .arg("--root")
        .arg(t.root())
        .args(["logs", "-f", "fol"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth logs -f");
    let started = Instant::now();
    let mut follower = Some(follower);
    let out = loop {
        let child = follower.as_mut().unwrap();
        if child.try_wait().unwrap().is_some() {
            break follower.take().unwrap().wait_with_output().unwrap();
        }
        if started.elapsed() > Duration::from_secs(60) {
            let mut c = follower.take().unwrap();
            let _ = c.kill();
            let _ = c.wait();
            panic!("logs -f did not end when the container exited");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(assert_consecutive_to(&text, 300), 0, "{text}");
    let files = log_files(&container_dir(&t, &id));
    assert!(files.len() > 3, "the log rotated while followed: {files:?}");
}

/// The TUI's log follower (its engine backend) reads a real container's rotated files in order
/// and follows it across rotations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_follower_reads_rotated_files_in_order() {
    use berth::tui::jobs::Backend;
    let t = TestRoot::new();
    let id = run_rotating(&t, "tui");
    // Let a few rotations happen before the follower starts.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let engine = t.engine();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let follow = engine.follow_logs(id.clone(), None, None, tx);
    let task = tokio::spawn(follow);
    let mut got: Vec<String> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while got.last().map(String::as_str) != Some("line 299") {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(batch)) => got.extend(batch.into_iter().map(|l| l.text)),
            Ok(None) => break,
            Err(_) => panic!("the follower stopped early: {got:?}"),
        }
    }
    drop(rx);
    let _ = task.await;
    let want: Vec<String> = (0..300).map(|i| format!("line {i}")).collect();
    assert_eq!(got, want);
    assert!(log_files(&container_dir(&t, &id)).len() > 3);
}
