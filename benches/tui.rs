//! TUI benchmarks (figures in docs/benchmarks.md).
//!
//! `cargo bench --bench tui -- render`: in-process, a 200×50 frame with 1000 containers in the
//! list and 10 followed containers merged (10,000 lines each): frame render time, reducer
//! throughput for log lines, and the same frame with a filter on.
//! `cargo bench --bench tui -- live` (root): the real binary in tmux on a root with 1000
//! containers and 10 chatty ones writing ~5,000 lines/s in all: first frame, idle CPU and RSS,
//! CPU and RSS while following the 10 merged, and the delay from a line written to it shown.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

use berth::tui::app::{App, Pane};
use berth::tui::config::Config;
use berth::tui::keymap::Keymap;
use berth::tui::logview::compile;
use berth::tui::model::{ContainerRow, ContainerState, LogLine, Stream};
use berth::tui::msg::Msg;
use berth::tui::theme::Theme;
use berth::tui::update::update;
use chrono::{DateTime, Utc};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let which: Vec<&str> = if args.is_empty() {
        vec!["render", "live"]
    } else {
        args.iter().map(String::as_str).collect()
    };
    for w in which {
        match w {
            "render" => bench_render(),
            "live" => bench_live(),
            other => eprintln!("unknown benchmark {other}: use render or live"),
        }
    }
}

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn row(i: usize, now: DateTime<Utc>) -> ContainerRow {
    ContainerRow {
        id: format!("{i:064x}"),
        name: format!("container-{i:04}"),
        image: "busybox:latest".into(),
        state: if i.is_multiple_of(3) {
            ContainerState::Running
        } else {
            ContainerState::Exited
        },
        exit_code: (!i.is_multiple_of(3)).then_some((i % 2) as i32),
        created: now,
        started: Some(now),
        finished: None,
        ports: String::new(),
        command: "sh -c 'while :; do date; done'".into(),
    }
}

fn bench_render() {
    let now = Utc::now();
    let config = Config {
        keymap: Keymap::default(),
        theme: Theme::default(),
        mouse: true,
    };
    let mut app = App::new(config, "/var/lib/berth".into(), now);
    update(&mut app, Msg::Resize(200, 50));
    app.containers
        .set_items((0..1000).map(|i| row(i, now)).collect());
    let ids: Vec<String> = (0..10).map(|i| format!("{i:064x}")).collect();
    app.logs.targets = ids.clone();
    app.logs.timestamps = true;
    app.pane = Pane::Logs;
    let line = |c: usize, n: usize| LogLine {
        time: now + chrono::Duration::microseconds((n * 10 + c) as i64),
        stream: if n.is_multiple_of(7) {
            Stream::Stderr
        } else {
            Stream::Stdout
        },
        container: ids[c].clone(),
        text: if n.is_multiple_of(5) {
            format!(
                "\x1b[32mGET\x1b[0m /api/items/{n} \x1b[1;33m200\x1b[0m {}ms",
                n % 17
            )
        } else {
            format!("seq={n} the quick brown fox jumps over the lazy dog")
        },
    };
    for n in 0..10_000 {
        for c in 0..10 {
            app.logs.store.push(line(c, n));
        }
    }
    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
    let mut frame = |app: &App, rounds: usize| -> Vec<Duration> {
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                term.draw(|f| berth::tui::view::view(app, f)).expect("draw");
                t.elapsed()
            })
            .collect()
    };
    frame(&app, 20);
    let plain = frame(&app, 300);
    app.logs.search_re = compile("fox");
    let search = frame(&app, 300);
    app.logs.search_re = None;
    app.logs.filter_re = compile("seq=\\d*77 ");
    let filtered = frame(&app, 100);
    app.logs.filter_re = None;

    // Reducer: log lines in batches as the jobs deliver them.
    let mut job_app = app;
    let job = 1;
    job_app.logs.follows.insert(ids[0].clone(), job);
    let total = 200_000;
    let t = Instant::now();
    for b in 0..total / 100 {
        let lines = (0..100).map(|k| line(0, 10_000 + b * 100 + k)).collect();
        update(
            &mut job_app,
            Msg::Job(job, berth::tui::msg::Output::LogLines(lines)),
        );
    }
    let per_sec = total as f64 / t.elapsed().as_secs_f64();

    println!(
        "### TUI render (in-process, 200×50, 1000 containers, 10 merged logs × 10,000 lines)\n"
    );
    println!("| what | median | p95 |");
    println!("|---|---|---|");
    for (name, v) in [
        ("frame, merged logs with timestamps", plain),
        ("frame, with search highlight", search),
        ("frame, with a filter matching 1 line in 100", filtered),
    ] {
        println!(
            "| {name} | {} | {} |",
            ms(pct(v.clone(), 0.5)),
            ms(pct(v, 0.95))
        );
    }
    println!(
        "| reducer, log lines in batches of 100 | {:.1} M lines/s | |\n",
        per_sec / 1e6
    );
}

