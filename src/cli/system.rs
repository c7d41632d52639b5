//! `version` and `info` (also `system info`): what berth is and what its engine holds, in
//! docker's words and JSON field names, with `--format json|TEMPLATE`; `system check [--repair]`: the
//! state database against the files on disk.

use std::io::Write;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::format::Format;
use super::Cli;
use crate::engine::container::{self as ct, Status};
use crate::engine::distribution::manifest::Platform;
use crate::engine::distribution::mirrors;
use crate::engine::volume::VolumeFilter;
use crate::engine::{system_check, Engine, EngineError};

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
            let restored = tokio::task::spawn_blocking(move || {
                crate::engine::container::restore::restore(&engine)
            })
            .await??;
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
            let engine = cli.engine()?;
            let volumes = engine.volumes(VolumeFilter::default()).await?.len();
            let info = tokio::task::spawn_blocking(move || info(&engine, volumes)).await??;
            let mut out = std::io::stdout().lock();
            if !format.is_default() {
                writeln!(out, "{}", format.render(&info)?)?;
            } else {
                write!(out, "{}", info_text(&info))?;
            }
            Ok(0)
        }
    }
}

fn version(cli: &Cli, a: &FormatArgs) -> anyhow::Result<i32> {
    let host = Platform::host();
    let v = json!({
        "Client": {
            "Platform": {"Name": "berth"},
            "Version": env!("CARGO_PKG_VERSION"),
            "Os": host.os,
            "Arch": host.architecture,
        },
        "Server": {
            "Platform": {"Name": "berth engine (daemonless, in-process)"},
            "Version": env!("CARGO_PKG_VERSION"),
            "Os": host.os,
            "Arch": host.architecture,
            "KernelVersion": kernel_version(),
            "RootDir": cli.root(),
            "Components": [
                {"Name": "Engine", "Version": env!("CARGO_PKG_VERSION")},
                {"Name": "Runtime", "Version": "libcontainer (built in)"},
            ],
        },
    });
    let mut out = std::io::stdout().lock();
    let format = a.parsed()?;
    if !format.is_default() {
        writeln!(out, "{}", format.render(&v)?)?;
        return Ok(0);
    }
    let c = &v["Client"];
    let s = &v["Server"];
    writeln!(out, "Client: berth")?;
    writeln!(out, " Version:           {}", text(&c["Version"]))?;
    writeln!(
        out,
        " OS/Arch:           {}/{}",
        text(&c["Os"]),
        text(&c["Arch"])
    )?;
    writeln!(out)?;
    writeln!(out, "Server: {}", text(&s["Platform"]["Name"]))?;
    writeln!(out, " Engine:")?;
    writeln!(out, "  Version:          {}", text(&s["Version"]))?;
    writeln!(
        out,
        "  OS/Arch:          {}/{}",
        text(&s["Os"]),
        text(&s["Arch"])
    )?;
    writeln!(out, "  Kernel Version:   {}", text(&s["KernelVersion"]))?;
    writeln!(out, "  Root Dir:         {}", text(&s["RootDir"]))?;
    writeln!(out, " Runtime:")?;
    writeln!(out, "  Version:          libcontainer (built in)")?;
    Ok(0)
}

/// A JSON string (or other value) as plain text.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn kernel_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn operating_system() -> String {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".into())
}

fn mem_total() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// "1" or "2": a cgroup2 hierarchy mounted at /sys/fs/cgroup is version 2.
fn cgroup_version() -> &'static str {
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "2"
    } else {
        "1"
    }
}

