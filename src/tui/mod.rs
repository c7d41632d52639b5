//! The terminal UI (Elm-style): `App` holds all state; input, engine events and job results
//! become `Msg`s; `update` is pure and returns `Cmd`s; `jobs` runs them against the engine
//! (the only module that calls it) and answers with more `Msg`s; `view` draws and does
//! nothing else. `event_loop` ties them together over one `tokio::select!`.

pub mod ansi;
pub mod app;
pub mod build_view;
pub mod config;
pub mod details;
pub mod disk_usage;
pub mod event_loop;
pub mod form;
pub mod format;
pub mod graphs;
pub mod input;
pub mod jobs;
mod jobs_build;
mod jobs_moves;
mod jobs_net;
mod jobs_system;
pub mod keymap;
mod keymap_default;
pub mod layers;
pub mod list;
pub mod logbuf;
pub mod logview;
pub mod memory;
pub mod messages;
pub mod model;
pub mod msg;
pub mod panes;
pub mod popup;
pub mod popups;
pub mod shell;
pub mod shell_stream;
pub mod terminal;
pub mod theme;
pub mod trace;
pub mod update;
mod update_actions;
mod update_build;
mod update_form;
mod update_keys;
mod update_layers;
mod update_logs;
mod update_moves;
mod update_popup;
pub(crate) mod update_run;
mod update_stats;
pub mod view;

#[cfg(test)]
mod frame_tests;
#[cfg(test)]
mod loop_tests;
#[cfg(test)]
mod view_tests;

use std::io::IsTerminal;

use std::path::Path;

use crate::engine::Engine;

pub use memory::{lean_malloc, trim_heap};

/// Opens the TUI on the engine at `root` and returns the exit code.
pub async fn run(root: &Path) -> anyhow::Result<i32> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the TUI needs a terminal on stdin and stdout; run `berth` in a terminal, or use a command (see `berth --help`)"
        );
    }
    let engine = Engine::open(root)?;
    engine.make_lean();
    let root = root.display().to_string();
    let (config, problem) = match config::load(&config::path(), theme::Theme::from_env()) {
        Ok(c) => (c, None),
        Err(e) => {
            let defaults = config::Config {
                keymap: keymap::Keymap::default(),
                theme: theme::Theme::from_env(),
                mouse: true,
            };
            (defaults, Some(e))
        }
    };
    let mut app = app::App::new(config, root, chrono::Utc::now());
    if let Some(e) = problem {
        app.popup = Some(popup::Popup::Message(popup::Message {
            title: "Config ignored".into(),
            text: format!("{e}\nUsing the default keys and colours."),
            error: true,
            scroll: 0,
        }));
    }
    event_loop::run(engine, app).await?;
    Ok(0)
}
