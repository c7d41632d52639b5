//! The terminal UI (Elm-style: `update` and `view` pure; `jobs` call the engine).

use crate::cli::Cli;

/// Opens the TUI on the engine at the CLI's root and returns the exit code.
pub async fn run(cli: &Cli) -> anyhow::Result<i32> {
    let _engine = cli.engine()?;
    anyhow::bail!("the TUI is not built yet")
}
