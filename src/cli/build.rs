//! `berth build`: a Dockerfile and a context (a directory, `-` with a Dockerfile, or `-` with a
//! tar context (plain, gzip, zstd, xz or bzip2) on stdin) to an image, with docker's step output.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::Cli;
use crate::engine::build::{BuildCancel, BuildOptions, BuildOutput, Quiet};

/// `berth build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Name and optionally a tag (NAME[:TAG]); repeatable
    #[arg(short = 't', long = "tag", value_name = "NAME[:TAG]")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: CONTEXT/Dockerfile)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<String>,
    /// Set build-time variables (KEY=VALUE, or KEY to take it from the environment)
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// Set the target build stage to build
    #[arg(long)]
    pub target: Option<String>,
    /// Do not use cache when building the image
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the base images
    #[arg(long)]
    pub pull: bool,
    /// Set metadata for the image (KEY=VALUE)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Suppress the build output and print the image ID on success
    #[arg(short, long)]
    pub quiet: bool,
    /// Network mode for RUN instructions (none or host)
    #[arg(long)]
    pub network: Option<String>,
    /// Write the image ID to the file
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// Build context: a directory, or - to read a Dockerfile or a tar archive from stdin
    pub context: String,
}

/// `berth builder …`.
#[derive(Debug, clap::Subcommand)]
pub enum BuilderCommand {
    /// Remove the build cache
    Prune(BuilderPruneArgs),
}

/// `berth builder prune`.
#[derive(Debug, Args)]
pub struct BuilderPruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// Remove all unused build cache (berth's cache has no other kind)
    #[arg(short, long)]
    pub all: bool,
}

/// Runs `builder prune`.
pub async fn builder(cli: &Cli, cmd: &BuilderCommand) -> anyhow::Result<i32> {
    let BuilderCommand::Prune(a) = cmd;
    if !a.force
        && !super::prompt::confirm(
            "WARNING! This will remove all dangling build cache.\nAre you sure you want to continue?",
        )?
    {
        return Ok(0);
    }
    let engine = cli.engine()?;
    let r = engine.build_cache_prune().await?;
    println!("Deleted build cache objects: {}", r.entries);
    if r.containers > 0 {
        println!("Removed containers of interrupted builds: {}", r.containers);
    }
    println!(
        "Total reclaimed space: {}",
        crate::engine::compat::units::human_size(r.reclaimed)
    );
    Ok(0)
}

struct Printer;

impl BuildOutput for Printer {
    fn line(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    fn output(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

fn pairs(list: &[String], flag: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in list {
        match item.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                out.insert(k.to_string(), v.to_string());
            }
            None if !item.is_empty() && flag == "build-arg" => {
                if let Ok(v) = std::env::var(item) {
                    out.insert(item.clone(), v);
                }
            }
            _ => anyhow::bail!("invalid argument {item:?} for \"--{flag}\" flag: use KEY=VALUE"),
        }
    }
    Ok(out)
}

/// Runs `build`; every failure exits 1, as docker's does.
pub async fn run(cli: &Cli, a: &BuildArgs) -> anyhow::Result<i32> {
    match build(cli, a).await {
        Ok(()) => Ok(0),
        Err(e) => {
            eprintln!("Error: {e:#}");
            Ok(1)
        }
    }
}

/// Cancels the build and waits for it to clean up; its error is the result.
async fn cancelled(
    engine: &crate::engine::Engine,
    cancel: Arc<BuildCancel>,
    task: tokio::task::JoinHandle<crate::engine::error::Result<crate::engine::image::ImageRecord>>,
) -> anyhow::Result<crate::engine::image::ImageRecord> {
    engine.build_cancel(cancel).await?;
    match task.await? {
        Ok(rec) => Ok(rec),
        Err(e) => Err(e.into()),
    }
}

async fn build(cli: &Cli, a: &BuildArgs) -> anyhow::Result<()> {
    let engine = cli.engine()?;
    let cancel = Arc::new(BuildCancel::new());
    let mut staged = None;
    let (context, dockerfile) = if a.context == "-" {
        let mut data = Vec::new();
        std::io::stdin().lock().read_to_end(&mut data)?;
        let ctx = engine
            .build_context_from_stdin(data, a.file.clone())
            .await?;
        staged = Some(ctx.staged);
        (ctx.root, ctx.dockerfile)
    } else {
        let root = PathBuf::from(&a.context);
        let path = match &a.file {
            Some(f) if f == "-" => None,
            Some(f) => Some(PathBuf::from(f)),
            None => Some(root.join("Dockerfile")),
        };
        let text = match path {
            Some(p) => std::fs::read_to_string(&p)
                .map_err(|e| anyhow::anyhow!("cannot read the Dockerfile {}: {e}", p.display()))?,
            None => {
                let mut s = String::new();
                std::io::stdin().lock().read_to_string(&mut s)?;
                s
            }
        };
        (root, text)
    };
    let opts = BuildOptions {
        context,
        dockerfile,
        tags: a.tags.clone(),
        build_args: pairs(&a.build_args, "build-arg")?,
        target: a.target.clone(),
        no_cache: a.no_cache,
        pull: a.pull,
        labels: pairs(&a.labels, "label")?,
        network: a.network.clone(),
        source_date_epoch: std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|v| v.trim().parse().ok()),
        cancel: Some(cancel.clone()),
    };
    let quiet = a.quiet;
    let out: Box<dyn BuildOutput> = if quiet {
        Box::new(Quiet)
    } else {
        Box::new(Printer)
    };
    let e = engine.clone();
    let mut task = tokio::spawn(async move { e.build_image(opts, out).await });
    // SIGINT or SIGTERM cancels the build: its RUN containers are killed, and the build thread
    // removes them and its staging directories before it returns.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let rec = tokio::select! {
        r = &mut task => r??,
        _ = tokio::signal::ctrl_c() => cancelled(&engine, cancel, task).await?,
        _ = term.recv() => cancelled(&engine, cancel, task).await?,
    };
    drop(staged);
    if quiet {
        println!("{}", rec.id);
    }
    if let Some(f) = &a.iidfile {
        std::fs::write(f, &rec.id)
            .map_err(|e| anyhow::anyhow!("cannot write --iidfile {}: {e}", f.display()))?;
    }
    Ok(())
}
