//! Making images from containers and reading how images were made: commit, diff, history.

use clap::{ArgAction, Args, Subcommand};

use super::format::Format;
use super::Cli;
use crate::engine::compat::history::{HistoryRow, HISTORY_HEADERS};
use crate::engine::image::commit::CommitOptions;
use crate::engine::Engine;

/// commit, diff, history.
#[derive(Debug, Subcommand)]
pub enum CommitCommand {
    /// Create a new image from a container's changes
    Commit(CommitArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(DiffArgs),
    /// Show the history of an image
    History(HistoryArgs),
}

/// `berth commit`.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Author (e.g. "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short, long)]
    pub author: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long = "change", value_name = "INSTRUCTION")]
    pub change: Vec<String>,
    /// Commit message
    #[arg(short, long)]
    pub message: Option<String>,
    /// Pause container during commit
    #[arg(short, long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub pause: bool,
    /// Container (name or id)
    pub container: String,
    /// New image name (REPOSITORY[:TAG])
    pub reference: Option<String>,
}

/// `berth diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Container (name or id)
    pub container: String,
}

/// `berth history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long, action = ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub human: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Format: table (default), json, or a Go template ('{{.ID}}\t{{.CreatedBy}}')
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Image (reference, id or id prefix)
    pub image: String,
}

/// Runs commit, diff or history.
pub async fn run(cli: &Cli, cmd: &CommitCommand) -> anyhow::Result<i32> {
    let engine = cli.engine()?;
    match cmd {
        CommitCommand::Commit(a) => {
            let opts = CommitOptions {
                author: a.author.clone(),
                message: a.message.clone(),
                changes: a.change.clone(),
                pause: a.pause,
                reference: a.reference.clone(),
            };
            let image = engine.commit(a.container.clone(), opts).await?;
            println!("{}", image.id);
            Ok(0)
        }
        CommitCommand::Diff(a) => {
            let changes = engine.container_diff(a.container.clone()).await?;
            for c in changes {
                println!("{} {}", c.letter(), c.path);
            }
            Ok(0)
        }
        CommitCommand::History(a) => history(&engine, a).await,
    }
}

async fn history(engine: &Engine, a: &HistoryArgs) -> anyhow::Result<i32> {
    let rows = engine.image_history_of(a.image.clone()).await?;
    let short = |id: &str| {
        if a.no_trunc || id == "<missing>" {
            id.to_string()
        } else {
            let hex = id.strip_prefix("sha256:").unwrap_or(id);
            hex[..hex.len().min(12)].to_string()
        }
    };
    if a.quiet {
        for r in &rows {
            println!("{}", short(&r.id));
        }
        return Ok(0);
    }
    let shown: Vec<HistoryRow> = rows
        .iter()
        .map(|r| {
            let by = r.created_by.replace('\t', " ");
            let by = if a.no_trunc || by.chars().count() <= 45 {
                by
            } else {
                let cut: String = by.chars().take(44).collect();
                format!("{cut}…")
            };
            HistoryRow {
                id: short(&r.id),
                created_since: if a.human {
                    super::image::since(r.created.as_deref())
                } else {
                    r.created.clone().unwrap_or_default()
                },
                created_at: r.created.clone().unwrap_or_default(),
                created_by: by,
                size: if a.human {
                    super::progress::human_size(r.size)
                } else {
                    r.size.to_string()
                },
                comment: r.comment.clone(),
            }
        })
        .collect();
    let format = Format::parse(a.format.as_deref())?;
    if !format.is_default() {
        print!("{}", format.list(&shown, HISTORY_HEADERS)?);
        return Ok(0);
    }
    let mut table = vec![["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
        .map(String::from)
        .to_vec()];
    for r in shown {
        table.push(vec![r.id, r.created_since, r.created_by, r.size, r.comment]);
    }
    print!(
        "{}",
        super::table::render(&table, super::table::LIST_MIN_WIDTH)
    );
    Ok(0)
}
