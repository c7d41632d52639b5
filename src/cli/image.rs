//! Image commands: pull, images, image inspect/prune, tag, rmi, login, logout.

use clap::{Args, Subcommand};

use super::Cli;
use crate::engine::ImageRef;

/// Image commands.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Pull an image from a registry
    Pull(PullArgs),
}

/// `berth pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// Image reference (e.g. busybox, 127.0.0.1:5000/test/busybox:latest)
    pub reference: String,
}

/// Runs an image command.
pub async fn run(cli: &Cli, cmd: &ImageCommand) -> anyhow::Result<i32> {
    match cmd {
        ImageCommand::Pull(args) => {
            let _engine = cli.engine()?;
            let reference = ImageRef::parse(&args.reference)?;
            anyhow::bail!("pull of {reference} is not built yet")
        }
    }
}
