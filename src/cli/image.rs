//! Image commands: pull, images, image inspect/ls/prune/rm, tag, rmi.

use std::io::{IsTerminal, Write};

use clap::{ArgAction, Args, Subcommand};

use super::format::Format;
use super::progress::{human_size, pull_with, PullDisplay};
use super::Cli;
use crate::engine::compat::{rows::IMAGE_HEADERS, ImageRow};
use crate::engine::{Engine, ImageRef, ImageSummary, Platform, PullOptions};

/// Image commands.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Pull an image from a registry
    Pull(PullArgs),
    /// List images
    Images(ImagesArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageSubcommand),
    /// Create a tag TARGET that refers to SOURCE
    Tag(TagArgs),
    /// Remove one or more images
    Rmi(RmiArgs),
}

/// `berth image …`.
#[derive(Debug, Subcommand)]
pub enum ImageSubcommand {
    /// Display detailed information on one or more images
    Inspect(InspectArgs),
    /// List images
    #[command(visible_alias = "list")]
    Ls(ImagesArgs),
    /// Pull an image from a registry
    Pull(PullArgs),
    /// Remove unused images, layers and blobs
    Prune(PruneArgs),
    /// Remove one or more images
    #[command(visible_aliases = ["remove", "rmi"])]
    Rm(RmiArgs),
    /// Create a tag TARGET that refers to SOURCE
    Tag(TagArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(super::archive::SaveArgs),
    /// Load images from a tar archive or STDIN
    Load(super::archive::LoadArgs),
    /// Upload an image to a registry
    Push(super::push::PushArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(super::archive::ImportArgs),
}

/// `berth pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// Print only the image reference
    #[arg(short, long)]
    pub quiet: bool,
    /// Platform to pull from a multi-platform image (os/arch[/variant])
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Verify TLS certificates; =false also allows plain http
    #[arg(long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub tls_verify: bool,
    /// Image reference (e.g. busybox, 127.0.0.1:5000/test/busybox:latest)
    pub reference: String,
}

/// `berth images`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show only image ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Format: table (default), json (one object a line), or a Go template
    /// ('table {{.Repository}}\t{{.Tag}}')
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Don't truncate output (full image ids)
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Show only images of this repository[:tag]
    pub repository: Option<String>,
}

/// `berth image inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format the output: json (default) or a Go template ('{{.Config.Labels}}')
    #[arg(short, long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Images (reference, id or id prefix)
    #[arg(required = true)]
    pub images: Vec<String>,
}

/// `berth tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// Existing image (reference, id or id prefix)
    pub source: String,
    /// New name (repository[:tag])
    pub target: String,
}

/// `berth rmi`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Untag images used by containers and remove images with several tags
    #[arg(short, long)]
    pub force: bool,
    /// Images (reference, id or id prefix)
    #[arg(required = true)]
    pub images: Vec<String>,
}

/// `berth image prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
}

/// Runs an image command.
pub async fn run(cli: &Cli, cmd: &ImageCommand) -> anyhow::Result<i32> {
    let engine = cli.engine()?;
    match cmd {
        ImageCommand::Pull(a) | ImageCommand::Image(ImageSubcommand::Pull(a)) => {
            pull(&engine, a).await
        }
        ImageCommand::Images(a) | ImageCommand::Image(ImageSubcommand::Ls(a)) => {
            images(&engine, a).await
        }
        ImageCommand::Image(ImageSubcommand::Inspect(a)) => inspect(&engine, a).await,
        ImageCommand::Image(ImageSubcommand::Save(a)) => super::archive::save(cli, a).await,
        ImageCommand::Image(ImageSubcommand::Load(a)) => super::archive::load(cli, a).await,
        ImageCommand::Image(ImageSubcommand::Push(a)) => super::push::push(cli, a).await,
        ImageCommand::Image(ImageSubcommand::Import(a)) => super::archive::import(cli, a).await,
        ImageCommand::Tag(a) | ImageCommand::Image(ImageSubcommand::Tag(a)) => {
            engine.image_tag(a.source.clone(), a.target.clone()).await?;
            Ok(0)
        }
        ImageCommand::Rmi(a) | ImageCommand::Image(ImageSubcommand::Rm(a)) => rmi(&engine, a).await,
        ImageCommand::Image(ImageSubcommand::Prune(a)) => prune(&engine, a.force, a.all).await,
    }
}

