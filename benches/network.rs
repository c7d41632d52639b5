//! Networking benchmarks, side by side in one run, all inside a private network namespace made
//! here (`ip netns add`), nothing in the machine's own:
//!
//! - bulk throughput (a 256 MB file over HTTP, busybox httpd in the container) and request rate
//!   (small GETs on sequential connections) through `-p` against the same server with
//!   `--network host`, and against podman's `-p` (netavark bridge);
//! - 30,000 sequential connections through `-p`, counting errors;
//! - `run --rm true` on the default bridge against `--network none`, and podman's bridge run.
//!
//! `cargo bench --bench network` (root; packages of `scripts/deps.sh bench`). Prints Markdown
//! tables for docs/benchmarks.md. `BENCH_ROUNDS` sets the run rounds (default 10),
//! `BENCH_CONNS` the connection count (default 30000).

#[path = "support.rs"]
mod support;
use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

use nix::sched::{setns, CloneFlags};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");
const BIG: u64 = 256 << 20;

struct Ns {
    name: String,
    dir: tempfile::TempDir,
}

impl Ns {
    fn new() -> Ns {
        let name = format!("berth-bench-{}", std::process::id());
        run(Command::new("ip").args(["netns", "add", &name]));
        run(Command::new("ip").args(["-n", &name, "link", "set", "lo", "up"]));
        Ns {
            name,
            dir: tempfile::Builder::new()
                .prefix("berth-netbench-")
                .tempdir()
                .unwrap(),
        }
    }
    fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }
    fn enter(&self, prog: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net={}", self.path().display())).arg(prog);
        c.stdin(Stdio::null());
        c
    }
    fn berth(&self) -> Command {
        let mut c = self.enter(BERTH);
        c.arg("--root").arg(self.dir.path().join("root"));
        c.env("BERTH_DEFAULT_NETWORK", "bridge");
        c
    }
    fn podman(&self) -> Command {
        let store = self.dir.path().join("podman");
        let mut c = self.enter("podman");
        c.arg("--root")
            .arg(store.join("storage"))
            .arg("--runroot")
            .arg(store.join("run"))
            .args([
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file",
                "--runtime",
                "runc",
            ]);
        c
    }
    /// `podman run` with limits inside this machine's hard limits (runc refuses podman's
    /// defaults here).
    fn podman_run(&self) -> Command {
        let mut c = self.podman();
        c.args([
            "run",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=4096:4096",
        ]);
        c
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = self.berth().args(["rm", "-f", "srv"]).output();
        let _ = self.podman().args(["rm", "-f", "-t", "0", "-a"]).output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn run(c: &mut Command) -> String {
    let out = c.output().expect("spawn");
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn rootfs(dir: &Path) -> PathBuf {
    let r = dir.join("rootfs");
    for d in ["bin", "etc", "www", "tmp"] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", r.join("bin/busybox")).unwrap();
    for a in ["sh", "httpd", "true", "sleep"] {
        let _ = std::os::unix::fs::symlink("busybox", r.join("bin").join(a));
    }
    std::fs::write(r.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(r.join("etc/group"), "root:x:0:\n").unwrap();
    std::fs::write(r.join("www/small"), "ok\n").unwrap();
    let f = File::create(r.join("www/big")).unwrap();
    f.set_len(BIG).unwrap();
    r
}

/// Runs `f` on a thread inside the namespace.
fn in_ns<T: Send + 'static>(ns: PathBuf, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        setns(File::open(ns).unwrap(), CloneFlags::CLONE_NEWNET).unwrap();
        f()
    })
    .join()
    .unwrap()
}

fn get(port: u16, path: &str, buf: &mut [u8]) -> std::io::Result<u64> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    write!(s, "GET /{path} HTTP/1.0\r\n\r\n")?;
    let mut n = 0u64;
    loop {
        match s.read(buf)? {
            0 => return Ok(n),
            k => n += k as u64,
        }
    }
}

