//! Container networking, each test inside network namespaces of its own (see
//! `network_support`): the default bridge with outbound access, `-p` from loopback and from
//! another host, `-P` with `--expose`, UDP, port conflicts, user networks with names and aliases
//! (and their loss), `--internal`, live connect/disconnect, `--link`, `--network container:C`,
//! and nothing left behind by stop, `rm -f`, a killed monitor or interrupted runs.

mod network_support;

use std::time::Duration;

use network_support::{
    http_get, serve_tcp, stderr, stdout, udp_echo, udp_echo_from, NetTest, HOST_IP, PEER_IP,
};

const HTTPD: &[&str] = &["httpd", "-f", "-p", "80", "-h", "/www"];

#[test]
fn published_port_answers_on_loopback_and_from_another_host() {
    let t = NetTest::new();
    let hostns = t.ns_path(&t.host);
    let peerns = t.ns_path(&t.peer);
    t.run(&["-d", "--name", "web", "-p", "8000:80"], HTTPD);
    let body = http_get(
        hostns.clone(),
        "127.0.0.1:8000".into(),
        Duration::from_secs(10),
    )
    .unwrap();
    assert!(body.contains("hello from berth"), "{body}");
    let body = http_get(
        peerns.clone(),
        format!("{HOST_IP}:8000"),
        Duration::from_secs(5),
    )
    .expect("published port from the other host");
    assert!(body.contains("hello from berth"), "{body}");
    // ps, port and inspect say where it is.
    let ps = t.ok(&["ps"]);
    assert!(ps.contains("0.0.0.0:8000->80/tcp"), "{ps}");
    assert_eq!(t.ok(&["port", "web"]), "80/tcp -> 0.0.0.0:8000\n");
    assert_eq!(t.ok(&["port", "web", "80"]), "0.0.0.0:8000\n");
    let ip = t.ok(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "web"]);
    assert!(ip.trim().starts_with("172.17."), "{ip}");
    let gw = t.ok(&[
        "inspect",
        "-f",
        "{{.NetworkSettings.Networks.bridge.Gateway}}",
        "web",
    ]);
    assert_eq!(gw.trim(), "172.17.0.1");
    // Outbound: a container reaches a server on the other host, masqueraded.
    serve_tcp(
        peerns,
        "192.0.2.2:8080",
        "outbound ok\n",
        Duration::from_secs(20),
    );
    let out = t.run(
        &["--rm"],
        &[
            "sh",
            "-c",
            &format!("cat /etc/hosts; nc {PEER_IP} 8080 </dev/null"),
        ],
    );
    let text = stdout(&out);
    assert!(text.contains("outbound ok"), "{text}{}", stderr(&out));
    // The container's own address is in its /etc/hosts.
    assert!(text.contains("172.17.0."), "{text}");
    // Stop releases the port; start binds it again.
    t.ok(&["stop", "-t", "1", "web"]);
    assert!(http_get(hostns.clone(), "127.0.0.1:8000".into(), Duration::ZERO).is_err());
    assert_eq!(t.ok(&["port", "web"]), "");
    t.ok(&["start", "web"]);
    let body = http_get(hostns, "127.0.0.1:8000".into(), Duration::from_secs(10)).unwrap();
    assert!(body.contains("hello from berth"), "{body}");
    t.ok(&["rm", "-f", "web"]);
    assert_eq!(t.leftovers(), Vec::<String>::new());
}

#[test]
fn publish_all_udp_and_a_taken_port() {
    let t = NetTest::new();
    let hostns = t.ns_path(&t.host);
    t.run(&["-d", "--name", "web", "-P", "--expose", "80"], HTTPD);
    let mapped = t.ok(&["port", "web", "80/tcp"]);
    let port = mapped.trim().rsplit(':').next().unwrap().to_string();
    assert!(port.parse::<u16>().unwrap() > 0, "{mapped}");
    let body = http_get(
        hostns.clone(),
        format!("127.0.0.1:{port}"),
        Duration::from_secs(10),
    )
    .unwrap();
    assert!(body.contains("hello from berth"), "{body}");

    // A host port in use is refused, and the failed start holds nothing.
    let out = t.run(
        &["-d", "--name", "second", "-p", &format!("{port}:80")],
        HTTPD,
    );
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert!(
        err.contains(port.as_str()) && err.contains("already allocated"),
        "{err}"
    );
    let inspect = t.ok(&["network", "inspect", "-f", "{{len .Containers}}", "bridge"]);
    assert_eq!(
        inspect.trim(),
        "1",
        "only the first container holds an address"
    );

    run_udp_echo(&t, &["--name", "udp", "-p", "5353:53/udp"]);
    let answer = udp_echo(hostns, "127.0.0.1:5353".into(), "ping").expect("udp echo");
    assert_eq!(answer, "ping");
    t.ok(&["rm", "-f", "web", "second", "udp"]);
    assert_eq!(t.leftovers(), Vec::<String>::new());
}

