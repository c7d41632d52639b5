//! Health checks against the real binary, as root: a container goes starting → healthy →
//! unhealthy with a failing command and back, as `inspect`, `ps` (and `ps --filter health=`)
//! and `events` (read from another process) tell; a probe that outlasts its timeout is killed;
//! the image's HEALTHCHECK applies, `--health-*` override it field by field and
//! `--no-healthcheck` turns it off; the checker stops with the container and rests while it is
//! paused; bad flags are refused before anything is created.

mod common;

use std::time::{Duration, Instant};

use common::TestRoot;
use serde_json::Value;

fn inspect(t: &TestRoot, name: &str) -> Value {
    let out = t.berth_ok(["inspect", name]);
    let v: Value = serde_json::from_str(&out).expect("inspect json");
    v[0].clone()
}

fn health(t: &TestRoot, name: &str) -> Value {
    inspect(t, name)["State"]["Health"].clone()
}

fn status(t: &TestRoot, name: &str) -> String {
    health(t, name)["Status"].as_str().unwrap_or("").to_string()
}

fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

fn ps_status(t: &TestRoot, name: &str) -> String {
    t.berth_ok([
        "ps",
        "-a",
        "--filter",
        &format!("name={name}"),
        "--format",
        "{{.Status}}",
    ])
    .trim()
    .to_string()
}

