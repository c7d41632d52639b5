//! Network namespaces for the networking tests. [`NetTest`] makes two namespaces with
//! `ip netns add`: `host`, where berth runs (every berth command goes through `nsenter --net`),
//! and `peer`, "another host", joined to it by a veth pair (192.0.2.1 on the host side,
//! 192.0.2.2 on the peer's). Nothing is added to the machine's own namespace. Drop removes the
//! containers and networks, then deletes both namespaces (and with them every bridge, veth and
//! firewall rule made inside), and the root's runtime directory.

#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");
pub const HOST_IP: &str = "192.0.2.1";
pub const PEER_IP: &str = "192.0.2.2";

fn sh(args: &[&str]) -> Output {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("run a command")
}

fn must(args: &[&str]) {
    let o = sh(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

pub struct NetTest {
    pub dir: tempfile::TempDir,
    pub host: String,
    pub peer: String,
}

impl NetTest {
    pub fn new() -> NetTest {
        assert!(nix::unistd::geteuid().is_root(), "network tests need root");
        let dir = tempfile::Builder::new()
            .prefix("berth-net-")
            .tempdir()
            .expect("temp dir");
        let tag: String = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .chars()
            .rev()
            .take(6)
            .collect();
        let host = format!("berth-test-{tag}");
        let peer = format!("berth-peer-{tag}");
        let t = NetTest { dir, host, peer };
        must(&["ip", "netns", "add", &t.host]);
        must(&["ip", "netns", "add", &t.peer]);
        let (h, p) = (t.host.as_str(), t.peer.as_str());
        must(&["ip", "-n", h, "link", "set", "lo", "up"]);
        must(&["ip", "-n", p, "link", "set", "lo", "up"]);
        must(&[
            "ip", "-n", h, "link", "add", "vhost", "type", "veth", "peer", "name", "vpeer",
            "netns", p,
        ]);
        must(&[
            "ip",
            "-n",
            h,
            "addr",
            "add",
            &format!("{HOST_IP}/24"),
            "dev",
            "vhost",
        ]);
        must(&[
            "ip",
            "-n",
            p,
            "addr",
            "add",
            &format!("{PEER_IP}/24"),
            "dev",
            "vpeer",
        ]);
        must(&["ip", "-n", h, "link", "set", "vhost", "up"]);
        must(&["ip", "-n", p, "link", "set", "vpeer", "up"]);
        // The peer reaches the containers' networks through the berth host.
        must(&["ip", "-n", p, "route", "add", "default", "via", HOST_IP]);
        std::fs::create_dir(t.root()).unwrap();
        t
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn ns_path(&self, name: &str) -> PathBuf {
        Path::new("/run/netns").join(name)
    }

    /// `berth --root R ARGS` inside the host namespace, the default network being `bridge`.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net={}", self.ns_path(&self.host).display()))
            .arg(BERTH)
            .arg("--root")
            .arg(self.root())
            .env("BERTH_DEFAULT_NETWORK", "bridge")
            .env_remove("BERTH_ROOT")
            .stdin(Stdio::null());
        c
    }

    pub fn berth(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run berth")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.berth(args);
        assert!(
            o.status.success(),
            "berth {args:?} failed ({:?}): {}{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Runs `args` (any program) in namespace `ns`.
    pub fn in_ns(&self, ns: &str, args: &[&str]) -> Output {
        Command::new("nsenter")
            .arg(format!("--net={}", self.ns_path(ns).display()))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run nsenter")
    }

    /// A busybox root filesystem, with `/usr` of the host mountable for glibc programs.
    pub fn rootfs(&self) -> PathBuf {
        let dir = self.dir.path().join("rootfs");
        if !dir.exists() {
            make_rootfs(&dir);
        }
        dir
    }

    /// `run --rootfs ROOTFS FLAGS… CMD…` (flags before the rootfs).
    pub fn run(&self, flags: &[&str], cmd: &[&str]) -> Output {
        let r = self.rootfs().to_string_lossy().into_owned();
        let mut args = vec!["run", "--rootfs"];
        args.extend_from_slice(flags);
        args.push(&r);
        args.extend_from_slice(cmd);
        self.berth(&args)
    }

    /// What the host namespace holds that a container could leak: links other than lo, the
    /// test's veth and the bridges of existing networks, NAT/filter rules naming a container
    /// address or port, published ports in berth's nftables table or bridges of networks that
    /// are gone, mounted namespaces
    /// under the root's runtime directory, leases in the state database.
    pub fn leftovers(&self) -> Vec<String> {
        let mut out = Vec::new();
        // The bridges of the networks that exist stay, as docker's do.
        let bridges = self.bridges();
        // The kernel deletes a veth pair with the container's namespace, a moment after it
        // goes: give it time.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let links = self.in_ns(&self.host, &["ip", "-o", "link", "show"]);
            let extra: Vec<String> = String::from_utf8_lossy(&links.stdout)
                .lines()
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
                .map(|n| n.split('@').next().unwrap_or("").to_string())
                .filter(|n| n != "lo" && n != "vhost" && !bridges.contains(n))
                .map(|n| format!("link {n}"))
                .collect();
            if extra.is_empty() || std::time::Instant::now() >= deadline {
                out.extend(extra);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        for table in ["nat", "filter"] {
            let rules = self.in_ns(&self.host, &["iptables-save", "-t", table]);
            for l in String::from_utf8_lossy(&rules.stdout).lines() {
                if l.starts_with("-A")
                    && (l.contains("--dport") || l.contains("-s 1") || l.contains("-d 1"))
                {
                    out.push(format!("rule {l}"));
                }
            }
        }
        // berth's own table: no published port, no bridge of a network that is gone.
        for map in ["anyports", "addrports"] {
            let m = self.in_ns(&self.host, &["nft", "list", "map", "ip", "berth", map]);
            for l in String::from_utf8_lossy(&m.stdout).lines() {
                if l.contains("elements") {
                    out.push(format!("nft {map}: {}", l.trim()));
                }
            }
        }
        let set = self.in_ns(
            &self.host,
            &["nft", "list", "set", "ip", "berth", "bridges"],
        );
        for l in String::from_utf8_lossy(&set.stdout).lines() {
            for name in l.split('"').skip(1).step_by(2) {
                if !bridges.iter().any(|b| b == name) {
                    out.push(format!("nft bridges: {name}"));
                }
            }
        }
        let layout = berth::engine::Layout::new(self.root());
        let netns_dir = berth::engine::network::netns::dir(&layout, "");
        if let Ok(entries) = std::fs::read_dir(&netns_dir) {
            for e in entries.flatten() {
                out.push(format!("netns {}", e.path().display()));
            }
        }
        let db = self.root().join("state.db");
        if db.exists() {
            let conn = rusqlite::Connection::open(&db).unwrap();
            for table in ["endpoints", "published_ports"] {
                let n: i64 = conn
                    .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                    .unwrap_or(0);
                if n > 0 {
                    out.push(format!("{n} rows in {table}"));
                }
            }
        }
        // berth ends aardvark-dns with a signal and does not wait for it: give it time to exit.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while aardvark_running(&self.root()) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        if aardvark_running(&self.root()) {
            out.push("aardvark-dns still running".into());
        }
        out
    }
}

impl NetTest {
    /// The bridge interfaces of the networks in the state database.
    pub fn bridges(&self) -> Vec<String> {
        let db = self.root().join("state.db");
        if !db.exists() {
            return Vec::new();
        }
        let conn = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = conn.prepare("SELECT record FROM networks").unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.flatten()
            .filter_map(|r| serde_json::from_str::<serde_json::Value>(&r).ok())
            .filter_map(|v| v["interface"].as_str().map(str::to_string))
            .collect()
    }
}

/// Whether an aardvark-dns of this root runs (its config dir is under the root's run dir).
fn aardvark_running(root: &Path) -> bool {
    let layout = berth::engine::Layout::new(root);
    let conf = berth::engine::network::dns::config_dir(&layout);
    let conf = conf.to_string_lossy().into_owned();
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains(&conf))
            .unwrap_or(false)
            && !std::fs::read_to_string(e.path().join("stat"))
                .unwrap_or_default()
                .contains(") Z")
    })
}

impl Drop for NetTest {
    fn drop(&mut self) {
        let ids = self.berth(&["ps", "-aq", "--no-trunc"]);
        for id in String::from_utf8_lossy(&ids.stdout).lines() {
            let _ = self.berth(&["rm", "-f", id]);
        }
        let _ = self.berth(&["network", "prune", "-f"]);
        if let Ok(mounts) = berth::engine::snapshot::mounts_under(&self.root()) {
            for m in mounts.iter().rev() {
                let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
            }
        }
        let layout = berth::engine::Layout::new(self.root());
        let run = berth::engine::container::cleanup::runtime_root(&layout, "");
        if let Ok(entries) = std::fs::read_dir(run.join("netns")) {
            for e in entries.flatten() {
                let _ = nix::mount::umount2(&e.path(), nix::mount::MntFlags::MNT_DETACH);
            }
        }
        let _ = std::fs::remove_dir_all(&run);
        let _ = sh(&["ip", "netns", "del", &self.host]);
        let _ = sh(&["ip", "netns", "del", &self.peer]);
    }
}

/// Writes a busybox rootfs with `lib`, `lib64` pointing into `usr` (for `-v /usr:/usr:ro`).
pub fn make_rootfs(dir: &Path) {
    for d in ["bin", "etc", "tmp", "root", "www", "usr"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", dir.join("bin/busybox")).expect("busybox-static installed");
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" && !applet.is_empty() {
            let _ = std::os::unix::fs::symlink("busybox", dir.join("bin").join(applet));
        }
    }
    std::os::unix::fs::symlink("usr/lib", dir.join("lib")).unwrap();
    std::os::unix::fs::symlink("usr/lib64", dir.join("lib64")).unwrap();
    std::fs::write(dir.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(dir.join("etc/group"), "root:x:0:\n").unwrap();
    std::fs::write(dir.join("www/index.html"), "hello from berth\n").unwrap();
}

/// Runs `f` on a thread inside namespace `path`.
pub fn on_ns<T: Send + 'static>(path: PathBuf, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        let ns = File::open(&path).expect("open netns");
        setns(&ns, CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .expect("thread in netns")
}

/// GET `/` from `addr` (`ip:port`) inside namespace `ns`, retried until `limit`; the body or
/// the last error.
pub fn http_get(ns: PathBuf, addr: String, limit: Duration) -> Result<String, String> {
    on_ns(ns, move || {
        let deadline = Instant::now() + limit;
        loop {
            let r = (|| -> std::io::Result<String> {
                let mut s =
                    TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(2))?;
                s.set_read_timeout(Some(Duration::from_secs(5)))?;
                write!(s, "GET / HTTP/1.0\r\nHost: x\r\n\r\n")?;
                let mut body = String::new();
                s.read_to_string(&mut body)?;
                Ok(body)
            })();
            match r {
                Ok(b) => return Ok(b),
                Err(e) if Instant::now() >= deadline => return Err(e.to_string()),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    })
}

/// Sends `msg` over UDP to `addr` inside `ns` and waits for the echo.
pub fn udp_echo(ns: PathBuf, addr: String, msg: &'static str) -> Result<String, String> {
    udp_echo_from(ns, 0, addr, msg)
}

/// [`udp_echo`] from source port `port` (0: any), up to 30 sends 300 ms apart: the same port
/// each time is the same tracked flow.
pub fn udp_echo_from(
    ns: PathBuf,
    port: u16,
    addr: String,
    msg: &'static str,
) -> Result<String, String> {
    on_ns(ns, move || {
        let s = UdpSocket::bind(("0.0.0.0", port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut buf = [0u8; 512];
        for _ in 0..30 {
            s.send_to(msg.as_bytes(), &addr)
                .map_err(|e| e.to_string())?;
            if let Ok((n, _)) = s.recv_from(&mut buf) {
                return Ok(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        Err("no answer".into())
    })
}

/// A TCP server in namespace `ns` on `addr` answering `reply` to every connection for `life`.
pub fn serve_tcp(ns: PathBuf, addr: &'static str, reply: &'static str, life: Duration) {
    std::thread::spawn(move || {
        let f = File::open(&ns).expect("open netns");
        setns(&f, CloneFlags::CLONE_NEWNET).expect("setns");
        let l = TcpListener::bind(addr).expect("bind in the peer namespace");
        l.set_nonblocking(true).unwrap();
        let end = Instant::now() + life;
        while Instant::now() < end {
            match l.accept() {
                Ok((mut s, _)) => {
                    let _ = s.write_all(reply.as_bytes());
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
