//! `run -d` killed with SIGKILL at every stage of its start, and containers that lost their
//! record: `ps -a` must say what really runs, `rm -f` and `container prune` must leave nothing
//! (mounts, cgroups, monitors, files, runtime state under /run).

mod containers_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use containers_support::{berth_bin, stdout, TestRoot};

/// Pids and container ids of the monitors running for this root.
fn monitors(root: &Path) -> Vec<(i32, String)> {
    let root = root.to_string_lossy().into_owned();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmd
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_ours = args.windows(2).any(|w| w[0] == "--root" && w[1] == root);
        if is_ours && args.iter().any(|a| a == "monitor") {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            if stat.contains(") Z") {
                continue;
            }
            if let Some(id) = args.iter().rev().find(|a| !a.is_empty()) {
                out.push((pid, id.clone()));
            }
        }
    }
    out
}

fn cgroups(id: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let p = e.path().join("berth").join(id);
        if p.exists() {
            out.push(p);
        }
    }
    out
}

fn run_dir(root: &Path) -> PathBuf {
    let layout = berth::engine::Layout::new(root);
    berth::engine::container::cleanup::runtime_root(&layout, &"0".repeat(64))
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn merged_mounted(t: &TestRoot, id: &str) -> bool {
    let merged = t.root().join("containers").join(id).join("merged");
    t.mounts().iter().any(|m| Path::new(m) == merged)
}

/// Every id anything under the root belongs to.
fn ids_on_disk(t: &TestRoot) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = entries(&t.root().join("containers")).into_iter().collect();
    ids.extend(entries(&run_dir(t.root())));
    ids.extend(monitors(t.root()).into_iter().map(|(_, id)| id));
    ids
}

/// Nothing of the containers `ids` is left: no mount, cgroup, monitor, file or runtime state.
fn assert_nothing_left(t: &TestRoot, ids: &BTreeSet<String>) {
    // Monitors exit right after the cleanup that `rm`/`prune` waited for; give them a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !monitors(t.root()).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(monitors(t.root()), vec![], "monitors left");
    assert_eq!(t.mounts(), Vec::<String>::new(), "mounts left");
    assert_eq!(entries(&t.root().join("containers")), Vec::<String>::new());
    assert!(!run_dir(t.root()).exists(), "{:?} left", run_dir(t.root()));
    for id in ids {
        assert_eq!(cgroups(id), Vec::<PathBuf>::new(), "cgroups of {id} left");
        for suffix in ["lock", "monitor"] {
            let f = t.root().join("locks").join(format!("{id}.{suffix}"));
            assert!(!f.exists(), "{} left", f.display());
        }
    }
}

#[test]
fn killed_run_d_leaves_records_that_match_reality() {
    let t = TestRoot::new();
    let rootfs = t.rootfs().to_string_lossy().into_owned();
    let root = t.root().to_string_lossy().into_owned();
    let delays_ms = [
        0u64, 3, 8, 15, 25, 35, 50, 65, 80, 100, 120, 150, 180, 220, 300,
    ];
    let mut seen = BTreeSet::new();
    for (i, delay) in delays_ms.iter().enumerate() {
        let name = format!("k{i}");
        let mut child = Command::new(berth_bin())
            .args([
                "--root", &root, "run", "-d", "--name", &name, "--rootfs", &rootfs,
            ])
            .args(["sleep", "300"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*delay));
        let _ = child.kill();
        let _ = child.wait();
        seen.extend(ids_on_disk(&t));
        if i % 3 == 2 {
            // Racing the monitor that the killed `run` may have left starting the container.
            let _ = t.berth(&["rm", "-f", &name]);
        }
    }
    seen.extend(ids_on_disk(&t));

    // `ps -a` says what runs: every running record has its monitor and mount, every other
    // record has neither, and every monitor and mount belongs to a running record.
    let ids: Vec<String> = stdout(&t.berth(&["ps", "-aq", "--no-trunc"]))
        .lines()
        .map(str::to_string)
        .collect();
    let live = monitors(t.root());
    let mut running = BTreeSet::new();
    for id in &ids {
        let v: serde_json::Value = serde_json::from_str(&t.ok(&["inspect", id])).unwrap();
        let status = v[0]["State"]["Status"].as_str().unwrap().to_string();
        let has_monitor = live.iter().any(|(_, m)| m == id);
        if status == "running" {
            running.insert(id.clone());
            assert!(has_monitor, "{id} is running without a monitor");
            assert!(merged_mounted(&t, id), "{id} is running without its rootfs");
        } else {
            assert!(!has_monitor, "{id} says {status} but its monitor runs");
            assert!(!merged_mounted(&t, id), "{id} says {status} but is mounted");
        }
    }
    for (pid, id) in &live {
        assert!(
            running.contains(id),
            "monitor {pid} runs {id}, not a running record"
        );
    }
    for m in t.mounts() {
        assert!(
            running.iter().any(|id| m.contains(id.as_str())),
            "mount {m} belongs to no running container"
        );
    }
    // `stop` stops a running one for real.
    if let Some(id) = running.iter().next() {
        t.ok(&["stop", "-t", "1", id]);
        assert!(!monitors(t.root()).iter().any(|(_, m)| m == id));
        assert!(!merged_mounted(&t, id));
    }

    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(String::as_str));
        t.ok(&args);
    }
    // A `create` killed before it recorded the container leaves a directory; prune takes it.
    t.ok(&["container", "prune", "-f"]);
    assert_eq!(t.ok(&["ps", "-aq"]), "");
    assert_nothing_left(&t, &seen);
}

#[test]
fn prune_collects_a_container_that_lost_its_record() {
    let t = TestRoot::new();
    let out = t.run(&["-d", "--name", "lost"], &["sleep", "300"]);
    assert!(out.status.success(), "{}", containers_support::stderr(&out));
    let id = stdout(&out).trim().to_string();
    let v: serde_json::Value = serde_json::from_str(&t.ok(&["inspect", &id])).unwrap();
    let pid = v[0]["State"]["Pid"].as_i64().unwrap();
    assert!(!cgroups(&id).is_empty() && merged_mounted(&t, &id));
    let state = berth::engine::state::StateStore::open(&t.root().join("state.db")).unwrap();
    state
        .write(|tx| {
            tx.execute("DELETE FROM containers WHERE id = ?1", [&id])?;
            Ok(())
        })
        .unwrap();
    drop(state);
    assert_eq!(t.ok(&["ps", "-aq"]), "");

    let pruned = t.ok(&["container", "prune", "-f"]);
    assert!(
        pruned.contains(&id),
        "prune names what it removed: {pruned}"
    );
    assert_nothing_left(&t, &BTreeSet::from([id]));
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z"))
        .unwrap_or(false);
    assert!(!alive, "the container's process {pid} was killed");
}
