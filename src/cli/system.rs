//! `system check [--repair]`: the state database against the files on disk.

use clap::{Args, Subcommand};

use super::Cli;
use crate::engine::system_check;

/// System commands (flattened into the top level as `system …`).
#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Manage berth itself
    #[command(subcommand)]
    System(SystemSub),
}

/// `berth system …`.
#[derive(Debug, Subcommand)]
pub enum SystemSub {
    /// Check the state database against what is on disk (exit 1 when something is wrong)
    Check(CheckArgs),
}

/// `system check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Move a damaged database aside and record the volumes found on disk again
    #[arg(long)]
    pub repair: bool,
}

/// Runs a system command; returns the exit code.
pub fn run(cli: &Cli, cmd: &SystemCommand) -> anyhow::Result<i32> {
    let SystemCommand::System(SystemSub::Check(args)) = cmd;
    let r = system_check::check(&cli.root(), args.repair)?;
    let db = cli.root().join("state.db");
    match (&r.damage, &r.moved_aside) {
        (None, _) => println!("state database {}: ok", db.display()),
        (Some(why), None) => println!("state database: {why}"),
        (Some(why), Some(to)) => {
            println!("state database: {why}");
            println!("moved it aside to {} and started a new one", to.display());
        }
    }
    let verb = if r.repaired {
        "recorded again"
    } else {
        "without a record (--repair records them)"
    };
    if !r.volumes_without_record.is_empty() {
        println!("volumes {verb}:");
        for v in &r.volumes_without_record {
            println!("  {v}");
        }
    }
    if !r.orphan_containers.is_empty() {
        println!(
            "containers with files but no record (cannot be rebuilt; `berth container prune` \
             removes them):"
        );
        for c in &r.orphan_containers {
            println!("  {c}");
        }
    }
    Ok(if r.problems_left() { 1 } else { 0 })
}