/// The `info` object, with docker's field names (plus `Volumes` and berth's registries file).
fn info(engine: &Engine, volumes: usize) -> anyhow::Result<Value> {
    let containers = ct::list(engine)?;
    let count = |s: Status| containers.iter().filter(|c| c.state.status == s).count();
    let running = count(Status::Running);
    let paused = count(Status::Paused);
    let images = engine.images()?.len();
    let registries_path = mirrors::registries_path();
    let registries = mirrors::load(&registries_path)?;
    let mut mirror_map = serde_json::Map::new();
    let mut insecure = Vec::new();
    for r in &registries.registry {
        if !r.mirrors.is_empty() {
            mirror_map.insert(r.host.clone(), json!(r.mirrors));
        }
        if r.insecure {
            insecure.push(r.host.clone());
        }
    }
    let host = Platform::host();
    Ok(json!({
        "Containers": containers.len(),
        "ContainersRunning": running,
        "ContainersPaused": paused,
        "ContainersStopped": containers.len() - running - paused,
        "Images": images,
        "Volumes": volumes,
        "Driver": "overlay",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": cgroup_version(),
        "Runtimes": {"libcontainer": {"path": "built in"}},
        "DefaultRuntime": "libcontainer",
        "KernelVersion": kernel_version(),
        "OperatingSystem": operating_system(),
        "OSType": host.os,
        "Architecture": std::env::consts::ARCH,
        "NCPU": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "MemTotal": mem_total(),
        "Name": nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        "ServerVersion": env!("CARGO_PKG_VERSION"),
        "DockerRootDir": engine.layout().root(),
        "RegistryConfig": {
            "ConfigFile": registries_path,
            "Mirrors": mirror_map,
            "InsecureRegistries": insecure,
        },
    }))
}

/// Docker's binary sizes (`7.763GiB`).
pub fn bytes_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    // Four significant digits, as Go's %.4g.
    let int_digits = if value >= 1.0 {
        value.log10().floor() as usize + 1
    } else {
        1
    };
    let text = format!("{:.*}", 4usize.saturating_sub(int_digits), value);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}{}", UNITS[unit])
}

fn info_text(v: &Value) -> String {
    let mut s = String::from("Server:\n");
    let mut line = |label: &str, value: String| s.push_str(&format!(" {label}: {value}\n"));
    line("Containers", text(&v["Containers"]));
    line(" Running", text(&v["ContainersRunning"]));
    line(" Paused", text(&v["ContainersPaused"]));
    line(" Stopped", text(&v["ContainersStopped"]));
    line("Images", text(&v["Images"]));
    line("Volumes", text(&v["Volumes"]));
    line("Server Version", text(&v["ServerVersion"]));
    line("Storage Driver", text(&v["Driver"]));
    line("Cgroup Driver", text(&v["CgroupDriver"]));
    line("Cgroup Version", text(&v["CgroupVersion"]));
    line("Runtimes", text(&v["DefaultRuntime"]));
    line("Default Runtime", text(&v["DefaultRuntime"]));
    line("Kernel Version", text(&v["KernelVersion"]));
    line("Operating System", text(&v["OperatingSystem"]));
    line("OSType", text(&v["OSType"]));
    line("Architecture", text(&v["Architecture"]));
    line("CPUs", text(&v["NCPU"]));
    line(
        "Total Memory",
        bytes_size(v["MemTotal"].as_u64().unwrap_or(0)),
    );
    line("Name", text(&v["Name"]));
    line("Berth Root Dir", text(&v["DockerRootDir"]));
    line(
        "Registries Config",
        text(&v["RegistryConfig"]["ConfigFile"]),
    );
    let reg = &v["RegistryConfig"];
    if let Some(m) = reg["Mirrors"].as_object().filter(|m| !m.is_empty()) {
        s.push_str(" Registry Mirrors:\n");
        for (host, list) in m {
            let list: Vec<String> = list
                .as_array()
                .map(|a| a.iter().map(text).collect())
                .unwrap_or_default();
            s.push_str(&format!("  {host}: {}\n", list.join(", ")));
        }
    }
    if let Some(i) = reg["InsecureRegistries"]
        .as_array()
        .filter(|i| !i.is_empty())
    {
        s.push_str(" Insecure Registries:\n");
        for host in i {
            s.push_str(&format!("  {}\n", text(host)));
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

#[cfg(test)]
mod tests {
    use super::bytes_size;

    #[test]
    fn binary_sizes() {
        assert_eq!(bytes_size(512), "512B");
        assert_eq!(bytes_size(1024), "1KiB");
        assert_eq!(bytes_size(1536), "1.5KiB");
        assert_eq!(bytes_size(8 << 30), "8GiB");
        assert_eq!(bytes_size(8_335_986_688), "7.763GiB");
    }
}
