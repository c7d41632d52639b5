//! Volume commands: `volume create | ls | inspect | rm | prune`.

use std::io::Write;

use clap::{Args, Subcommand};

use super::format::Format;
use super::Cli;
use crate::engine::compat::{rows::VOLUME_HEADERS, VolumeRow};
use crate::engine::volume::{parse_labels, CreateVolume, PruneVolumes, Volume, VolumeFilter};
use crate::engine::{Engine, EngineError};

/// Volume commands (flattened into the top level as `volume …`).
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Manage volumes
    #[command(subcommand)]
    Volume(VolumeSub),
}

/// `berth volume …`.
#[derive(Debug, Subcommand)]
pub enum VolumeSub {
    /// Create a volume (or return the existing one of that name)
    Create(CreateArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Show details of one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove unused anonymous volumes (all unused ones with --all)
    Prune(PruneArgs),
}

/// `volume create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Set a label (KEY=VALUE); repeatable
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Volume driver (only `local`)
    #[arg(short = 'd', long, default_value = "local")]
    pub driver: String,
    /// Volume name; generated (64 hex digits) when left out
    pub name: Option<String>,
}

/// `volume ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only print volume names
    #[arg(short, long)]
    pub quiet: bool,
    /// Format: table (default), json (one object a line), or a Go template ('{{.Name}}')
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Filter: dangling=true|false, name=REGEX, label=KEY[=VALUE], label!=KEY[=VALUE], driver=local
    #[arg(short, long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
}

/// `volume inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format the output: json (default) or a Go template ('{{.Mountpoint}}')
    #[arg(short, long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Volume names
    #[arg(required = true)]
    pub names: Vec<String>,
}

/// `volume rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Do not complain about volumes that do not exist (volumes in use are still refused)
    #[arg(short, long)]
    pub force: bool,
    /// Volume names
    #[arg(required = true)]
    pub names: Vec<String>,
}

/// `volume prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// Remove all unused volumes, not only anonymous ones
    #[arg(short, long)]
    pub all: bool,
    /// Filter: label=KEY[=VALUE], label!=KEY[=VALUE]
    #[arg(long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
}

/// Runs a volume command and returns the exit code.
pub async fn run(cli: &Cli, cmd: &VolumeCommand) -> anyhow::Result<i32> {
    let VolumeCommand::Volume(sub) = cmd;
    match sub {
        VolumeSub::Create(a) => create(&cli.engine()?, a).await,
        VolumeSub::Ls(a) => ls(&cli.engine()?, a).await,
        VolumeSub::Inspect(a) => inspect(&cli.engine()?, a).await,
        VolumeSub::Rm(a) => rm(&cli.engine()?, a).await,
        VolumeSub::Prune(a) => prune(&cli.engine()?, a).await,
    }
}

async fn create(engine: &Engine, a: &CreateArgs) -> anyhow::Result<i32> {
    if a.driver != "local" {
        return Err(EngineError::InvalidInput(format!(
            "volume driver {:?} is not available; berth has only the `local` driver",
            a.driver
        ))
        .into());
    }
    let req = CreateVolume {
        name: a.name.clone(),
        labels: parse_labels(&a.labels)?,
        anonymous: false,
    };
    let v = engine.create_volume(req).await?;
    println!("{}", v.name);
    Ok(0)
}

fn labels_text(v: &Volume) -> String {
    v.labels
        .iter()
        .map(|(k, val)| format!("{k}={val}"))
        .collect::<Vec<_>>()
        .join(",")
}

async fn ls(engine: &Engine, a: &LsArgs) -> anyhow::Result<i32> {
    let format = Format::parse(a.format.as_deref())?;
    let filter = VolumeFilter::parse(&a.filters)?;
    let volumes = engine.volumes(filter).await?;
    let mut out = std::io::stdout().lock();
    if a.quiet {
        for v in &volumes {
            writeln!(out, "{}", v.name)?;
        }
    } else if format.is_default() {
        writeln!(out, "DRIVER    VOLUME NAME")?;
        for v in &volumes {
            writeln!(out, "{:<10}{}", v.driver, v.name)?;
        }
    } else {
        let rows: Vec<VolumeRow> = volumes
            .iter()
            .map(|v| VolumeRow {
                name: v.name.clone(),
                driver: v.driver.clone(),
                scope: v.scope.clone(),
                mountpoint: v.mountpoint.to_string_lossy().into_owned(),
                labels: labels_text(v),
                links: v.used_by.len().to_string(),
                size: "N/A".into(),
                created_at: v.created_at.clone(),
                anonymous: v.anonymous,
                used_by: v.used_by.clone(),
            })
            .collect();
        write!(out, "{}", format.list(&rows, VOLUME_HEADERS)?)?;
    }
    Ok(0)
}

async fn inspect(engine: &Engine, a: &InspectArgs) -> anyhow::Result<i32> {
    let format = Format::parse(a.format.as_deref())?;
    let mut found = Vec::new();
    let mut code = 0;
    for name in &a.names {
        match engine.inspect_volume(name.clone()).await {
            Ok(v) => found.push(serde_json::to_value(v)?),
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    print!("{}", super::inspect::print(&format, &found)?);
    Ok(code)
}

async fn rm(engine: &Engine, a: &RmArgs) -> anyhow::Result<i32> {
    let mut code = 0;
    for name in &a.names {
        match engine.remove_volume(name.clone(), a.force).await {
            Ok(true) => println!("{name}"),
            Ok(false) => {}
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

async fn confirm(question: String) -> anyhow::Result<bool> {
    let answer = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        let mut err = std::io::stderr().lock();
        write!(err, "{question} [y/N] ")?;
        err.flush()?;
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line)
    })
    .await??;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

async fn prune(engine: &Engine, a: &PruneArgs) -> anyhow::Result<i32> {
    let opts = PruneVolumes {
        all: a.all,
        filter: VolumeFilter::parse(&a.filters)?,
    };
    if opts.filter.has_non_label() {
        return Err(EngineError::InvalidInput(
            "volume prune takes only label filters (label=…, label!=…); use --all for named volumes"
                .into(),
        )
        .into());
    }
    if !a.force {
        let what = if a.all { "all" } else { "anonymous" };
        let question = format!(
            "WARNING! This will remove {what} local volumes not used by at least one container.\n\
             Are you sure you want to continue?"
        );
        if !confirm(question).await? {
            eprintln!("Cancelled; no volume was removed.");
            return Ok(0);
        }
    }
    let report = engine.prune_volumes(opts).await?;
    let mut out = std::io::stdout().lock();
    if !report.volumes_deleted.is_empty() {
        writeln!(out, "Deleted Volumes:")?;
        for name in &report.volumes_deleted {
            writeln!(out, "{name}")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Total reclaimed space: {}",
        crate::engine::compat::units::human_size(report.space_reclaimed)
    )?;
    Ok(0)
}
