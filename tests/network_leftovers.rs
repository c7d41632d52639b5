//! Networking odds and ends, inside namespaces of the test's own (see `network_support`):
//! `--add-host NAME:host-gateway` resolves to the gateway of the container's network (docker's
//! semantics) and is refused with `--network none`, and the network of a container whose record vanished (namespace, veths, firewall elements,
//! interfaces and rules, leases, published ports) is collected by `system prune`.

mod network_support;

use network_support::{stdout, NetTest};

fn hosts_line(t: &NetTest, flags: &[&str]) -> String {
    let mut all = vec!["--rm", "--add-host", "gw:host-gateway"];
    all.extend_from_slice(flags);
    let out = t.run(&all, &["sh", "-c", "grep -w gw /etc/hosts || echo none"]);
    assert!(out.status.success(), "{}", network_support::stderr(&out));
    stdout(&out)
}

#[test]
fn host_gateway_is_the_gateway_of_the_containers_network() {
    let t = NetTest::new();
    assert_eq!(hosts_line(&t, &[]), "172.17.0.1\tgw\n");
    t.ok(&["network", "create", "--subnet", "10.89.7.0/24", "gwnet"]);
    assert_eq!(hosts_line(&t, &["--network", "gwnet"]), "10.89.7.1\tgw\n");
    assert_eq!(hosts_line(&t, &["--network", "host"]), "127.0.0.1\tgw\n");
    // Without a network there is no way to the host: refused, nothing made.
    let r = t.rootfs().to_string_lossy().into_owned();
    let out = t.berth(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--add-host",
        "gw:host-gateway",
        "--rootfs",
        &r,
        "true",
    ]);
    assert_eq!(
        out.status.code(),
        Some(125),
        "{}",
        network_support::stderr(&out)
    );
    let err = network_support::stderr(&out);
    assert!(
        err.contains("gw:host-gateway") && err.contains("--network none"),
        "{err}"
    );
    assert_eq!(t.ok(&["ps", "-aq"]), "");
    // inspect keeps what was asked, as docker does.
    let r = t.rootfs().to_string_lossy().into_owned();
    t.ok(&[
        "create",
        "--name",
        "kept",
        "--add-host",
        "gw:host-gateway",
        "--rootfs",
        &r,
        "true",
    ]);
    let extra = t.ok(&["inspect", "-f", "{{json .HostConfig.ExtraHosts}}", "kept"]);
    assert_eq!(extra.trim(), r#"["gw:host-gateway"]"#);
    t.ok(&["rm", "kept"]);
    t.ok(&["network", "rm", "gwnet"]);
    assert_eq!(t.leftovers(), Vec::<String>::new());
}

#[test]
fn the_network_of_a_vanished_record_is_collected_by_system_prune() {
    let t = NetTest::new();
    let out = t.run(
        &["-d", "--name", "lost", "-p", "8089:80"],
        &["sleep", "300"],
    );
    assert!(out.status.success(), "{}", network_support::stderr(&out));
    let id = stdout(&out).trim().to_string();
    // The monitor dies and the record goes, as after a crash and a damaged database repair.
    let db = rusqlite::Connection::open(t.root().join("state.db")).unwrap();
    let record: String = db
        .query_row("SELECT record FROM containers WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&record).unwrap();
    let monitor = v["state"]["monitor_pid"].as_i64().unwrap() as i32;
    assert!(monitor > 0, "{v}");
    // SAFETY: the monitor is a process this test started (through berth run -d).
    assert_eq!(unsafe { libc::kill(monitor, libc::SIGKILL) }, 0);
    db.execute("DELETE FROM containers WHERE id = ?1", [&id])
        .unwrap();
    drop(db);
    assert!(
        !t.leftovers().is_empty(),
        "the namespace, leases and rules are still there"
    );
    let pruned = t.ok(&["system", "prune", "-f"]);
    assert!(pruned.contains(&id), "{pruned}");
    assert_eq!(t.leftovers(), Vec::<String>::new());
}

/// A killed monitor whose record also vanished: the next berth command of any kind (here
/// `network ls`, which looks at no container) collects its network when the engine opens.
#[test]
fn the_network_of_a_lost_monitor_is_collected_when_the_engine_opens() {
    let t = NetTest::new();
    let out = t.run(
        &["-d", "--name", "lost", "-p", "8090:80"],
        &["sleep", "300"],
    );
    assert!(out.status.success(), "{}", network_support::stderr(&out));
    let id = stdout(&out).trim().to_string();
    let db = rusqlite::Connection::open(t.root().join("state.db")).unwrap();
    let record: String = db
        .query_row("SELECT record FROM containers WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&record).unwrap();
    let monitor = v["state"]["monitor_pid"].as_i64().unwrap() as i32;
    // SAFETY: the monitor is a process this test started (through berth run -d).
    assert_eq!(unsafe { libc::kill(monitor, libc::SIGKILL) }, 0);
    db.execute("DELETE FROM containers WHERE id = ?1", [&id])
        .unwrap();
    drop(db);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!t.leftovers().is_empty(), "the network is still there");
    t.ok(&["network", "ls"]);
    assert_eq!(t.leftovers(), Vec::<String>::new());
    // The rest of the container (its process, rootfs) is container prune's.
    let pruned = t.ok(&["system", "prune", "-f"]);
    assert!(pruned.contains(&id), "{pruned}");
}