/// A UDP client that goes on sending to a published port from the same source port keeps its
/// tracked flow; when the container goes, its flows go too, so the container that publishes the
/// port next gets the client's packets (docker flushes them the same way).
#[test]
fn a_new_container_on_a_published_udp_port_gets_the_ongoing_flow() {
    let t = NetTest::new();
    let peerns = t.ns_path(&t.peer);
    t.ok(&["network", "create", "--subnet", "10.83.0.0/24", "udpnet"]);
    let echo = |name: &str, ip: &str| {
        let flags = [
            "--name",
            name,
            "--network",
            "udpnet",
            "--ip",
            ip,
            "-p",
            "5400:53/udp",
        ];
        let out = run_udp_echo(&t, &flags);
        assert!(out.status.success(), "{}", stderr(&out));
    };
    let target = format!("{HOST_IP}:5400");
    echo("first", "10.83.0.10");
    let answer = udp_echo_from(peerns.clone(), 41000, target.clone(), "ping").expect("first echo");
    assert_eq!(answer, "ping");
    t.ok(&["rm", "-f", "first"]);
    echo("second", "10.83.0.11");
    // The same client flow (same source port) as before, a moment later.
    let answer = udp_echo_from(peerns, 41000, target, "ping")
        .expect("the ongoing flow reaches the container that publishes the port now");
    assert_eq!(answer, "ping");
    t.ok(&["rm", "-f", "second"]);
    t.ok(&["network", "rm", "udpnet"]);
    assert_eq!(t.leftovers(), Vec::<String>::new());
}

/// Starts `-d` the UDP echo server on port 53 of a container (this test binary, run with the
/// host's /usr; see `udp_echo_server`), with `flags` added.
fn run_udp_echo(t: &NetTest, flags: &[&str]) -> std::process::Output {
    let exe = std::env::current_exe().unwrap();
    let exe = format!("{}:/echo:ro", exe.to_string_lossy());
    let mut all = vec![
        "-d",
        "-e",
        "BERTH_UDP_ECHO=53",
        "-v",
        "/usr:/usr:ro",
        "-v",
        &exe,
    ];
    all.extend_from_slice(flags);
    t.run(
        &all,
        &[
            "/echo",
            "--ignored",
            "--exact",
            "udp_echo_server",
            "--nocapture",
        ],
    )
}

/// Not a test of its own: the UDP echo server `publish_all_udp_and_a_taken_port` runs inside a
/// container (it does nothing unless `BERTH_UDP_ECHO` names a port).
#[test]
#[ignore = "run inside a container by publish_all_udp_and_a_taken_port"]
fn udp_echo_server() {
    let Ok(port) = std::env::var("BERTH_UDP_ECHO") else {
        return;
    };
    let s = std::net::UdpSocket::bind(("0.0.0.0", port.parse::<u16>().unwrap())).unwrap();
    let mut buf = [0u8; 512];
    loop {
        if let Ok((n, from)) = s.recv_from(&mut buf) {
            let _ = s.send_to(&buf[..n], from);
        }
    }
}

