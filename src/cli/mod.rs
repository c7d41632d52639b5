//! The Docker-style command line. Each area has its own file with its own subcommand enum,
//! flattened into [`Command`].

pub mod image;
pub mod login;
pub mod progress;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::engine::{layout, Engine, EngineError};

/// berth: a container manager with its own daemonless engine. Run with no command for the TUI.
#[derive(Debug, Parser)]
#[command(name = "berth", version, about, propagate_version = true)]
pub struct Cli {
    /// Engine root directory [default: /var/lib/berth as root, $XDG_DATA_HOME/berth otherwise]
    #[arg(long, global = true, env = "BERTH_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Print debug logging to stderr
    #[arg(long, global = true)]
    pub debug: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Every CLI command.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    Image(image::ImageCommand),
    #[command(flatten)]
    Login(login::LoginCommand),
}

impl Cli {
    /// The engine root this invocation uses.
    pub fn root(&self) -> PathBuf {
        self.root.clone().unwrap_or_else(layout::default_root)
    }

    /// Opens the engine at this invocation's root.
    pub fn engine(&self) -> Result<Engine, EngineError> {
        Engine::open(&self.root())
    }
}

/// Sets up logging to stderr (only with `--debug` or `RUST_LOG`).
pub fn init_tracing(debug: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = if debug {
        EnvFilter::new("berth=debug")
    } else {
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("off"))
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Commands that must run before any async runtime exists (the monitor). Returns the exit code
/// when the command was one of them.
pub fn run_without_runtime(_cli: &Cli) -> Option<i32> {
    None
}

/// Runs a CLI command (or the TUI) and returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let result = match &cli.command {
        None => crate::tui::run(&cli).await,
        Some(Command::Image(cmd)) => image::run(&cli, cmd).await,
        Some(Command::Login(cmd)) => login::run(cmd).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => report(&e),
    }
}

/// Prints an error the way docker does and returns its exit code (125 for engine errors).
pub fn report(e: &anyhow::Error) -> i32 {
    eprintln!("Error: {e:#}");
    match e.downcast_ref::<EngineError>() {
        Some(engine) => engine.exit_code(),
        None => 125,
    }
}
