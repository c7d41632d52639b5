//! `cargo bench --bench state`: the CLI on a store that has grown, side by side with podman and
//! docker (a private dockerd) in one run. Each tool creates `BENCH_CONTAINERS` (500) containers
//! of the same busybox image, one after another and interleaved between the tools, so the
//! machine's load hits all alike; the creates are timed in bands of 50 (the median of the first
//! band against the last shows whether a command gets slower as the store grows, as berth's did
//! while its WAL never started over). Then `BENCH_ROUNDS` (10) rounds, interleaved again, of
//! `ps -a`, `ps -aq`, `inspect` of one container and `create` + `rm` of one more, on the full
//! store. Containers are created, never started, all with `--network none`. Needs root; the
//! load average is printed with the figures.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::process::Command;
use std::time::Duration;

use common::TestRoot;
use support::*;

/// The tools measured: a name and how to make one of its commands.
struct Tool<'a> {
    name: &'static str,
    cmd: Box<dyn Fn() -> Command + 'a>,
}

impl Tool<'_> {
    fn run(&self, args: &[&str]) -> Duration {
        timed((self.cmd)().args(args))
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const BAND: usize = 50;

fn main() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the state benchmark needs root (it creates containers)"
    );
    let n = (env_num("BENCH_CONTAINERS", 500) as usize).max(2 * BAND);
    let rounds = rounds_or(10);
    let root = TestRoot::new();
    let (_reg, image) = common::pulled_busybox(&root);
    let docker = common::docker::dockerd_path().and_then(|_| common::docker::Dockerd::start());
    let berth_root = root.path();
    let mut tools = vec![Tool {
        name: "berth",
        cmd: Box::new(move || berth(&berth_root)),
    }];
    let podman_store = root.base().join("podman");
    let _unmount = PodmanStore(podman_store.clone());
    if have("podman") {
        timed(podman(&podman_store).args(["pull", "-q", "--tls-verify=false", &image]));
        let store = podman_store.clone();
        tools.push(Tool {
            name: "podman",
            cmd: Box::new(move || {
                let mut c = podman(&store);
                c.args(["--runtime", "runc"]);
                c
            }),
        });
    }
    if let Some(d) = &docker {
        d.docker_ok(["pull", "-q", &image]);
        tools.push(Tool {
            name: "docker",
            cmd: Box::new(move || d.cmd()),
        });
    }
    let load_before = loadavg();
    let create = |t: &Tool, name: &str| {
        t.run(&[
            "create",
            "--network",
            "none",
            "--name",
            name,
            &image,
            "sleep",
            "3600",
        ])
    };
    // bands[tool][band]: the create times of that band.
    let mut bands: Vec<Vec<Vec<Duration>>> = vec![vec![Vec::new(); n.div_ceil(BAND)]; tools.len()];
    eprintln!("creating {n} containers in each of {} tools…", tools.len());
    for i in 0..n {
        for (k, t) in tools.iter().enumerate() {
            bands[k][i / BAND].push(create(t, &format!("c{i:04}")));
        }
    }
    let middle = format!("c{:04}", n / 2);
    let ops: [(&str, Vec<&str>); 3] = [
        ("ps -a", vec!["ps", "-a"]),
        ("ps -aq", vec!["ps", "-aq"]),
        ("inspect", vec!["inspect", &middle]),
    ];
    let mut times: Vec<Vec<Vec<Duration>>> = vec![vec![Vec::new(); ops.len() + 1]; tools.len()];
    for r in 0..rounds {
        for (k, t) in tools.iter().enumerate() {
            for (o, (_, args)) in ops.iter().enumerate() {
                times[k][o].push(t.run(args));
            }
            let extra = format!("extra{r}");
            times[k][ops.len()].push(create(t, &extra) + t.run(&["rm", &extra]));
        }
    }
    let load_after = loadavg();

    println!("\n### The CLI on a store of {n} created containers\n");
    println!(
        "Load average before {load_before}, after {load_after}; medians of {rounds} rounds.\n"
    );
    let header: Vec<&str> = tools.iter().map(|t| t.name).collect();
    println!("| command | {} |", header.join(" | "));
    println!("|---|{}", "---|".repeat(tools.len()));
    let first = |k: usize| median(bands[k][0].clone());
    let last = |k: usize| median(bands[k][bands[k].len() - 1].clone());
    let cells = |f: &dyn Fn(usize) -> Duration| -> String {
        (0..tools.len())
            .map(|k| {
                let d = f(k);
                let ratio = d.as_secs_f64() / f(0).as_secs_f64();
                if k == 0 {
                    ms(d)
                } else {
                    format!("{} ({ratio:.1}×)", ms(d))
                }
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    println!("| `create`, containers 1–{BAND} | {} |", cells(&first));
    println!(
        "| `create`, containers {}–{n} | {} |",
        n - (n - 1) % BAND,
        cells(&last)
    );
    for (o, (label, _)) in ops.iter().enumerate() {
        println!(
            "| `{label}` | {} |",
            cells(&|k| median(times[k][o].clone()))
        );
    }
    println!(
        "| `create` + `rm` of one more | {} |",
        cells(&|k| median(times[k][ops.len()].clone()))
    );
    let growth = last(0).as_secs_f64() / first(0).as_secs_f64();
    println!(
        "\nberth's last band of creates against its first: {growth:.2}× (a store that grows should not slow a command down)."
    );
    // The containers go with the roots: berth's and podman's with the test root, docker's with
    // the private daemon's directory.
}