/// Names `ps --filter health=WORD` lists.
fn with_health(t: &TestRoot, word: &str) -> Vec<String> {
    t.berth_ok([
        "ps",
        "-a",
        "--filter",
        &format!("health={word}"),
        "--format",
        "{{.Names}}",
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

/// Checker processes (`monitor --health`) of this test's root.
fn checkers(t: &TestRoot) -> Vec<i32> {
    let root = t.path().to_string_lossy().into_owned();
    common::procs::with_words(&[" monitor --health ", &root])
        .into_iter()
        .map(|(pid, _)| pid)
        .collect()
}

#[test]
fn health_goes_starting_healthy_unhealthy_and_back() {
    let t = TestRoot::new();
    let (_reg, image) = common::pulled_busybox(&t);
    let since = chrono::Utc::now().to_rfc3339();
    t.berth_ok([
        "run",
        "-d",
        "--name",
        "web",
        "--health-cmd",
        "echo checked; test ! -e /tmp/bad",
        "--health-interval",
        "300ms",
        "--health-retries",
        "2",
        &image,
        "sleep",
        "1000",
    ]);
    t.berth_ok(["run", "-d", "--name", "plain", &image, "sleep", "1000"]);
    // Starting until the first probe.
    let first = health(&t, "web");
    assert!(
        first["Status"] == "starting" || first["Status"] == "healthy",
        "{first}"
    );
    assert!(eventually(Duration::from_secs(20), || status(&t, "web") == "healthy"));
    let h = health(&t, "web");
    assert_eq!(h["FailingStreak"], 0);
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["ExitCode"].as_i64(), last["Output"].as_str()),
        (Some(0), Some("checked\n"))
    );
    assert!(
        ps_status(&t, "web").ends_with("(healthy)"),
        "{}",
        ps_status(&t, "web")
    );
    assert!(ps_status(&t, "plain").starts_with("Up") && !ps_status(&t, "plain").contains('('));
    assert_eq!(with_health(&t, "healthy"), ["web"]);
    assert_eq!(with_health(&t, "none"), ["plain"]);
    // The container has no State.Health without a check.
    assert!(health(&t, "plain").is_null());

    // A failing command: unhealthy after two failures in a row.
    t.berth_ok(["exec", "web", "touch", "/tmp/bad"]);
    assert!(eventually(Duration::from_secs(20), || status(&t, "web") == "unhealthy"));
    let h = health(&t, "web");
    assert!(h["FailingStreak"].as_i64().unwrap() >= 2, "{h}");
    let log = h["Log"].as_array().unwrap();
    assert!(!log.is_empty() && log.len() <= 5, "{h}");
    assert_eq!(log.last().unwrap()["ExitCode"], 1);
    assert!(ps_status(&t, "web").ends_with("(unhealthy)"));
    assert_eq!(with_health(&t, "unhealthy"), ["web"]);
    // And back.
    t.berth_ok(["exec", "web", "rm", "/tmp/bad"]);
    assert!(eventually(Duration::from_secs(20), || status(&t, "web") == "healthy"));
    // Five results at most, oldest first.
    assert!(eventually(Duration::from_secs(20), || health(&t, "web")
        ["Log"]
        .as_array()
        .is_some_and(|l| l.len() == 5)));
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(health(&t, "web")["Log"].as_array().unwrap().len(), 5);

    // Each change of status is an event, read from another process.
    let events = t.berth_ok([
        "events",
        "--since",
        &since,
        "--until",
        "0s",
        "--filter",
        "event=health_status",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
    ]);
    assert_eq!(
        events.lines().collect::<Vec<_>>(),
        [
            "health_status: healthy web",
            "health_status: unhealthy web",
            "health_status: healthy web"
        ]
    );
    // The probes are execs, as in docker.
    let execs = t.berth_ok([
        "events",
        "--since",
        &since,
        "--until",
        "0s",
        "--filter",
        "event=exec_die",
        "--filter",
        "container=web",
        "--format",
        "{{.Action}}",
    ]);
    assert!(execs.lines().count() >= 5, "{execs}");

    // Stopped: the checker is gone, the last health stays (as in docker).
    assert!(!checkers(&t).is_empty());
    t.berth_ok(["stop", "-t", "1", "web"]);
    assert!(eventually(Duration::from_secs(5), || checkers(&t).is_empty()));
    assert_eq!(status(&t, "web"), "healthy");
    assert!(ps_status(&t, "web").starts_with("Exited"));
    // A new start is starting again.
    t.berth_ok(["start", "web"]);
    let h = health(&t, "web");
    assert!(h["Status"] == "starting" || h["Status"] == "healthy", "{h}");
    assert_eq!(h["FailingStreak"], 0);
    assert!(eventually(Duration::from_secs(20), || status(&t, "web") == "healthy"));
    t.berth_ok(["rm", "-f", "web", "plain"]);
    assert!(checkers(&t).is_empty());
}

#[test]
fn a_probe_that_outlasts_its_timeout_is_killed() {
    let t = TestRoot::new();
    let (_reg, image) = common::pulled_busybox(&t);
    t.berth_ok([
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "echo begun; sleep 30",
        "--health-timeout",
        "500ms",
        "--health-interval",
        "200ms",
        "--health-retries",
        "1",
        &image,
        "sleep",
        "1000",
    ]);
    assert!(eventually(Duration::from_secs(20), || status(&t, "slow")
        == "unhealthy"));
    let h = health(&t, "slow");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], -1, "{h}");
    assert_eq!(
        last["Output"].as_str().unwrap(),
        "Health check exceeded timeout (500ms): begun\n"
    );
    // The checker goes on after a killed probe.
    assert!(eventually(Duration::from_secs(20), || health(&t, "slow")
        ["Log"]
        .as_array()
        .is_some_and(|l| l.len() >= 3)));
}

