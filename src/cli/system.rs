//! `version` and `info` (also `system info`): what berth is and what its engine holds, in
//! docker's words and JSON field names, with `--format json|TEMPLATE`; `system check [--repair]`: the
//! state database against the files on disk.

use std::io::Write;

use clap::{Args, Subcommand};

use super::format::Format;
use super::Cli;
use crate::engine::compat::system::Info;
use crate::engine::compat::units;
use crate::engine::{system_check, system_info, EngineError};

/// `version`, `info` and `system …`.
#[derive(Debug, Clone, Subcommand)]
pub enum SystemCommand {
    /// Show the berth version information
    Version(FormatArgs),
    /// Display system-wide information
    Info(FormatArgs),
    /// Get real time events from berth (all its processes write them)
    Events(super::events::EventsArgs),
    /// Manage berth itself
    #[command(subcommand)]
    System(SystemSub),
}

/// `berth system …`.
#[derive(Debug, Clone, Subcommand)]
pub enum SystemSub {
    /// Check the state database against what is on disk (exit 1 when something is wrong)
    Check(CheckArgs),
    /// Display system-wide information
    Info(FormatArgs),
    /// Get real time events from berth (all its processes write them)
    Events(super::events::EventsArgs),
    /// Start the containers whose restart policy is always or unless-stopped (at boot)
    Restore,
    /// Show berth disk usage
    Df(super::system_df::DfArgs),
    /// Remove unused data
    Prune(super::system_df::PruneArgs),
}

/// `system check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Move a damaged database aside and record the volumes found on disk again
    #[arg(long)]
    pub repair: bool,
}

/// `--format` of `version` and `info`.
#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// Format the output: json, or a Go template ('{{.Server.Version}}')
    #[arg(short = 'f', long, value_name = "FORMAT")]
    pub format: Option<String>,
}

impl FormatArgs {
    /// The parsed `--format`: json, or a Go template (an error when it does not parse).
    fn parsed(&self) -> Result<Format, EngineError> {
        Format::parse(self.format.as_deref())
    }
}

/// Runs `version` or `info`.
pub async fn run(cli: &Cli, cmd: &SystemCommand) -> anyhow::Result<i32> {
    match cmd {
        SystemCommand::Version(a) => version(cli, a),
        SystemCommand::System(SystemSub::Check(args)) => check(cli, args),
        SystemCommand::System(SystemSub::Df(a)) => {
            let (engine, a) = (cli.engine()?, a.clone());
            tokio::task::spawn_blocking(move || super::system_df::df(&engine, &a)).await?
        }
        SystemCommand::System(SystemSub::Prune(a)) => {
            let (engine, a) = (cli.engine()?, a.clone());
            tokio::task::spawn_blocking(move || super::system_df::prune(&engine, &a)).await?
        }
        SystemCommand::System(SystemSub::Restore) => {
            let engine = cli.engine()?;
            let restored = engine.restore_containers().await?;
            let mut code = 0;
            for r in restored {
                match r.result {
                    Ok(()) => println!("{}", r.name),
                    Err(e) => {
                        eprintln!("Error: cannot start container {}: {e}", r.name);
                        code = 1;
                    }
                }
            }
            Ok(code)
        }
        SystemCommand::Events(a) | SystemCommand::System(SystemSub::Events(a)) => {
            super::events::run(cli.engine()?, a).await
        }
        SystemCommand::Info(a) | SystemCommand::System(SystemSub::Info(a)) => {
            let format = a.parsed()?;
            let info = cli.engine()?.info().await?;
            let mut out = std::io::stdout().lock();
            if !format.is_default() {
                writeln!(out, "{}", format.render(&serde_json::to_value(&info)?)?)?;
            } else {
                write!(out, "{}", info_text(&info))?;
            }
            Ok(0)
        }
    }
}

fn version(cli: &Cli, a: &FormatArgs) -> anyhow::Result<i32> {
    let v = system_info::version(&cli.root());
    let mut out = std::io::stdout().lock();
    let format = a.parsed()?;
    if !format.is_default() {
        writeln!(out, "{}", format.render(&serde_json::to_value(&v)?)?)?;
        return Ok(0);
    }
    let (c, s) = (&v.client, &v.server);
    writeln!(out, "Client: berth")?;
    writeln!(out, " Version:           {}", c.version)?;
    writeln!(out, " OS/Arch:           {}/{}", c.os, c.arch)?;
    writeln!(out)?;
    writeln!(out, "Server: {}", s.platform.name)?;
    writeln!(out, " Engine:")?;
    writeln!(out, "  Version:          {}", s.version)?;
    writeln!(out, "  OS/Arch:          {}/{}", s.os, s.arch)?;
    writeln!(out, "  Kernel Version:   {}", s.kernel_version)?;
    writeln!(out, "  Root Dir:         {}", s.root_dir.display())?;
    writeln!(out, " Runtime:")?;
    writeln!(out, "  Version:          libcontainer (built in)")?;
    Ok(0)
}

fn info_text(v: &Info) -> String {
    let mut s = String::from("Server:\n");
    let mut line =
        |label: &str, value: &dyn std::fmt::Display| s.push_str(&format!(" {label}: {value}\n"));
    line("Containers", &v.containers);
    line(" Running", &v.containers_running);
    line(" Paused", &v.containers_paused);
    line(" Stopped", &v.containers_stopped);
    line("Images", &v.images);
    line("Volumes", &v.volumes);
    line("Server Version", &v.server_version);
    line("Storage Driver", &v.driver);
    line("Cgroup Driver", &v.cgroup_driver);
    line("Cgroup Version", &v.cgroup_version);
    line("Runtimes", &v.default_runtime);
    line("Default Runtime", &v.default_runtime);
    line("Kernel Version", &v.kernel_version);
    line("Operating System", &v.operating_system);
    line("OSType", &v.os_type);
    line("Architecture", &v.architecture);
    line("CPUs", &v.ncpu);
    line("Total Memory", &units::bytes_size(v.mem_total));
    line("Name", &v.name);
    line("Berth Root Dir", &v.docker_root_dir.display());
    line(
        "Registries Config",
        &v.registry_config.config_file.display(),
    );
    let reg = &v.registry_config;
    if !reg.mirrors.is_empty() {
        s.push_str(" Registry Mirrors:\n");
        for (host, list) in &reg.mirrors {
            s.push_str(&format!("  {host}: {}\n", list.join(", ")));
        }
    }
    if !reg.insecure_registries.is_empty() {
        s.push_str(" Insecure Registries:\n");
        for host in &reg.insecure_registries {
            s.push_str(&format!("  {host}\n"));
        }
    }
    s
}

/// `system check [--repair]`; exit 1 when problems are left.
fn check(cli: &Cli, args: &CheckArgs) -> anyhow::Result<i32> {
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