/// `image prune [-a]`: asks first unless `-f` (a "no" cancels with exit 0, as in docker), then
/// prints docker's report of what went and the space freed.
async fn prune(engine: &Engine, force: bool, all: bool) -> anyhow::Result<i32> {
    let warning = if all {
        "WARNING! This will remove all images without at least one container associated to \
         them.\nAre you sure you want to continue?"
    } else {
        "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
    };
    if !force && !super::prompt::confirm(warning)? {
        return Ok(0);
    }
    let report = engine.image_prune(all).await?;
    let mut out = std::io::stdout().lock();
    if !report.images.is_empty() {
        writeln!(out, "Deleted Images:")?;
        for name in &report.untagged {
            writeln!(out, "untagged: {name}")?;
        }
        for id in &report.images {
            writeln!(out, "deleted: {id}")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Total reclaimed space: {}",
        crate::engine::compat::units::human_size(report.reclaimed)
    )?;
    Ok(0)
}

async fn pull(engine: &Engine, a: &PullArgs) -> anyhow::Result<i32> {
    let reference = ImageRef::parse(&a.reference)?;
    let opts = PullOptions {
        platform: a.platform.as_deref().map(Platform::parse).transpose()?,
        tls_verify: a.tls_verify,
    };
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    let mut display = PullDisplay::new(stdout.lock(), terminal);
    if !a.quiet {
        let what = reference
            .tag
            .clone()
            .or_else(|| reference.digest.clone())
            .unwrap_or_default();
        display.line(&format!(
            "{what}: Pulling from {}",
            reference.familiar_repository()
        ));
    }
    let done = pull_with(
        engine,
        &reference,
        &opts,
        (!a.quiet).then_some(&mut display),
    )
    .await?;
    if !a.quiet {
        display.line(&format!("Digest: {}", done.digest));
        let status = if done.updated {
            "Downloaded newer image for"
        } else {
            "Image is up to date for"
        };
        display.line(&format!("Status: {status} {}", reference.familiar()));
    }
    display.line(&reference.to_string());
    Ok(0)
}

fn split_name(name: &str) -> (String, String) {
    match ImageRef::parse(name) {
        Ok(r) => (
            r.familiar_repository(),
            r.tag.unwrap_or_else(|| "<none>".into()),
        ),
        Err(_) => (name.to_string(), "<none>".into()),
    }
}

/// One row per tag (`<none>` rows for untagged images), as docker lists them.
fn rows(images: &[ImageSummary]) -> Vec<(String, String, &ImageSummary)> {
    let mut out = Vec::new();
    for img in images {
        if img.repo_tags.is_empty() {
            let repo = img
                .repo_digests
                .first()
                .map(|d| d.split('@').next().unwrap_or("<none>").to_string())
                .unwrap_or_else(|| "<none>".into());
            out.push((repo, "<none>".into(), img));
        }
        for t in &img.repo_tags {
            let (repo, tag) = split_name(t);
            out.push((repo, tag, img));
        }
    }
    out
}

/// "3 days ago", from an RFC 3339 time.
pub fn since(time: Option<&str>) -> String {
    let Some(t) = time.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) else {
        return "N/A".into();
    };
    let secs = (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds();
    let (n, unit) = match secs {
        s if s < 60 => return "Less than a minute ago".into(),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s if s < 86_400 * 14 => (s / 86_400, "day"),
        s if s < 86_400 * 60 => (s / (86_400 * 7), "week"),
        s if s < 86_400 * 730 => (s / (86_400 * 30), "month"),
        s => (s / (86_400 * 365), "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// The digest of `img` in repository `repo` (its RepoDigests entry), else the last pulled one.
fn digest_in(img: &ImageSummary, repo: &str) -> String {
    img.repo_digests
        .iter()
        .find_map(|d| d.strip_prefix(repo).and_then(|r| r.strip_prefix('@')))
        .unwrap_or(&img.manifest_digest)
        .to_string()
}

fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

async fn images(engine: &Engine, a: &ImagesArgs) -> anyhow::Result<i32> {
    let all: Vec<_> = engine
        .image_list()
        .await?
        .into_iter()
        .map(|u| u.image)
        .collect();
    let mut rows = rows(&all);
    if let Some(filter) = &a.repository {
        // Docker keeps the rows of that repository (and tag), not every name of the images
        // that have one there.
        let wanted = ImageRef::parse(filter)?;
        let explicit_tag = filter.rsplit('/').next().is_some_and(|l| l.contains(':'));
        rows.retain(|(repo, tag, _)| {
            ImageRef::parse(&format!("{repo}:{tag}")).is_ok_and(|r| {
                r.repository() == wanted.repository() && (!explicit_tag || r.tag == wanted.tag)
            })
        });
    }
    if a.quiet {
        let mut seen = std::collections::HashSet::new();
        for (_, _, img) in &rows {
            if seen.insert(&img.id) {
                println!(
                    "{}",
                    if a.no_trunc {
                        &img.id
                    } else {
                        short_id(&img.id)
                    }
                );
            }
        }
        return Ok(0);
    }
    let format = Format::parse(a.format.as_deref())?;
    match format {
        Format::Json | Format::Template { .. } => {
            let rows: Vec<ImageRow> = rows
                .iter()
                .map(|(repo, tag, img)| ImageRow {
                    id: if a.no_trunc {
                        img.id.clone()
                    } else {
                        short_id(&img.id).to_string()
                    },
                    repository: repo.clone(),
                    tag: tag.clone(),
                    digest: digest_in(img, repo),
                    created_since: since(img.created.as_deref()),
                    created_at: img.created.clone().unwrap_or_default(),
                    size: human_size(img.size),
                    containers: "N/A".into(),
                    virtual_size: human_size(img.size),
                    shared_size: "N/A".into(),
                    unique_size: "N/A".into(),
                    id_full: img.id.clone(),
                    repo_digests: img.repo_digests.clone(),
                    platform: img.platform.clone(),
                })
                .collect();
            print!("{}", format.list(&rows, IMAGE_HEADERS)?);
        }
        Format::Default => {
            let mut table = vec![vec![
                "REPOSITORY".to_string(),
                "TAG".into(),
                "IMAGE ID".into(),
                "CREATED".into(),
                "SIZE".into(),
            ]];
            if a.digests {
                table[0].insert(2, "DIGEST".into());
            }
            for (repo, tag, img) in &rows {
                let mut row = vec![
                    repo.clone(),
                    tag.clone(),
                    if a.no_trunc {
                        img.id.clone()
                    } else {
                        short_id(&img.id).to_string()
                    },
                    since(img.created.as_deref()),
                    human_size(img.size),
                ];
                if a.digests {
                    row.insert(2, digest_in(img, repo));
                }
                table.push(row);
            }
            print_table(&table);
        }
    }
    Ok(0)
}

/// Prints rows in columns aligned as docker's tabwriter aligns them.
pub fn print_table(rows: &[Vec<String>]) {
    print!(
        "{}",
        super::table::render(rows, super::table::LIST_MIN_WIDTH)
    );
}

async fn inspect(engine: &Engine, a: &InspectArgs) -> anyhow::Result<i32> {
    let format = Format::parse(a.format.as_deref())?;
    let mut found = Vec::new();
    let mut failed = false;
    for r in &a.images {
        match engine.image_inspect(r.clone()).await {
            Ok(v) => found.push(serde_json::to_value(v)?),
            Err(e) => {
                eprintln!("Error: {e}");
                failed = true;
            }
        }
    }
    print!("{}", super::inspect::print(&format, &found)?);
    Ok(if failed { 1 } else { 0 })
}

async fn rmi(engine: &Engine, a: &RmiArgs) -> anyhow::Result<i32> {
    let mut code = 0;
    for r in &a.images {
        match engine.image_delete(r.clone(), a.force).await {
            Ok(report) => {
                for u in report.untagged {
                    println!("Untagged: {u}");
                }
                for d in report.deleted {
                    println!("Deleted: {d}");
                }
            }
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}
