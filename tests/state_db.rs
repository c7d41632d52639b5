//! A damaged, emptied or newer `state.db`: every command says at once which file is wrong and
//! what to do, nothing starts afresh over data on disk, and `berth system check --repair`
//! rebuilds the records of volumes.

mod containers_support;

use std::path::Path;
use std::time::{Duration, Instant};

use containers_support::{stderr, stdout, TestRoot};

/// Kills container processes by pid when the test ends, also when it fails: with the database
/// gone, `rm -f $(ps -aq)` in TestRoot's drop cannot find them.
struct Pids(Vec<i32>);

impl Drop for Pids {
    fn drop(&mut self) {
        for &pid in &self.0 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

fn db(t: &TestRoot) -> std::path::PathBuf {
    t.root().join("state.db")
}

/// Runs berth, requires a quick failure with 125 naming the database and the repair command.
fn refused_at_once(t: &TestRoot, args: &[&str], what: &str) {
    let started = Instant::now();
    let out = t.berth(args);
    let took = started.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{args:?} ({what}): {err}");
    assert!(
        took < Duration::from_secs(5),
        "{args:?} ({what}) took {took:?}"
    );
    assert!(
        err.contains(&db(t).display().to_string()) && err.contains("system check --repair"),
        "{args:?} ({what}): {err}"
    );
}

fn checkpoint(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
}

#[test]
fn damaged_database_is_named_at_once_while_a_monitor_holds_it() {
    let t = TestRoot::new();
    let out = t.run(&["-d", "--name", "busy"], &["sleep", "300"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    let rec = berth::engine::container::get(&t.engine(), &id).unwrap();
    let _pids = Pids(vec![rec.state.pid, rec.state.monitor_pid]);
    t.ok(&["volume", "create", "data"]);
    checkpoint(&db(&t));
    let good = std::fs::read(db(&t)).unwrap();
    assert!(good.len() > 8192, "{}", good.len());

    // Cut at a page boundary: the header is fine, the tables are not.
    std::fs::write(db(&t), &good[..8192]).unwrap();
    refused_at_once(&t, &["ps", "-a"], "cut at a page");
    refused_at_once(&t, &["volume", "ls"], "cut at a page");
    // Cut inside a page.
    std::fs::write(db(&t), &good[..5000]).unwrap();
    refused_at_once(&t, &["ps", "-a"], "cut inside a page");
    // Not a database at all.
    std::fs::write(db(&t), vec![0x5a; 8192]).unwrap();
    refused_at_once(&t, &["ps", "-a"], "garbage");
    // Emptied while the monitor holds it open: SQLite would wait a minute for its lock.
    std::fs::write(db(&t), b"").unwrap();
    refused_at_once(&t, &["ps", "-a"], "emptied");
    refused_at_once(&t, &["run", "--rm", "--rootfs", "/", "true"], "emptied");
    assert_eq!(
        std::fs::metadata(db(&t)).unwrap().len(),
        0,
        "left as it was"
    );

    let check = t.berth(&["system", "check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let report = stdout(&check);
    assert!(report.contains("data") && report.contains(&id), "{report}");
    let repair = t.berth(&["system", "check", "--repair"]);
    assert_eq!(repair.status.code(), Some(0), "{}", stderr(&repair));
    assert!(
        stdout(&repair).contains("moved it aside"),
        "{}",
        stdout(&repair)
    );
    assert_eq!(t.ok(&["volume", "ls", "-q"]), "data\n");
    // The container's record cannot be rebuilt: prune stops it and removes what it left.
    let pruned = t.ok(&["container", "prune", "-f"]);
    assert!(pruned.contains(&id), "{pruned}");
    assert!(t.mounts().is_empty(), "{:?}", t.mounts());
    assert!(!t.root().join("containers").join(&id).exists());
    let after = t.berth(&["system", "check"]);
    assert_eq!(after.status.code(), Some(0), "{}", stdout(&after));
}

#[test]
fn emptied_or_missing_database_is_not_started_afresh_and_repair_rebuilds_volumes() {
    let t = TestRoot::new();
    t.ok(&["volume", "create", "--label", "k=v", "named"]);
    std::fs::write(
        t.root().join("volumes/named/_data/file"),
        "kept across the repair",
    )
    .unwrap();
    let out = t.run(&["--name", "used", "-v", "/anon"], &["true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let anon = t.ok(&["volume", "ls", "-q", "--filter", "dangling=false"]);
    let anon = anon.lines().find(|v| *v != "named").unwrap().to_string();
    let id = t.ok(&["ps", "-aq", "--no-trunc"]).trim().to_string();

    for (what, damage) in [("missing", None), ("empty", Some(b"".as_slice()))] {
        let _ = std::fs::remove_file(db(&t));
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db(&t).display()));
        }
        if let Some(bytes) = damage {
            std::fs::write(db(&t), bytes).unwrap();
        }
        refused_at_once(&t, &["volume", "ls"], what);
        refused_at_once(&t, &["ps", "-a"], what);
        // Nothing was created in its place.
        assert_eq!(db(&t).exists(), damage.is_some(), "{what}");
    }

    let check = t.berth(&["system", "check"]);
    assert_eq!(check.status.code(), Some(1));
    let report = stdout(&check);
    assert!(
        report.contains("named") && report.contains(&anon) && report.contains(&id),
        "{report}"
    );
    let repair = t.berth(&["system", "check", "--repair"]);
    assert_eq!(repair.status.code(), Some(0), "{}", stderr(&repair));
    let mut vols: Vec<String> = t
        .ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_string)
        .collect();
    vols.sort();
    let mut want = vec![anon.clone(), "named".to_string()];
    want.sort();
    assert_eq!(vols, want);
    let v: serde_json::Value = serde_json::from_str(&t.ok(&["volume", "inspect", &anon])).unwrap();
    assert_eq!(v[0]["Anonymous"], true);
    let v: serde_json::Value =
        serde_json::from_str(&t.ok(&["volume", "inspect", "named"])).unwrap();
    assert_eq!(v[0]["Anonymous"], false);
    let data = std::fs::read_to_string(t.root().join("volumes/named/_data/file")).unwrap();
    assert_eq!(data, "kept across the repair");
    // Still listed until pruned.
    let again = t.berth(&["system", "check"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stdout(&again).contains(&id));
    t.ok(&["container", "prune", "-f"]);
    let clean = t.berth(&["system", "check"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
}

#[test]
fn schema_is_versioned_and_a_newer_database_is_refused() {
    let t = TestRoot::new();
    t.ok(&["volume", "create", "vol"]);
    let version = |p: &Path| -> i64 {
        rusqlite::Connection::open(p)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    let current = version(&db(&t));
    assert!(current >= 1, "{current}");
    let set = |v: i64| {
        rusqlite::Connection::open(db(&t))
            .unwrap()
            .pragma_update(None, "user_version", v)
            .unwrap();
    };
    // A database from before the schema was versioned is migrated.
    set(0);
    assert_eq!(t.ok(&["volume", "ls", "-q"]), "vol\n");
    assert_eq!(version(&db(&t)), current);
    // One from a newer berth is refused, naming both versions, and left untouched.
    set(current + 7);
    let out = t.berth(&["volume", "ls"]);
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert!(
        err.contains(&db(&t).display().to_string())
            && err.contains(&format!("version {}", current + 7))
            && err.contains(&format!("up to {current}"))
            && err.contains("newer berth"),
        "{err}"
    );
    assert_eq!(version(&db(&t)), current + 7);
}
