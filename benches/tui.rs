//! TUI benchmark: `cargo bench --bench tui` (root, tmux, busybox-static; see README).
//!
//! 1000 containers made by the engine (10 of them chatty: a busybox `sh` loop printing 500
//! marked lines a second each, 5,000 in all), the real `berth` binary in a private tmux server
//! at 160×48 with `BERTH_TUI_TRACE` set. Measures, on the real terminal:
//! - first frame: from releasing the pane's command (which then execs `berth`) to the first
//!   frame written, and to the first frame holding all 1000 containers;
//! - idle CPU and RSS on the containers list, nothing changing;
//! - with the 10 chatty containers marked and their merged logs open: the delay from a line's
//!   append to `log.json` (the monitor's CLOCK_REALTIME stamp) to the first frame showing it,
//!   the TUI's CPU and RSS, and its draw times;
//! - idle CPU again with the 10 (now stopped) containers still followed;
//! - in-process: `view` into a `TestBackend` on the same state (list, and merged logs with 165
//!   new lines a frame), median and p99.
//!
//! Prints a Markdown section for docs/benchmarks.md. Environment: `BENCH_IDLE_SECS` (10),
//! `BENCH_FLOOD_SECS` (25: long enough for the TUI's 10,000-line buffers to fill) and
//! `BENCH_CONTAINERS` (1000).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "tui/fixture.rs"]
mod fixture;
#[path = "tui/latency.rs"]
mod latency;
#[path = "tui/procstat.rs"]
mod procstat;
#[path = "tui/render.rs"]
mod render;
#[path = "tui/tmux.rs"]
mod tmux;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use berth::tui::trace::now_ns;
use fixture::Fixture;
use latency::{summary, Trace};
use tmux::Tmux;

const SIZE: (u16, u16) = (160, 48);
const CHATTY: usize = 10;
const RATE: u32 = 500;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Opens the FIFO the pane's command waits on (it blocks in `read` until then) and writes a
/// line; returns the wall clock just before the write.
fn release(fifo: &Path) -> u128 {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut f = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(fifo)
        {
            Ok(f) => break f,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("the tmux pane never opened {} ({e})", fifo.display()),
        }
    };
    let t0 = now_ns();
    f.write_all(b"go\n").expect("release the TUI");
    t0
}