#[test]
fn the_image_check_applies_and_flags_override_or_turn_it_off() {
    let t = TestRoot::new();
    let (_reg, image) = common::pulled_busybox(&t);
    let ctx = t.base().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM {image}\nHEALTHCHECK --interval=300ms --retries=4 CMD [\"test\", \"-e\", \
             \"/etc/passwd\"]\n"
        ),
    )
    .unwrap();
    t.berth_ok(["build", "-q", "-t", "checked:1", &ctx.to_string_lossy()]);
    // The image's check as it is.
    t.berth_ok(["run", "-d", "--name", "img", "checked:1", "sleep", "1000"]);
    let config = inspect(&t, "img")["Config"]["Healthcheck"].clone();
    assert_eq!(
        config["Test"],
        serde_json::json!(["CMD", "test", "-e", "/etc/passwd"])
    );
    assert_eq!(
        (config["Interval"].as_i64(), config["Retries"].as_i64()),
        (Some(300_000_000), Some(4))
    );
    assert!(eventually(Duration::from_secs(20), || status(&t, "img") == "healthy"));
    // One flag: the rest stays the image's.
    t.berth_ok([
        "run",
        "-d",
        "--name",
        "fail",
        "--health-cmd",
        "exit 1",
        "--health-retries",
        "1",
        "checked:1",
        "sleep",
        "1000",
    ]);
    let config = inspect(&t, "fail")["Config"]["Healthcheck"].clone();
    assert_eq!(config["Test"], serde_json::json!(["CMD-SHELL", "exit 1"]));
    assert_eq!(config["Interval"].as_i64(), Some(300_000_000));
    assert!(eventually(Duration::from_secs(20), || status(&t, "fail")
        == "unhealthy"));
    // Off.
    t.berth_ok([
        "run",
        "-d",
        "--name",
        "off",
        "--no-healthcheck",
        "checked:1",
        "sleep",
        "1000",
    ]);
    let v = inspect(&t, "off");
    assert_eq!(
        v["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["NONE"])
    );
    std::thread::sleep(Duration::from_millis(800));
    assert!(inspect(&t, "off")["State"]["Health"].is_null());
    assert!(!ps_status(&t, "off").contains('('));
    assert!(with_health(&t, "none").contains(&"off".to_string()));
}

#[test]
fn a_paused_container_is_not_probed() {
    let t = TestRoot::new();
    let (_reg, image) = common::pulled_busybox(&t);
    t.berth_ok([
        "run",
        "-d",
        "--name",
        "pz",
        "--health-cmd",
        "true",
        "--health-interval",
        "200ms",
        &image,
        "sleep",
        "1000",
    ]);
    assert!(eventually(Duration::from_secs(20), || status(&t, "pz") == "healthy"));
    t.berth_ok(["pause", "pz"]);
    // A probe that began just before the pause may still end.
    std::thread::sleep(Duration::from_millis(600));
    let ends = |t: &TestRoot| -> Vec<Value> {
        health(t, "pz")["Log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["End"].clone())
            .collect()
    };
    let before = ends(&t);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(ends(&t), before);
    t.berth_ok(["unpause", "pz"]);
    assert!(eventually(Duration::from_secs(20), || ends(&t) != before));
    assert_eq!(status(&t, "pz"), "healthy");
}

#[test]
fn bad_health_flags_are_refused_before_anything_is_created() {
    let t = TestRoot::new();
    let (_reg, image) = common::pulled_busybox(&t);
    for (flags, says) in [
        (
            vec!["--no-healthcheck", "--health-cmd", "true"],
            "--no-healthcheck conflicts with --health-* options",
        ),
        (
            vec!["--health-interval", "-1s"],
            "--health-interval cannot be negative",
        ),
        (
            vec!["--health-retries", "-2"],
            "--health-retries cannot be negative",
        ),
        (vec!["--health-timeout", "soon"], "invalid --health-timeout"),
        (
            vec!["--health-cmd", "true", "--health-start-period", "10us"],
            "StartPeriod in Healthcheck cannot be less than 1ms",
        ),
    ] {
        let mut args = vec!["run", "-d"];
        args.extend(flags.iter().copied());
        args.extend([image.as_str(), "true"]);
        let out = t.berth(&args);
        assert_eq!(out.status.code(), Some(125), "{flags:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{flags:?}: {err}");
    }
    assert_eq!(t.berth_ok(["ps", "-aq"]), "");
    let err = t.berth_err(["ps", "--filter", "health=fine"]);
    assert!(
        err.contains("Unrecognised filter value for health: fine"),
        "{err}"
    );
}
