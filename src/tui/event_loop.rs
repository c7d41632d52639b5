//! The loop: one `tokio::select!` over terminal input, engine events and job results (one
//! channel), a one-second tick and a frame deadline. Draws only when something changed, at
//! most once a frame, so a flood of log lines costs one draw per frame, and an idle TUI
//! wakes once a second.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::app::App;
use super::jobs::{self, Backend, Jobs};
use super::msg::{Cmd, Msg};
use super::terminal::Term;
use super::update::update;
use super::view::view;
use crate::engine::Engine;

/// Shortest time between two draws.
const FRAME: Duration = Duration::from_millis(33);

/// Runs the TUI on the real terminal until the user quits.
pub async fn run(engine: Engine, mut app: App) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel(256);
    let backend: Arc<dyn Backend> = Arc::new(engine.clone());
    let mut jobs = Jobs::new(backend, tx.clone());
    // The list the first screen waits for loads while the feeds and the terminal are set up.
    for cmd in app.start() {
        jobs.run(cmd);
    }
    jobs::start_feeds(&engine, tx);
    let mut term = Term::enter(app.mouse)?;
    let mut mouse_err = None;
    let result = {
        let mut term_op = |op: TermOp| {
            let done = match op {
                TermOp::Mouse(on) => term_mouse(on),
                TermOp::Clipboard(text) => {
                    use std::io::Write;
                    let mut out = io::stdout();
                    out.write_all(osc52(&text).as_bytes())
                        .and_then(|()| out.flush())
                }
            };
            if let Err(e) = done {
                mouse_err = Some(e);
            }
        };
        // The backend takes the size from resize events instead of asking the terminal at
        // every frame.
        let size = term.size.clone();
        let events = EventStream::new().inspect(move |ev| {
            if let Ok(Event::Resize(w, h)) = ev {
                size.set(*w, *h);
            }
        });
        let terminal = &mut term.terminal;
        drive(terminal, app, jobs, rx, events, &mut term_op).await
    };
    drop(term);
    result?;
    if let Some(e) = mouse_err {
        return Err(anyhow::anyhow!("cannot write to the terminal: {e}"));
    }
    Ok(())
}

/// What the loop asks of the real terminal, outside drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermOp {
    /// Mouse capture on or off.
    Mouse(bool),
    /// Text for the clipboard of the terminal (and, through it, of the user's machine).
    Clipboard(String),
}

/// The OSC 52 sequence that sets the clipboard to `text` (xterm, tmux with set-clipboard,
/// kitty, iTerm2, Windows Terminal, and over ssh).
pub fn osc52(text: &str) -> String {
    use base64::Engine as _;
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

fn term_mouse(on: bool) -> io::Result<()> {
    use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
    let mut out = io::stdout();
    if on {
        crossterm::execute!(out, EnableMouseCapture)
    } else {
        crossterm::execute!(out, DisableMouseCapture)
    }
}

/// The loop itself, over any terminal backend and event source (tests use `TestBackend` and
/// a channel). Returns the final state.
pub async fn drive<B, E>(
    terminal: &mut Terminal<B>,
    mut app: App,
    mut jobs: Jobs,
    mut rx: mpsc::Receiver<Msg>,
    mut events: E,
    term_op: &mut dyn FnMut(TermOp),
) -> anyhow::Result<App>
where
    B: ratatui::backend::Backend,
    E: Stream<Item = io::Result<Event>> + Unpin,
{
    let size = terminal.size()?;
    let mut cmds = update(&mut app, Msg::Resize(size.width, size.height));
    // Unless `run` started the loads already.
    if !app.rest_pending {
        cmds.extend(app.start());
    }
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut trace = super::trace::Trace::from_env()?;
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        for cmd in cmds.drain(..) {
            match cmd {
                Cmd::Quit => app.quit = true,
                Cmd::SetMouse(on) => term_op(TermOp::Mouse(on)),
                Cmd::Copy(text) => term_op(TermOp::Clipboard(text)),
                other => jobs.run(other),
            }
        }
        if app.quit {
            break;
        }
        let msg = tokio::select! {
            biased;
            _ = tokio::time::sleep_until(last_draw + FRAME), if dirty => {
                let started = trace.start();
                let done = terminal.draw(|f| view(&app, f))?;
                trace.frame(done.buffer, started, app.containers.items.len());
                dirty = false;
                last_draw = Instant::now();
                continue;
            }
            ev = events.next() => match ev {
                Some(Ok(ev)) => match to_msg(ev) {
                    Some(m) => m,
                    None => continue,
                },
                Some(Err(e)) => return Err(anyhow::anyhow!("cannot read the terminal: {e}")),
                None => break,
            },
            Some(msg) = rx.recv() => msg,
            _ = tick.tick() => Msg::Tick(chrono::Utc::now()),
        };
        let loading = !app.containers.loaded;
        cmds = update(&mut app, msg);
        dirty = true;
        if loading && app.containers.loaded {
            // The list everyone waits for at start: drawn at once, not a frame after the
            // "loading" one drawn a moment ago.
            last_draw = Instant::now() - FRAME;
        }
    }
    jobs.shutdown();
    Ok(app)
}

/// The message of a terminal event, if it is one we use.
fn to_msg(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
        Event::Mouse(m) => Some(Msg::Mouse(m)),
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}