// ---- live ----------------------------------------------------------------------------------

struct Tmux(String);

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.0)
            .args(args)
            .output()
            .expect("tmux")
    }
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p"]).stdout).into_owned()
    }
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", k]);
            std::thread::sleep(Duration::from_millis(80));
        }
    }
    fn wait(&self, needle: &str, limit: Duration) -> Option<Duration> {
        let t = Instant::now();
        while t.elapsed() < limit {
            if self.screen().contains(needle) {
                return Some(t.elapsed());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// (user + system ticks, RSS kB) of `pid`.
fn usage(pid: &str) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    (ticks, rss)
}

/// CPU % of `pid` over `d`.
fn cpu(pid: &str, d: Duration) -> f64 {
    let (a, _) = usage(pid);
    std::thread::sleep(d);
    let (b, _) = usage(pid);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (b - a) as f64 / hz / d.as_secs_f64() * 100.0
}

fn bench_live() {
    let root = common::TestRoot::new();
    let dir = root.base().join("rootfs");
    std::fs::create_dir_all(&dir).expect("mkdir rootfs");
    tar::Archive::new(common::rootfs::base_tar())
        .unpack(&dir)
        .expect("unpack rootfs");
    let rootfs = dir.to_str().expect("utf-8 path").to_string();

    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..4 {
            let (root, rootfs) = (&root, &rootfs);
            s.spawn(move || {
                for i in (w..1000).step_by(4) {
                    root.berth_ok([
                        "create",
                        "--rootfs",
                        "--name",
                        &format!("idle-{i:04}"),
                        rootfs,
                        "true",
                    ]);
                }
            });
        }
    });
    eprintln!(
        "created 1000 containers in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let mut ids = HashMap::new();
    for c in 0..10 {
        let name = format!("chatty-{c}");
        let script = format!(
            "n=0; while :; do i=0; while [ $i -lt 50 ]; do echo \"seq=$n c{c} the quick brown fox jumps over the lazy dog\"; n=$((n+1)); i=$((i+1)); done; usleep 100000; done"
        );
        let id = root.berth_ok([
            "run", "-d", "--rootfs", "--name", &name, &rootfs, "sh", "-c", &script,
        ]);
        ids.insert(name, id.trim().to_string());
    }

    let tmux = Tmux(format!("berth-bench-{}", std::process::id()));
    let base = root.base().display().to_string();
    let start = Instant::now();
    tmux.run(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "200",
        "-y",
        "50",
        "env",
        &format!("HOME={base}/home"),
        &format!("XDG_CONFIG_HOME={base}/config"),
        common::testroot::BERTH,
        "--root",
        &format!("{base}/root"),
    ]);
    tmux.run(&["set", "-s", "escape-time", "0"]);
    let first = tmux
        .wait(" berth ", Duration::from_secs(10))
        .map(|_| start.elapsed());
    let listed = tmux.wait("Containers 1010", Duration::from_secs(30));
    let total_listed = start.elapsed();
    let pid = String::from_utf8_lossy(&tmux.run(&["display-message", "-p", "#{pane_pid}"]).stdout)
        .trim()
        .to_string();
    std::thread::sleep(Duration::from_secs(3));
    let idle_cpu = cpu(&pid, Duration::from_secs(10));
    let (_, idle_rss) = usage(&pid);

    tmux.keys(&["/", "c", "h", "a", "t", "t", "y", "Enter", "*", "Enter"]);
    tmux.wait("Logs chatty", Duration::from_secs(10));
    // ~490 lines/s each: 21 s fill the 10,000-line buffers.
    std::thread::sleep(Duration::from_secs(21));
    let follow_cpu = cpu(&pid, Duration::from_secs(10));
    let (_, follow_rss) = usage(&pid);

    // Delay: the newest line on screen against the time the monitor logged it.
    let re = regex::Regex::new(r"(chatty-\d)\s*│\s*seq=(\d+) ").expect("regex");
    let mut seen: Vec<(String, u64, SystemTime)> = Vec::new();
    for _ in 0..60 {
        let screen = tmux.screen();
        let at = SystemTime::now();
        if let Some(c) = screen.lines().rev().find_map(|l| re.captures(l)) {
            seen.push((c[1].to_string(), c[2].parse().unwrap_or(0), at));
        }
        std::thread::sleep(Duration::from_millis(97));
    }
    let mut times: HashMap<(String, u64), DateTime<Utc>> = HashMap::new();
    for (name, id) in &ids {
        let log = root.path().join("containers").join(id).join("log.json");
        for l in std::fs::read_to_string(&log).unwrap_or_default().lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
            let text = v["log"].as_str().unwrap_or("");
            if let (Some(seq), Some(time)) = (
                text.strip_prefix("seq=")
                    .and_then(|r| r.split(' ').next()?.parse::<u64>().ok()),
                v["time"]
                    .as_str()
                    .and_then(|t| t.parse::<DateTime<Utc>>().ok()),
            ) {
                times.insert((name.clone(), seq), time);
            }
        }
    }
    let written: usize = times.len();
    let delays: Vec<Duration> = seen
        .iter()
        .filter_map(|(name, seq, at)| {
            let t = times.get(&(name.clone(), *seq))?;
            let at: DateTime<Utc> = (*at).into();
            (at - *t).to_std().ok()
        })
        .collect();
    tmux.keys(&["q"]);

    println!("### TUI live (release binary in tmux 200×50, 1000 containers, 10 chatty followed)\n");
    println!("| what | figure | target |");
    println!("|---|---|---|");
    println!(
        "| first frame (spawn to header drawn) | {} | ≤ 100 ms |",
        first.map(ms).unwrap_or("-".into())
    );
    println!(
        "| spawn to the 1010 containers listed | {} | |",
        listed.map(|_| ms(total_listed)).unwrap_or("-".into())
    );
    println!("| idle CPU (10 s, list of 1010) | {idle_cpu:.2} % | ≤ 1 % |");
    println!("| idle RSS | {:.1} MB | |", idle_rss as f64 / 1024.0);
    println!("| CPU following 10 chatty containers | {follow_cpu:.1} % | |");
    println!(
        "| RSS following them (buffers full) | {:.1} MB | ≤ 40 MB |",
        follow_rss as f64 / 1024.0
    );
    if !delays.is_empty() {
        println!(
            "| log line written → on screen, median / p95 ({} samples) | {} / {} | ≤ 100 ms |",
            delays.len(),
            ms(pct(delays.clone(), 0.5)),
            ms(pct(delays, 0.95))
        );
    }
    println!("| log lines written by the chatty ones | {written} | |\n");
}