/// Waits for the trace to show a frame with `containers` rows; returns the trace.
fn wait_loaded(trace: &Path, containers: usize, tmux: &Tmux) -> Trace {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let t = Trace::read(trace);
        if t.first_frame_with(containers).is_some() {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "the TUI did not show {containers} containers within a minute:\n{}",
            tmux.capture()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// After `q`: waits for the pane's process to end and returns how it ended; panics if it is
/// still running after 20 s, showing where its threads wait.
fn quit_status(tmux: &Tmux, pid: i32) -> String {
    let how = |code: i32, signal: i32| match (code, signal) {
        (0, 0) => "exited 0".to_string(),
        (c, 0) => format!("exited with status {c}"),
        (_, s) => format!("was killed by signal {s}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // Read the status from the zombie, or from tmux once it has reaped the process.
        if let Some(st) = procstat::zombie_status(pid) {
            return how((st >> 8) & 0xff, st & 0x7f);
        }
        let s = tmux.display("#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}");
        let f: Vec<i32> = s.split(':').map(|x| x.parse().unwrap_or(0)).collect();
        if f.first() == Some(&1) && !s.ends_with("::") {
            return how(f[1], f.get(2).copied().unwrap_or(0));
        }
        if Instant::now() > deadline {
            panic!(
                "the TUI did not end within 20 s of q (tmux: {s:?}; process: {}):\n{}",
                procstat::where_stuck(pid),
                tmux.capture()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ms(later: u128, earlier: u128) -> f64 {
    (later as f64 - earlier as f64) / 1e6
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

fn main() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the TUI benchmark needs root (it runs containers)"
    );
    let total = env_num("BENCH_CONTAINERS", 1000) as usize;
    assert!(
        total >= CHATTY,
        "BENCH_CONTAINERS={total} is too few: the benchmark needs at least the {CHATTY} chatty ones"
    );
    let idle_secs = env_num("BENCH_IDLE_SECS", 10);
    let flood_secs = env_num("BENCH_FLOOD_SECS", 25);
    let load_start = procstat::load();
    eprintln!("creating {total} containers ({CHATTY} chatty)…");
    let fx = Fixture::build(total, CHATTY, RATE);
    eprintln!("created in {:.1} s", fx.created_in.as_secs_f64());

    let base = fx.root.base().to_path_buf();
    let (trace_path, fifo, launch) = (base.join("trace"), base.join("go"), base.join("launch.sh"));
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .expect("make the start FIFO");
    let script = format!(
        "read _ < '{}'\nexec env -u NO_COLOR HOME='{}' XDG_CONFIG_HOME='{}' BERTH_TUI_TRACE='{}' '{}' --root '{}'\n",
        fifo.display(),
        fx.root.home().display(),
        fx.root.config_home().display(),
        trace_path.display(),
        common::testroot::BERTH,
        fx.root.path().display()
    );
    std::fs::write(&launch, script).expect("write the launch script");
    let tmux = Tmux::start(SIZE.0, SIZE.1, &format!("exec sh '{}'", launch.display()));

    // First frame.
    let t0 = release(&fifo);
    let trace = wait_loaded(&trace_path, total, &tmux);
    let pid = tmux.pane_pid();
    assert_eq!(procstat::comm(pid), "berth", "the pane runs berth itself");
    tmux.wait_for("idle-", Duration::from_secs(10));
    let loop_start = trace.loop_ns.map_or(0.0, |l| ms(l, t0));
    let first = ms(trace.frames[0].0, t0);
    let loaded = trace.first_frame_with(total).map_or(0.0, |f| ms(f, t0));

    // Idle on the list.
    std::thread::sleep(Duration::from_secs(3));
    eprintln!("idle CPU over {idle_secs} s…");
    let idle_cpu = procstat::cpu_percent(pid, Duration::from_secs(idle_secs));
    let (idle_rss, _) = procstat::rss_kib(pid);

    // Follow the chatty containers in the merged view.
    fx.start_chatty();
    tmux.keys(&["/"]);
    tmux.type_text("chatty");
    tmux.keys(&["Enter", "*", "Enter"]);
    let last = &fx.chatty[CHATTY - 1].tag;
    tmux.wait_for(&format!("@@{last}:"), Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(2));
    eprintln!("following {CHATTY} chatty containers over {flood_secs} s…");
    let from = now_ns();
    let flood_cpu = procstat::cpu_percent(pid, Duration::from_secs(flood_secs));
    let to = now_ns();
    let (flood_rss, _) = procstat::rss_kib(pid);
    let screen = tmux.capture();
    std::thread::sleep(Duration::from_millis(500));

    // Idle again, still following the stopped containers.
    fx.kill_chatty();
    std::thread::sleep(Duration::from_secs(3));
    eprintln!("idle CPU with {CHATTY} follows over {idle_secs} s…");
    let follow_idle_cpu = procstat::cpu_percent(pid, Duration::from_secs(idle_secs));
    let (_, peak_rss) = procstat::rss_kib(pid);

    tmux.keys(&["q"]);
    let exit = quit_status(&tmux, pid);
    drop(tmux);

    // Delays.
    let trace = Trace::read(&trace_path);
    let logs: Vec<(String, Vec<(u64, u128)>)> = fx
        .chatty
        .iter()
        .map(|c| {
            (
                c.tag.clone(),
                latency::appended(&fx.log_path(&c.id), &c.tag),
            )
        })
        .collect();
    let latency::Delays {
        appended,
        mut drawn,
        mut stale,
    } = latency::delays(&logs, &trace, from, to);
    let shown = drawn.len();
    // Lines each chatty container had written when the RSS was read (the TUI keeps 10,000).
    let least = logs
        .iter()
        .map(|(_, l)| l.iter().filter(|x| x.1 < to).count())
        .min()
        .unwrap_or(0);
    let window = ms(to, from) / 1000.0;
    let rate = appended as f64 / window;
    let (d50, d99, dmax) = summary(&mut drawn);
    let (f50, f99, fmax) = summary(&mut stale);
    let mut draws: Vec<f64> = trace
        .frames
        .iter()
        .filter(|f| f.0 >= from && f.0 < to)
        .map(|f| f.1 as f64 / 1e6)
        .collect();
    let fps = draws.len() as f64 / window;
    let (r50, r99, rmax) = summary(&mut draws);

    eprintln!("render benchmark (in-process)…");
    let r = render::bench(&fx, SIZE, 300, (5000.0 / fps.max(1.0)) as usize);
    let load_end = procstat::load();

    println!("## TUI\n");
    println!(
        "`cargo bench --bench tui` on {}; load average {load_start:.1} at the start and \
         {load_end:.1} at the end (other work shared the machine). {total} containers created \
         through the engine (`container::create` on a busybox rootfs) in {:.1} s; {CHATTY} of \
         them running a busybox `sh` loop printing {RATE} lines/s each; the real `berth` binary \
         in tmux at {}×{}.\n",
        procstat::machine(),
        fx.created_in.as_secs_f64(),
        SIZE.0,
        SIZE.1
    );
    println!("| Measure | Result | Target |");
    println!("|---|---|---|");
    println!("| First frame (exec → first frame written) | {first:.1} ms (event loop up at {loop_start:.1} ms) | ≤ 100 ms: {} |", verdict(first <= 100.0));
    println!(
        "| First frame listing all {total} containers | {loaded:.1} ms | ≤ 50 ms: {} |",
        verdict(loaded <= 50.0)
    );
    println!(
        "| Idle CPU, containers list ({idle_secs} s) | {idle_cpu:.2} % of one core | ≤ 1 %: {} |",
        verdict(idle_cpu <= 1.0)
    );
    println!("| Idle CPU, following {CHATTY} stopped containers ({idle_secs} s) | {follow_idle_cpu:.2} % | ≤ 0.3 %: {} |", verdict(follow_idle_cpu <= 0.3));
    println!("| RSS idle / following at {rate:.0} lines/s / peak | {:.1} / {:.1} / {:.1} MiB (peak {:.1} MB); each followed container had written ≥ {least} lines (buffers keep 10,000) | ≤ 30 MB: {} |", mib(idle_rss), mib(flood_rss), mib(peak_rss), peak_rss as f64 * 1024.0 / 1e6, verdict(peak_rss as f64 * 1024.0 <= 30e6));
    println!("| CPU following {CHATTY} containers at {rate:.0} lines/s | {flood_cpu:.1} % of one core | |");
    println!("| Log delay, append → first drawn (lines drawn) | median {d50:.1} ms, p99 {d99:.1} ms, max {dmax:.1} ms ({shown} of {appended} lines were ever on screen) | ≤ 100 ms: {} |", verdict(d99 <= 100.0));
    println!("| Screen lag, append → first frame showing it or a newer line (every line) | median {f50:.1} ms, p99 {f99:.1} ms, max {fmax:.1} ms | |");
    println!("| Frames while following | {fps:.1} frames/s; `Terminal::draw` to the tmux pty median {r50:.2} ms, p99 {r99:.2} ms, max {rmax:.2} ms | |");
    println!(
        "| `view` into TestBackend, containers list ({} rows) | median {:.2} ms, p99 {:.2} ms | |",
        r.rows, r.list.0, r.list.1
    );
    println!(
        "| `view` into TestBackend, merged logs of {CHATTY} | median {:.2} ms, p99 {:.2} ms | |",
        r.logs.0, r.logs.1
    );
    println!(
        "| … with timestamps and a search highlight | median {:.2} ms, p99 {:.2} ms | |",
        r.logs_search.0, r.logs_search.1
    );
    println!(
        "| … with a filter keeping 1 line in 100 | median {:.2} ms, p99 {:.2} ms | |",
        r.logs_filter.0, r.logs_filter.1
    );
    println!(
        "| `update` of {} new log lines (one frame's worth) | median {:.2} ms, p99 {:.2} ms | |",
        r.lines_per_frame, r.update.0, r.update.1
    );
    println!(
        "\nOn `q` the TUI {exit}. The screen while following:\n\n```\n{}```",
        screen
    );
    drop(fx);
}
