//! Moving images: `save` and `load` through files, `push` to registries (and their `image …`
//! forms).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Cli;
use crate::engine::image::archive::{ArchiveFormat, LoadInput, SaveOutput};
use crate::engine::EngineError;

/// Archive commands.
#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(SaveArgs),
    /// Load images from a tar archive or STDIN
    Load(LoadArgs),
    /// Upload an image to a registry
    Push(super::push::PushArgs),
}

/// `berth save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to a file (a directory for --format oci-dir), instead of STDOUT
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// docker-archive (default; also an OCI layout, as docker 25+), oci-archive or oci-dir
    #[arg(long, value_name = "FORMAT", default_value = "docker-archive")]
    pub format: String,
    /// Images (reference, id or id prefix)
    #[arg(required = true)]
    pub images: Vec<String>,
}

/// `berth load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from a tar archive file (gzip or zstd too) or an OCI layout directory, instead of
    /// STDIN
    #[arg(short, long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short, long)]
    pub quiet: bool,
}

/// Runs `save` or `load`.
pub async fn run(cli: &Cli, cmd: &ArchiveCommand) -> anyhow::Result<i32> {
    match cmd {
        ArchiveCommand::Save(a) => save(cli, a).await,
        ArchiveCommand::Load(a) => load(cli, a).await,
        ArchiveCommand::Push(a) => super::push::push(cli, a).await,
    }
}

/// `berth save`.
pub async fn save(cli: &Cli, a: &SaveArgs) -> anyhow::Result<i32> {
    let format: ArchiveFormat = a.format.parse()?;
    let output = match &a.output {
        Some(p) => SaveOutput::File(p.clone()),
        None if std::io::stdout().is_terminal() => {
            return Err(EngineError::InvalidInput(
                "cowardly refusing to save to a terminal: use the -o flag or redirect".into(),
            )
            .into())
        }
        None => SaveOutput::Stream(Box::new(std::io::stdout())),
    };
    let engine = cli.engine()?;
    let images = a.images.clone();
    tokio::task::spawn_blocking(move || engine.save_images(&images, format, output)).await??;
    Ok(0)
}

/// `berth load`.
pub async fn load(cli: &Cli, a: &LoadArgs) -> anyhow::Result<i32> {
    let input = match &a.input {
        Some(p) => LoadInput::Path(p.clone()),
        None if std::io::stdin().is_terminal() => {
            return Err(EngineError::InvalidInput(
                "requested load from stdin, but stdin is a terminal: use -i FILE or redirect"
                    .into(),
            )
            .into())
        }
        None => LoadInput::Stream(Box::new(std::io::stdin())),
    };
    let engine = cli.engine()?;
    let loaded = engine.load_images(input).await?;
    for image in loaded {
        if image.names.is_empty() {
            println!("Loaded image ID: {}", image.id);
        }
        for name in image.names {
            println!("Loaded image: {name}");
        }
    }
    let _ = a.quiet;
    Ok(0)
}