fn wait_up(ns: PathBuf, port: u16) {
    in_ns(ns, move || {
        let mut buf = [0u8; 4096];
        for _ in 0..100 {
            if get(port, "small", &mut buf).is_ok_and(|n| n > 0) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("server on port {port} did not come up");
    })
}

/// (MB/s over 3 downloads of the big file, requests/s over `conns` sequential GETs, errors).
fn measure(ns: PathBuf, port: u16, conns: usize) -> (f64, f64, usize) {
    wait_up(ns.clone(), port);
    in_ns(ns, move || {
        let mut buf = vec![0u8; 1 << 20];
        // One untimed download first: whichever server comes first would otherwise pay for
        // filling the page cache with the file.
        get(port, "big", &mut buf).unwrap();
        let start = Instant::now();
        let mut bytes = 0;
        for _ in 0..3 {
            bytes += get(port, "big", &mut buf).unwrap();
        }
        let mbps = bytes as f64 / start.elapsed().as_secs_f64() / 1e6;
        let start = Instant::now();
        let mut errors = 0;
        for _ in 0..conns {
            if !get(port, "small", &mut buf).is_ok_and(|n| n > 0) {
                errors += 1;
            }
        }
        (mbps, conns as f64 / start.elapsed().as_secs_f64(), errors)
    })
}

fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let conns: usize = std::env::var("BENCH_CONNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000);
    let ns = Ns::new();
    let rf = rootfs(ns.dir.path());
    let rfs = rf.to_string_lossy().into_owned();
    let httpd = ["httpd", "-f", "-p", "80", "-h", "/www"];
    let mut rows = Vec::new();

    run(ns
        .berth()
        .args([
            "run", "-d", "--name", "srv", "-p", "8080:80", "--rootfs", &rfs,
        ])
        .args(httpd));
    rows.push(("berth -p", measure(ns.path(), 8080, conns)));
    run(ns.berth().args(["rm", "-f", "srv"]));
    run(ns
        .berth()
        .args([
            "run",
            "-d",
            "--name",
            "srv",
            "--network",
            "host",
            "--rootfs",
            &rfs,
        ])
        .args(["httpd", "-f", "-p", "8081", "-h", "/www"]));
    rows.push(("berth --network host", measure(ns.path(), 8081, conns)));
    run(ns.berth().args(["rm", "-f", "srv"]));
    let podman = have("podman");
    if podman {
        run(ns
            .podman_run()
            .args(["-d", "--name", "srv", "-p", "8082:80", "--rootfs", &rfs])
            .args(httpd));
        rows.push(("podman -p", measure(ns.path(), 8082, conns)));
        run(ns.podman().args(["rm", "-f", "-t", "0", "srv"]));
    }
    println!("\n### Through a published port, in a private network namespace\n");
    println!("| server | bulk MB/s | ratio to host | requests/s ({conns} sequential connections) | errors |");
    println!("|---|---|---|---|---|");
    let host = rows[1].1 .0;
    for (name, (mbps, rps, errors)) in &rows {
        println!(
            "| {name} | {mbps:.0} | {:.2} | {rps:.0} | {errors} |",
            mbps / host
        );
    }

    let mut bridge = Vec::new();
    let mut none = Vec::new();
    let mut pod = Vec::new();
    for _ in 0..rounds {
        bridge.push(timed(
            ns.berth().args(["run", "--rm", "--rootfs", &rfs, "true"]),
        ));
        none.push(timed(ns.berth().args([
            "run",
            "--rm",
            "--network",
            "none",
            "--rootfs",
            &rfs,
            "true",
        ])));
        if podman {
            pod.push(timed(
                ns.podman_run().args(["--rm", "--rootfs", &rfs, "true"]),
            ));
        }
    }
    let none_t = median(none).as_secs_f64();
    println!("\n### run --rm true, {rounds} rounds (median)\n");
    println!("| run | median | ratio to berth --network none |");
    println!("|---|---|---|");
    println!("| berth --network none | {:.1} ms | 1.00 |", none_t * 1e3);
    let b = median(bridge).as_secs_f64();
    println!("| berth (bridge) | {:.1} ms | {:.2} |", b * 1e3, b / none_t);
    if podman {
        let p = median(pod).as_secs_f64();
        println!(
            "| podman (bridge) | {:.1} ms | {:.2} |",
            p * 1e3,
            p / none_t
        );
    }
}
