//! `rm -f` of containers whose health check runs back to back (1 ms interval), again and again,
//! as root: every removal succeeds, and no monitor, checker or probe process of the root is left
//! afterwards. A probe killed while libcontainer was still starting it used to stay an unreaped
//! zombie of the checker inside the container's pid namespace, so the container's init could
//! not finish exiting, its monitor waited for it forever and `rm -f` failed after 30 s.

mod common;

use std::time::{Duration, Instant};

use common::TestRoot;

/// Processes whose command line names this test's root (monitors, checkers, exec monitors),
/// with their command line.
fn processes_of(t: &TestRoot) -> Vec<(i32, String)> {
    let root = t.path().to_string_lossy().into_owned();
    common::procs::with_words(&[&root, " monitor "])
}

/// Zombie children of `pid`.
fn zombie_children(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces, the last ')' ends it.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r.trim().to_string()) else {
            continue;
        };
        let mut f = rest.split_whitespace();
        let (state, ppid) = (f.next(), f.next().and_then(|p| p.parse::<i32>().ok()));
        if state == Some("Z") && ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

#[test]
fn rm_f_during_back_to_back_probes_leaves_no_process() {
    let t = TestRoot::new();
    let (_reg, image) = common::pulled_busybox(&t);
    let run = |name: &str| {
        t.berth_ok([
            "run",
            "-d",
            "--name",
            name,
            "--health-cmd",
            "true",
            "--health-interval",
            "1ms",
            "--health-start-period",
            "0s",
            &image,
            "sleep",
            "1000",
        ]);
    };
    let rounds = 12;
    for round in 0..rounds {
        let names: Vec<String> = (0..3).map(|i| format!("c{round}-{i}")).collect();
        for n in &names {
            run(n);
        }
        // Different moments in the probes' cycle: right away, and after a few probes.
        std::thread::sleep(Duration::from_millis(37 * (round % 5)));
        for n in &names {
            // Checkers meanwhile reap what they start: none holds a zombie for long.
            let started = Instant::now();
            let out = t.berth(["rm", "-f", n]);
            assert!(
                out.status.success(),
                "round {round}: rm -f {n} failed after {:?}: {}\nleft: {:?}",
                started.elapsed(),
                String::from_utf8_lossy(&out.stderr),
                processes_of(&t)
            );
        }
        // A removed container's monitor records and exits; nothing of it stays.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !processes_of(&t).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let left = processes_of(&t);
        let zombies: Vec<(i32, Vec<i32>)> = left
            .iter()
            .map(|(p, _)| (*p, zombie_children(*p)))
            .collect();
        assert!(
            left.is_empty(),
            "round {round}: processes left: {left:?}, their zombies: {zombies:?}"
        );
    }
    assert_eq!(t.berth_ok(["ps", "-aq"]).trim(), "");
}