#[test]
fn user_network_names_aliases_connect_disconnect_and_internal() {
    let t = NetTest::new();
    t.ok(&["network", "create", "--label", "team=a", "backend"]);
    let ls = t.ok(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
    assert!(
        ls.contains("backend bridge") && ls.contains("bridge bridge"),
        "{ls}"
    );
    let custom = t.ok(&[
        "network",
        "ls",
        "-f",
        "type=custom",
        "--format",
        "{{.Name}}",
    ]);
    assert_eq!(custom, "backend\n");
    t.run(
        &[
            "-d",
            "--name",
            "db",
            "--network",
            "backend",
            "--network-alias",
            "database",
        ],
        &["sleep", "300"],
    );
    // Name and alias resolve on the network, and the container is reachable by them.
    let out = t.run(
        &["--rm", "--network", "backend"],
        &["sh", "-c", "ping -c1 -W2 db && ping -c1 -W2 database"],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    // Live connect: a container on the default bridge joins backend under an alias.
    t.run(&["-d", "--name", "app"], &["sleep", "300"]);
    t.ok(&["network", "connect", "--alias", "api", "backend", "app"]);
    let out = t.berth(&["exec", "app", "ping", "-c1", "-W2", "db"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let out = t.run(&["--rm", "--network", "backend"], &["nslookup", "api"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let nets = t.ok(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", "app"]);
    let nets: serde_json::Value = serde_json::from_str(&nets).unwrap();
    assert!(nets["bridge"]["IPAddress"]
        .as_str()
        .unwrap()
        .starts_with("172.17."));
    assert!(nets["backend"]["IPAddress"]
        .as_str()
        .unwrap()
        .starts_with("172.18."));
    assert_eq!(nets["backend"]["Aliases"][0], "api");
    // Disconnect: the interface and the name go.
    t.ok(&["network", "disconnect", "backend", "app"]);
    let addrs = t.ok(&["exec", "app", "ip", "-o", "-4", "addr"]);
    assert!(!addrs.contains("eth1"), "{addrs}");
    let out = t.run(&["--rm", "--network", "backend"], &["nslookup", "api"]);
    assert!(
        !out.status.success(),
        "api still resolves: {}",
        stdout(&out)
    );
    // A container that leaves stops resolving.
    t.ok(&["stop", "-t", "0", "db"]);
    let out = t.run(&["--rm", "--network", "backend"], &["nslookup", "db"]);
    assert!(!out.status.success(), "db still resolves: {}", stdout(&out));
    // A network in use is not removed; a free one is.
    t.ok(&["start", "db"]);
    let out = t.berth(&["network", "rm", "backend"]);
    assert!(
        stderr(&out).contains("active endpoints"),
        "{}",
        stderr(&out)
    );
    // --internal: no route out, no masquerading.
    t.ok(&[
        "network",
        "create",
        "--internal",
        "--subnet",
        "10.77.0.0/24",
        "sealed",
    ]);
    let out = t.run(&["--rm", "--network", "sealed"], &["ip", "route"]);
    let routes = stdout(&out);
    assert!(
        routes.contains("10.77.0.0/24") && !routes.contains("default"),
        "{routes}"
    );
    let bad = t.berth(&["network", "create", "--subnet", "10.77.0.0/16", "overlap"]);
    assert!(stderr(&bad).contains("overlaps"), "{}", stderr(&bad));
    t.ok(&["rm", "-f", "db", "app"]);
    let pruned = t.ok(&["network", "prune", "-f"]);
    assert!(
        pruned.contains("backend") && pruned.contains("sealed"),
        "{pruned}"
    );
    assert_eq!(t.leftovers(), Vec::<String>::new());
}

/// Networks are isolated from each other, as docker's are: a container on one network does
/// not reach another network's containers by address, but does reach a port they publish on
/// the host; within a network, and through the host back into it (hairpin), all is reachable.
#[test]
fn networks_are_isolated_but_published_ports_cross() {
    let t = NetTest::new();
    t.ok(&["network", "create", "--subnet", "10.81.0.0/24", "front"]);
    t.ok(&["network", "create", "--subnet", "10.82.0.0/24", "back"]);
    t.run(
        &["-d", "--name", "web", "--network", "back", "-p", "8000:80"],
        HTTPD,
    );
    let ip = t.ok(&[
        "inspect",
        "-f",
        "{{.NetworkSettings.Networks.back.IPAddress}}",
        "web",
    ]);
    let ip = ip.trim();
    assert!(ip.starts_with("10.82.0."), "{ip}");
    let fetch = |net: &str, url: &str| {
        let out = t.run(
            &["--rm", "--network", net],
            &[
                "sh",
                "-c",
                &format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {url}"),
            ],
        );
        let text = stdout(&out) + &stderr(&out);
        (text.contains("hello from berth"), text)
    };
    let direct = format!("{ip} 80");
    // The server is up once its own network reaches it.
    let out = t.run(
        &["--rm", "--network", "back"],
        &[
            "sh",
            "-c",
            &format!("for i in $(seq 40); do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {direct} | grep -q hello && exit 0; sleep 0.25; done; exit 1"),
        ],
    );
    assert!(out.status.success(), "web never answered: {}", stderr(&out));
    let (ok, text) = fetch("back", &direct);
    assert!(
        ok && text.contains("hello from berth"),
        "same network: {text}"
    );
    let (ok, text) = fetch("back", "10.82.0.1 8000");
    assert!(ok && text.contains("hello from berth"), "hairpin: {text}");
    let (ok, text) = fetch("front", &direct);
    assert!(!ok, "another network reached web by address: {text}");
    let (ok, text) = fetch("bridge", &direct);
    assert!(!ok, "the default bridge reached web by address: {text}");
    let (ok, text) = fetch("front", "10.81.0.1 8000");
    assert!(
        ok && text.contains("hello from berth"),
        "the published port from another network: {text}"
    );
    t.ok(&["rm", "-f", "web"]);
    t.ok(&["network", "rm", "front", "back"]);
    assert_eq!(t.leftovers(), Vec::<String>::new());
}

#[test]
fn links_and_container_network_mode() {
    let t = NetTest::new();
    let hostns = t.ns_path(&t.host);
    t.run(&["-d", "--name", "web", "--expose", "80"], HTTPD);
    let out = t.run(
        &["--rm", "--link", "web:site"],
        &[
            "sh",
            "-c",
            "env | sort; cat /etc/hosts; wget -q -O - http://site/",
        ],
    );
    let text = stdout(&out);
    assert!(text.contains("SITE_PORT_80_TCP_PORT=80"), "{text}");
    assert!(text.contains("SITE_PORT_80_TCP_PROTO=tcp"), "{text}");
    assert!(text.contains("SITE_NAME=/"), "{text}");
    assert!(text.contains("SITE_PORT=tcp://172.17."), "{text}");
    assert!(text.contains("hello from berth"), "{text}{}", stderr(&out));
    // container:C shares web's namespace: its loopback reaches web's server.
    let out = t.run(
        &["--rm", "--network", "container:web"],
        &["wget", "-q", "-O", "-", "http://127.0.0.1/"],
    );
    assert!(
        stdout(&out).contains("hello from berth"),
        "{}",
        stderr(&out)
    );
    let bad = t.run(
        &["--rm", "--network", "container:web", "-p", "81:80"],
        &["true"],
    );
    assert_eq!(bad.status.code(), Some(125));
    assert!(
        stderr(&bad).contains("conflicting options"),
        "{}",
        stderr(&bad)
    );
    drop(hostns);
    // web stops while a container still shares its namespace: web's veth goes all the same.
    t.run(
        &["-d", "--name", "joiner", "--network", "container:web"],
        &["sleep", "300"],
    );
    t.ok(&["stop", "-t", "1", "web"]);
    assert_eq!(t.leftovers(), Vec::<String>::new());
    t.ok(&["rm", "-f", "joiner", "web"]);
    assert_eq!(t.leftovers(), Vec::<String>::new());
}

/// The monitor of a running container killed with SIGKILL: the next berth command notices,
/// and tears the network down.
#[test]
fn a_killed_monitor_leaves_no_network_behind() {
    let t = NetTest::new();
    t.run(&["-d", "--name", "web", "-p", "8001:80"], HTTPD);
    let pid = t.ok(&["inspect", "-f", "{{.State.Pid}}", "web"]);
    let pid: i32 = pid.trim().parse().unwrap();
    // The container's parent is its monitor.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ppid: i32 = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(ppid), nix::sys::signal::SIGKILL).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let ps = t.ok(&["ps", "-a"]);
    assert!(ps.contains("Exited (255)"), "{ps}");
    assert_eq!(t.leftovers(), Vec::<String>::new());
    t.ok(&["rm", "web"]);
}

/// `run -d -p` killed at every stage of its start, then `rm -f`: no veth, rule, namespace,
/// lease or DNS server is left.
#[test]
fn interrupted_runs_leave_nothing() {
    let t = NetTest::new();
    t.ok(&["network", "create", "loopnet"]);
    let rootfs = t.rootfs().to_string_lossy().into_owned();
    for i in 0..10u64 {
        let net = if i % 2 == 0 { "bridge" } else { "loopnet" };
        let port = format!("{}:80", 8100 + i);
        let mut child = t
            .cmd()
            .args([
                "run",
                "-d",
                "--network",
                net,
                "-p",
                &port,
                "--rootfs",
                &rootfs,
            ])
            .args(HTTPD)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(15 + 35 * i));
        let _ = child.kill();
        let _ = child.wait();
    }
    // Let monitors that were already started finish starting.
    std::thread::sleep(Duration::from_millis(500));
    let ids = t.ok(&["ps", "-aq"]);
    for id in ids.lines() {
        t.ok(&["rm", "-f", id]);
    }
    assert_eq!(t.ok(&["ps", "-aq"]), "");
    assert_eq!(t.leftovers(), Vec::<String>::new());
}
