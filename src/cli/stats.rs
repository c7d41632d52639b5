//! `stats`: docker's table of CPU, memory, network, block I/O and pids per container, redrawn
//! every second in place (or one sample with `--no-stream`).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Args;

use super::format::Format;
use super::progress::human_size;
use crate::engine::compat::rows::STATS_HEADERS;
use crate::engine::compat::units::bytes_size;
use crate::engine::compat::StatsRow;
use crate::engine::stats::{ContainerStats, StatsSelection};
use crate::engine::Engine;

/// Docker's default `stats` table.
const DEFAULT_FORMAT: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t\
                              {{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Disable streaming stats and only pull the first result (CPU % since the start)
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Containers (default: all running, or all with -a)
    pub containers: Vec<String>,
}

/// Runs `stats`.
pub async fn run(engine: Engine, args: &StatsArgs) -> anyhow::Result<i32> {
    let format = match Format::parse(args.format.as_deref())? {
        Format::Default => Format::parse(Some(DEFAULT_FORMAT))?,
        f => f,
    };
    let selection = if !args.containers.is_empty() {
        StatsSelection::Named(args.containers.clone())
    } else if args.all {
        StatsSelection::All
    } else {
        StatsSelection::Running
    };
    if args.no_stream {
        let sample = engine.container_stats(selection).await?;
        print!("{}", render(&format, &sample, args)?);
        return Ok(0);
    }
    let mut stream = engine.stats_stream(selection, Duration::from_secs(1))?;
    let terminal = std::io::stdout().is_terminal();
    if terminal {
        // Docker clears the screen once, then redraws over the table in place.
        print!("\x1b[2J");
    }
    while let Some(sample) = stream.recv().await {
        let text = render(&format, &sample?, args)?;
        let mut out = std::io::stdout().lock();
        if terminal {
            let mut frame = String::from("\x1b[H");
            for line in text.lines() {
                frame.push_str(line);
                frame.push_str("\x1b[K\n");
            }
            frame.push_str("\x1b[J");
            out.write_all(frame.as_bytes())?;
        } else {
            out.write_all(text.as_bytes())?;
        }
        out.flush()?;
    }
    Ok(0)
}

/// The text of one sample.
fn render(format: &Format, sample: &[ContainerStats], args: &StatsArgs) -> anyhow::Result<String> {
    let rows: Vec<StatsRow> = sample
        .iter()
        .map(|s| {
            // The CONTAINER cell is the reference the user gave for it.
            let named = args.containers.iter().find(|r| {
                let r = r.strip_prefix('/').unwrap_or(r);
                r == s.name || s.id.starts_with(r)
            });
            row(s, named.map(String::as_str), args.no_trunc)
        })
        .collect();
    Ok(format.list(&rows, STATS_HEADERS)?)
}

/// Docker's cells of one container: percentages with two decimals, memory in binary units,
/// network and block I/O in decimal units.
pub fn row(s: &ContainerStats, named: Option<&str>, no_trunc: bool) -> StatsRow {
    let id = if no_trunc {
        s.id.clone()
    } else {
        s.id[..12.min(s.id.len())].to_string()
    };
    StatsRow {
        container: named.map(String::from).unwrap_or_else(|| id.clone()),
        id,
        name: if s.name.is_empty() {
            "--".into()
        } else {
            s.name.clone()
        },
        cpu_perc: format!("{:.2}%", s.cpu_percent),
        mem_usage: format!(
            "{} / {}",
            bytes_size(s.memory_usage),
            bytes_size(s.memory_limit)
        ),
        mem_perc: format!("{:.2}%", s.memory_percent),
        net_io: format!("{} / {}", human_size(s.net_rx), human_size(s.net_tx)),
        block_io: format!(
            "{} / {}",
            human_size(s.block_read),
            human_size(s.block_write)
        ),
        pids: s.pids.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_as_docker_prints_them() {
        let s = ContainerStats {
            id: "0123456789abcdef".repeat(4),
            name: "web".into(),
            running: true,
            cpu_percent: 12.345,
            cpu_total_ns: 1,
            memory_usage: 3 * 1024 * 1024 / 2,
            memory_limit: 512 * 1024 * 1024,
            memory_percent: 0.29296875,
            net_rx: 1234,
            net_tx: 648,
            block_read: 0,
            block_write: 4_100_000,
            pids: 3,
            read_at: chrono::Utc::now(),
        };
        let r = row(&s, None, false);
        assert_eq!(r.id, "0123456789ab");
        assert_eq!(r.container, "0123456789ab");
        assert_eq!(r.cpu_perc, "12.35%");
        assert_eq!(r.mem_usage, "1.5MiB / 512MiB");
        assert_eq!(r.mem_perc, "0.29%");
        assert_eq!(r.net_io, "1.23kB / 648B");
        assert_eq!(r.block_io, "0B / 4.1MB");
        assert_eq!(r.pids, "3");
        assert_eq!(row(&s, Some("web"), true).container, "web");
        assert_eq!(row(&s, Some("web"), true).id.len(), 64);
    }
}
