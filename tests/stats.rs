//! `stats` against real containers, as root: CPU of a busy loop, memory of a hog against its
//! limit, pids, network bytes over a veth into a namespace the test made, block I/O of direct
//! writes; `--no-stream`, `-a`, `--no-trunc`, `--format`, names; the stream redrawing and
//! picking up a container started after it.

mod containers_support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use containers_support::{berth_bin, stderr, stdout, TestRoot};

/// Starts container `name`, a shell loop keeping one CPU busy.
fn run_busy(t: &TestRoot, name: &str) {
    let out = t.run(
        &["-d", "--name", name],
        &["sh", "-c", "while :; do :; done"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// One container's row of `stats --no-stream --format json`.
fn sample(t: &TestRoot, name: &str) -> serde_json::Value {
    let out = t.ok(&["stats", "--no-stream", "--format", "json", name]);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn percent(v: &serde_json::Value, key: &str) -> f64 {
    let s = v[key].as_str().expect("string cell");
    s.strip_suffix('%')
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{key}: {s}"))
}

/// `1.5MiB`, `20.5MB`, `0B` → bytes.
fn bytes(cell: &str) -> f64 {
    let units = [
        ("KiB", 1024f64),
        ("MiB", 1024f64.powi(2)),
        ("GiB", 1024f64.powi(3)),
        ("kB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("B", 1.0),
    ];
    for (u, m) in units {
        if let Some(n) = cell.strip_suffix(u) {
            return n.parse::<f64>().unwrap_or_else(|_| panic!("size {cell}")) * m;
        }
    }
    panic!("size without unit: {cell}")
}

/// The two sides of `A / B`, in bytes.
fn pair(v: &serde_json::Value, key: &str) -> (f64, f64) {
    let s = v[key].as_str().expect("string cell");
    let (a, b) = s.split_once(" / ").unwrap_or_else(|| panic!("{key}: {s}"));
    (bytes(a), bytes(b))
}

/// Polls `f` until it holds or `limit` passes.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    f()
}

fn container_pid(t: &TestRoot, name: &str) -> String {
    t.ok(&["inspect", "--format", "{{.State.Pid}}", name])
        .trim()
        .to_string()
}

#[test]
fn figures_move_with_cpu_memory_and_pids() {
    let t = TestRoot::new();
    run_busy(&t, "busy");
    // 48 MiB in /dev/shm (tmpfs pages are charged to the cgroup and are not file cache).
    let hog = t.run(
        &["-d", "--name", "hog", "-m", "256m", "--shm-size", "128m"],
        &[
            "sh",
            "-c",
            "sleep 1000 & sleep 1000 & dd if=/dev/zero of=/dev/shm/x bs=1M count=48; wait",
        ],
    );
    assert!(hog.status.success(), "{}", stderr(&hog));
    let idle = t.run(&["-d", "--name", "idle"], &["sleep", "1000"]);
    assert!(idle.status.success(), "{}", stderr(&idle));
    std::thread::sleep(Duration::from_secs(2));

    // A busy loop uses a CPU (a share of one on a host busy with other tests), an idle sleep
    // next to nothing.
    let b = sample(&t, "busy");
    assert!(percent(&b, "CPUPerc") > 5.0, "{b}");
    assert_eq!(b["PIDs"], "1", "{b}");
    // The first sample averages since the start, which counts the container's own setup:
    // an idle one shows a little, far below the loop.
    let i = sample(&t, "idle");
    let idle = percent(&i, "CPUPerc");
    assert!(idle < 5.0 && idle * 3.0 < percent(&b, "CPUPerc"), "{i} {b}");

    assert!(
        eventually(Duration::from_secs(10), || {
            let h = sample(&t, "hog");
            let (used, limit) = pair(&h, "MemUsage");
            used >= 48.0 * 1024.0 * 1024.0 && limit == 256.0 * 1024.0 * 1024.0
        }),
        "{}",
        sample(&t, "hog")
    );
    let h = sample(&t, "hog");
    let mem = percent(&h, "MemPerc");
    assert!((18.0..40.0).contains(&mem), "{h}");
    // sh and its two sleeps (dd has finished).
    assert_eq!(h["PIDs"], "3", "{h}");
    // No limit: the host's memory is the limit shown.
    let (_, host) = pair(&i, "MemUsage");
    assert!(host > 256.0 * 1024.0 * 1024.0, "{i}");
}

/// A network namespace made by the test, deleted on drop.
struct TestNetns(String);

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn network_and_block_io_count_the_containers_traffic() {
    let t = TestRoot::new();
    let out = t.run(
        &["-d", "--name", "io", "--network", "none"],
        &["sleep", "1000"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let pid = container_pid(&t, "io");
    let before = sample(&t, "io");
    assert_eq!(
        before["NetIO"], "0B / 0B",
        "loopback is not counted: {before}"
    );

    // A veth from the container's namespace into one the test made; ping the container.
    let ns = TestNetns(format!("berth-stats-{}", std::process::id()));
    let ok = |c: &mut Command| {
        let o = c.output().expect("run ip");
        assert!(o.status.success(), "{c:?}: {}", stderr(&o));
    };
    ok(Command::new("ip").args(["netns", "add", &ns.0]));
    let in_ct = |args: &[&str]| {
        let mut c = Command::new("nsenter");
        c.args(["-t", &pid, "-n", "ip"]).args(args);
        c
    };
    let in_ns = |args: &[&str]| {
        let mut c = Command::new("ip");
        c.args(["-n", &ns.0]).args(args);
        c
    };
    ok(&mut in_ct(&[
        "link", "add", "s0", "type", "veth", "peer", "name", "s1", "netns", &ns.0,
    ]));
    ok(&mut in_ct(&["addr", "add", "10.251.7.1/30", "dev", "s0"]));
    ok(&mut in_ct(&["link", "set", "s0", "up"]));
    ok(&mut in_ns(&["addr", "add", "10.251.7.2/30", "dev", "s1"]));
    ok(&mut in_ns(&["link", "set", "s1", "up"]));
    ok(Command::new("ip").args([
        "netns",
        "exec",
        &ns.0,
        "/bin/busybox",
        "ping",
        "-c",
        "5",
        "-i",
        "0.2",
        "-s",
        "1000",
        "-w",
        "10",
        "10.251.7.1",
    ]));
    let after = sample(&t, "io");
    let (rx, tx) = pair(&after, "NetIO");
    // Five echo requests in, five replies out, over 1000 bytes each.
    assert!(rx >= 5000.0 && tx >= 5000.0, "{after}");

    // Block I/O: on cgroup v1 the kernel counts a cgroup's I/O only where blk-throttle is
    // active on the device, so the test gives the container a write limit it never reaches.
    let id = t.ok(&["inspect", "--format", "{{.Id}}", "io"]);
    let id = id.trim();
    let blkio = format!("/sys/fs/cgroup/blkio/berth/{id}");
    if std::path::Path::new(&blkio).exists() {
        let dev = std::fs::metadata(t.root()).expect("stat root").dev();
        let (major, minor) = (libc::major(dev), libc::minor(dev));
        let rule = format!("{major}:{minor} 100000000000\n");
        std::fs::write(format!("{blkio}/blkio.throttle.write_bps_device"), rule)
            .expect("a non-limiting throttle rule on the root's disk");
    }
    let w = t.berth(&[
        "exec",
        "io",
        "dd",
        "if=/dev/zero",
        "of=/tmp/f",
        "bs=1M",
        "count=8",
        "oflag=direct",
    ]);
    assert!(w.status.success(), "{}", stderr(&w));
    let io = sample(&t, "io");
    let (_, written) = pair(&io, "BlockIO");
    assert!(written >= 8.0 * 1e6, "{io}");
}

#[test]
fn selection_flags_and_formats_as_docker() {
    let t = TestRoot::new();
    let up = t.run(&["-d", "--name", "up"], &["sleep", "1000"]);
    assert!(up.status.success(), "{}", stderr(&up));
    let id = stdout(&up).trim().to_string();
    let done = t.run(&["--name", "done"], &["true"]);
    assert!(done.status.success(), "{}", stderr(&done));

    let table = t.ok(&["stats", "--no-stream"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>().join(" "),
        "CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS",
        "{table}"
    );
    assert_eq!(lines.len(), 2, "only the running container: {table}");
    assert!(
        lines[1].starts_with(&id[..12]) && lines[1].contains(" up "),
        "{table}"
    );

    let all = t.ok(&[
        "stats",
        "--no-stream",
        "-a",
        "--format",
        "{{.Name}} {{.CPUPerc}}",
    ]);
    let mut names: Vec<&str> = all.lines().collect();
    names.sort();
    assert_eq!(names[0], "done 0.00%", "{all}");
    assert!(names[1].starts_with("up "), "{all}");

    let custom = t.ok(&[
        "stats",
        "--no-stream",
        "--no-trunc",
        "--format",
        "table {{.Container}}\t{{.ID}}\t{{.PIDs}}",
        "up",
    ]);
    let rows: Vec<Vec<&str>> = custom
        .lines()
        .map(|l| {
            l.split("   ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(rows[0], ["CONTAINER", "CONTAINER ID", "PIDS"], "{custom}");
    assert_eq!(rows[1], ["up", id.as_str(), "1"], "{custom}");

    let json = t.ok(&["stats", "--no-stream", "--format", "json", &id[..10]]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).expect("json");
    for key in [
        "BlockIO",
        "CPUPerc",
        "Container",
        "ID",
        "MemPerc",
        "MemUsage",
        "Name",
        "NetIO",
        "PIDs",
    ] {
        assert!(v[key].is_string(), "{key} in {v}");
    }
    assert_eq!(v["Container"], &id[..10]);

    let missing = t.berth(&["stats", "--no-stream", "nosuch"]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    assert!(stderr(&missing).contains("nosuch"), "{}", stderr(&missing));
    let bad = t.berth(&["stats", "--no-stream", "--format", "{{.Nope"]);
    assert_eq!(bad.status.code(), Some(125), "{}", stderr(&bad));
}

/// Stops the stream process the test started, by pid.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn stream_samples_every_second_and_follows_new_containers() {
    let t = TestRoot::new();
    run_busy(&t, "spin");
    let mut child = Child(
        Command::new(berth_bin())
            .arg("--root")
            .arg(t.root())
            .args(["stats", "--format", "{{.Name}} {{.CPUPerc}}"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start stats"),
    );
    let reader = BufReader::new(child.0.stdout.take().expect("stdout"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let started = Instant::now();
    let mut spin = Vec::new();
    let mut late_seen = false;
    let mut late_started = false;
    while started.elapsed() < Duration::from_secs(20) && !(late_seen && spin.len() >= 3) {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) else {
            break;
        };
        if let Some(p) = line.strip_prefix("spin ") {
            spin.push(p.trim_end_matches('%').parse::<f64>().expect("percent"));
            if spin.len() == 2 && !late_started {
                let late = t.run(&["-d", "--name", "late"], &["sleep", "1000"]);
                assert!(late.status.success(), "{}", stderr(&late));
                late_started = true;
            }
        }
        late_seen |= line.starts_with("late ");
    }
    assert!(spin.len() >= 3, "samples: {spin:?}");
    assert!(
        late_seen,
        "a container started after the stream began shows up"
    );
    // Later samples measure the last second: the loop keeps (a share of) a CPU busy.
    assert!(spin[1..].iter().all(|p| *p > 5.0), "{spin:?}");
    drop(child);
}

/// The TUI's sampler (`Engine::tracked_stats`): the rows' files are kept open between samples,
/// yet every sample reads fresh counters; a container that stops reads as not running, and one
/// started again (a new cgroup) is read again.
#[test]
fn tracked_samples_follow_a_busy_container_through_stop_and_start() {
    let t = TestRoot::new();
    run_busy(&t, "busy");
    let idle = t.run(&["-d", "--name", "idle"], &["sleep", "600"]);
    assert!(idle.status.success(), "{}", stderr(&idle));
    let id = |name: &str| {
        t.ok(&["inspect", "--format", "{{.Id}}", name])
            .trim()
            .to_string()
    };
    let (busy_id, idle_id) = (id("busy"), id("idle"));
    let engine = t.engine();
    let ids = vec![busy_id.clone(), idle_id.clone(), "0".repeat(64)];
    let first = engine.tracked_stats(&ids).expect("first sample");
    assert_eq!(first.len(), 3);
    assert!(first[0].running && first[1].running, "{first:?}");
    assert!(
        !first[2].running,
        "an unknown id reads as not running: {first:?}"
    );
    assert!(first[0].memory_usage > 0 && first[0].pids >= 1, "{first:?}");
    std::thread::sleep(Duration::from_millis(1500));
    let second = engine.tracked_stats(&ids).expect("second sample");
    let burnt = second[0].cpu_total_ns - first[0].cpu_total_ns;
    assert!(
        burnt > 300_000_000,
        "the busy loop's CPU time moves between samples through the kept files: {burnt} ns"
    );
    assert!(second[0].cpu_percent > 30.0, "{second:?}");
    assert!(second[1].cpu_percent < 20.0, "{second:?}");
    // Stopped: its cgroup is gone, the kept descriptors say so.
    t.ok(&["kill", "busy"]);
    assert!(
        eventually(Duration::from_secs(10), || {
            !engine.tracked_stats(&ids).expect("sample")[0].running
        }),
        "a stopped container reads as not running"
    );
    // Started again: a new cgroup, found again.
    t.ok(&["start", "busy"]);
    assert!(
        eventually(Duration::from_secs(10), || {
            let s = engine.tracked_stats(&ids).expect("sample");
            s[0].running && s[0].cpu_total_ns > 0
        }),
        "a restarted container is read again"
    );
    t.ok(&["rm", "-f", "busy", "idle"]);
}

/// `berth stats`'s sampler keeps each running container's counter files open between samples:
/// every sample still reads fresh counters, and a container restarted under it (a new cgroup
/// and a new init, whose namespace's `net/dev` the old descriptor no longer reads) is read
/// through files opened again, not reported stopped or frozen.
#[test]
fn one_sampler_reads_a_container_across_its_restart() {
    use berth::engine::stats::StatsSelection;
    let t = TestRoot::new();
    run_busy(&t, "busy");
    let engine = t.engine();
    let mut sampler = engine
        .stats_sampler(StatsSelection::Named(vec!["busy".into()]))
        .expect("sampler");
    let first = sampler.sample().expect("first sample");
    assert!(first[0].running, "{first:?}");
    std::thread::sleep(Duration::from_millis(1200));
    let second = sampler.sample().expect("second sample");
    assert!(
        second[0].cpu_total_ns > first[0].cpu_total_ns + 300_000_000,
        "the kept files read fresh counters: {first:?} {second:?}"
    );
    t.ok(&["restart", "-t", "0", "busy"]);
    let again = sampler.sample().expect("sample after the restart");
    assert!(again[0].running, "read through new files: {again:?}");
    assert!(
        again[0].cpu_total_ns < second[0].cpu_total_ns,
        "the new cgroup's counter, not the old one's: {second:?} {again:?}"
    );
    std::thread::sleep(Duration::from_millis(1200));
    let later = sampler.sample().expect("a later sample");
    assert!(later[0].cpu_percent > 30.0, "{later:?}");
    t.ok(&["rm", "-f", "busy"]);
}
