//! Frame render time in-process: the TUI's own `update` and `view` on a state loaded from the
//! benchmark's engine root (the container rows the engine lists, the chatty containers' real
//! log lines), drawn into ratatui's `TestBackend`: the containers list with its details, and
//! the merged logs of the chatty containers with new lines arriving every frame (plain, with
//! timestamps and a search highlight, and with a filter).

use std::time::Instant;

use berth::engine::logs::{self, LogOptions};
use berth::engine::Engine;
use berth::tui::app::App;
use berth::tui::config::Config;
use berth::tui::jobs::Backend;
use berth::tui::keymap::Keymap;
use berth::tui::logview::compile;
use berth::tui::model::{LogLine, Stream};
use berth::tui::msg::{Cmd, JobId, Msg, Output};
use berth::tui::theme::Theme;
use berth::tui::update::update;
use berth::tui::view::view;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::fixture::Fixture;
use crate::latency::summary;

/// (median, p99, max) in ms of each measured thing.
pub struct RenderStats {
    pub list: (f64, f64, f64),
    /// Merged logs: plain, with timestamps and a search highlight, with a filter that keeps one
    /// line in 100.
    pub logs: (f64, f64, f64),
    pub logs_search: (f64, f64, f64),
    pub logs_filter: (f64, f64, f64),
    /// `update` of one frame's worth of new lines (plain case).
    pub update: (f64, f64, f64),
    pub rows: usize,
    pub lines_per_frame: usize,
}

type Pool = Vec<(JobId, LogLine)>;

/// Draws `frames` frames of the logs, `per_frame` new lines (cycled from `pool`, stamped now)
/// arriving before each; returns the update and draw times in ms.
fn log_frames(
    app: &mut App,
    term: &mut Terminal<TestBackend>,
    pool: &Pool,
    next: &mut usize,
    frames: usize,
    per_frame: usize,
) -> (Vec<f64>, Vec<f64>) {
    let (mut upd, mut draw) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
    for _ in 0..frames {
        let now = chrono::Utc::now();
        let mut batches: Vec<(JobId, Vec<LogLine>)> = Vec::new();
        for _ in 0..per_frame {
            let (job, line) = &pool[*next % pool.len()];
            *next += 1;
            let line = LogLine {
                time: now,
                ..line.clone()
            };
            match batches.iter_mut().find(|(j, _)| j == job) {
                Some((_, b)) => b.push(line),
                None => batches.push((*job, vec![line])),
            }
        }
        upd.push(timed(|| {
            for (job, b) in batches {
                update(app, Msg::Job(job, Output::LogLines(b)));
            }
        }));
        draw.push(timed(|| {
            term.draw(|f| view(app, f)).expect("draw");
        }));
    }
    (upd, draw)
}

fn key(app: &mut App, code: KeyCode) -> Vec<Cmd> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn timed(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1000.0
}

pub fn bench(fx: &Fixture, size: (u16, u16), frames: usize, lines_per_frame: usize) -> RenderStats {
    let engine = Engine::open(&fx.root.path()).expect("open the engine root");
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let rows = rt
        .block_on(Backend::containers(&engine))
        .unwrap_or_else(|e| panic!("list containers: {e}"));
    let n_rows = rows.len();
    let config = Config {
        keymap: Keymap::default(),
        theme: Theme::default(),
        mouse: false,
    };
    let root = fx.root.path().display().to_string();
    let mut app = App::new(config, root, chrono::Utc::now());
    update(&mut app, Msg::Resize(size.0, size.1));
    app.init();
    let job = app.containers_job;
    update(&mut app, Msg::Job(job, Output::Containers(Ok(rows))));
    let mut term = Terminal::new(TestBackend::new(size.0, size.1)).expect("test terminal");

    let mut list = Vec::with_capacity(frames);
    for _ in 0..frames {
        update(&mut app, Msg::Tick(chrono::Utc::now()));
        list.push(timed(|| {
            term.draw(|f| view(&app, f)).expect("draw");
        }));
    }

    // Mark the chatty containers and open their merged logs, as a user would.
    key(&mut app, KeyCode::Char('/'));
    for c in "chatty".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('*'));
    let follows: Vec<(JobId, String)> = key(&mut app, KeyCode::Enter)
        .into_iter()
        .filter_map(|c| match c {
            Cmd::FollowLogs { job, container, .. } => Some((job, container)),
            _ => None,
        })
        .collect();
    assert_eq!(
        follows.len(),
        fx.chatty.len(),
        "opening the marked chatty containers follows each of them"
    );
    // Their real lines fill the buffers; new frames cycle through them with fresh times.
    let mut pool: Pool = Vec::new();
    for (job, id) in &follows {
        let entries = logs::read_all(&fx.log_path(id), LogOptions::default())
            .unwrap_or_else(|e| panic!("read the log of {id}: {e}"));
        let lines: Vec<LogLine> = entries
            .into_iter()
            .map(|e| LogLine {
                time: e.time,
                stream: Stream::Stdout,
                container: id.clone(),
                text: e.line.trim_end().to_string(),
            })
            .collect();
        pool.extend(lines.iter().rev().take(2000).map(|l| (*job, l.clone())));
        update(&mut app, Msg::Job(*job, Output::LogLines(lines)));
    }
    assert!(!pool.is_empty(), "the chatty containers logged nothing");

    let mut next = 0;
    let (mut upd, mut logs) = log_frames(
        &mut app,
        &mut term,
        &pool,
        &mut next,
        frames,
        lines_per_frame,
    );
    app.logs.timestamps = true;
    app.logs.search_re = compile("amet");
    let (_, mut logs_search) = log_frames(
        &mut app,
        &mut term,
        &pool,
        &mut next,
        frames,
        lines_per_frame,
    );
    app.logs.timestamps = false;
    app.logs.search_re = None;
    app.logs.filter_re = compile(r"@@c\d+:\d*00;");
    let (_, mut logs_filter) = log_frames(
        &mut app,
        &mut term,
        &pool,
        &mut next,
        frames,
        lines_per_frame,
    );
    RenderStats {
        list: summary(&mut list),
        logs: summary(&mut logs),
        logs_search: summary(&mut logs_search),
        logs_filter: summary(&mut logs_filter),
        update: summary(&mut upd),
        rows: n_rows,
        lines_per_frame,
    }
}
