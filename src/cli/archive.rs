//! Moving images and files: `save`/`load` and `export`/`import` through files, `push` to
//! registries (and their `image …` forms).

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
    /// Export a container's filesystem as a tar archive
    Export(ExportArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(ImportArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(super::cp::CpArgs),
    /// Search Docker Hub or a registry's catalog for images
    Search(super::search::SearchArgs),
}

/// Where `save` and `export` write: the `-o` file, else stdout unless it is a terminal.
fn archive_output(file: Option<&std::path::PathBuf>) -> Result<SaveOutput, EngineError> {
    match file {
        Some(p) => Ok(SaveOutput::File(p.clone())),
        None if std::io::stdout().is_terminal() => Err(EngineError::InvalidInput(
            "cowardly refusing to save to a terminal: use the -o flag or redirect".into(),
        )),
        None => Ok(SaveOutput::Stream(Box::new(std::io::stdout()))),
    }
}

/// `berth export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Container (name, id or id prefix)
    pub container: String,
}

/// `berth import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Apply a Dockerfile instruction to the image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
    /// STOPSIGNAL, USER, VOLUME, WORKDIR)
    #[arg(short, long = "change", value_name = "INSTRUCTION")]
    pub change: Vec<String>,
    /// Set the commit message for the imported image
    #[arg(short, long, value_name = "MESSAGE")]
    pub message: Option<String>,
    /// Platform of the image (only this host's)
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// A root filesystem tar (plain, gzip or zstd), or - for STDIN
    pub file: String,
    /// Name for the image (REPOSITORY[:TAG])
    pub reference: Option<String>,
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
        ArchiveCommand::Export(a) => export(cli, a).await,
        ArchiveCommand::Import(a) => import(cli, a).await,
        ArchiveCommand::Cp(a) => super::cp::cp(cli, a).await,
        ArchiveCommand::Search(a) => super::search::search(cli, a).await,
    }
}

/// `berth export`.
pub async fn export(cli: &Cli, a: &ExportArgs) -> anyhow::Result<i32> {
    let output = archive_output(a.output.as_ref())?;
    let engine = cli.engine()?;
    engine.container_export(a.container.clone(), output).await?;
    Ok(0)
}

/// `berth import`.
pub async fn import(cli: &Cli, a: &ImportArgs) -> anyhow::Result<i32> {
    if let Some(p) = &a.platform {
        let want = crate::engine::Platform::parse(p)?;
        if !want.matches(&crate::engine::Platform::host()) {
            return Err(EngineError::InvalidInput(format!(
                "cannot import for platform {want}: berth imports for this host's platform ({})",
                crate::engine::Platform::host()
            ))
            .into());
        }
    }
    let (input, source) = if a.file == "-" {
        if std::io::stdin().is_terminal() {
            return Err(EngineError::InvalidInput(
                "import from - reads STDIN, which is a terminal: redirect a tar into it".into(),
            )
            .into());
        }
        (
            LoadInput::Stream(Box::new(std::io::stdin())),
            "-".to_string(),
        )
    } else if a.file.starts_with("http://") || a.file.starts_with("https://") {
        let engine = cli.engine()?;
        let opts = crate::engine::image::rootfs_import::ImportOptions {
            changes: a.change.clone(),
            message: a.message.clone(),
            reference: a.reference.clone(),
        };
        let image = engine.import_url(&a.file, opts).await?;
        println!("{}", image.id);
        return Ok(0);
    } else {
        (LoadInput::Path(PathBuf::from(&a.file)), a.file.clone())
    };
    let engine = cli.engine()?;
    let opts = crate::engine::image::rootfs_import::ImportOptions {
        changes: a.change.clone(),
        message: a.message.clone(),
        reference: a.reference.clone(),
    };
    let image = engine.import_rootfs(input, &source, opts).await?;
    println!("{}", image.id);
    Ok(0)
}

/// `berth save`.
pub async fn save(cli: &Cli, a: &SaveArgs) -> anyhow::Result<i32> {
    let format: ArchiveFormat = a.format.parse()?;
    let output = archive_output(a.output.as_ref())?;
    let engine = cli.engine()?;
    engine.image_save(a.images.clone(), format, output).await?;
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
