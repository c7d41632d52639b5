//! `ps` (the container table, `-q`, `-l`, `-n`, `-s`, `--format json|TEMPLATE`, `--filter`) and `top`
//! (the host's `ps` over the container's processes).

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use clap::Args;

use super::format::Format;
use super::progress::human_size;
use super::{block_on, table};
use crate::engine::compat::{rows::PS_HEADERS, PsRow};
use crate::engine::container::{self as ct, ContainerRecord, Filter, Status};
use crate::engine::{Engine, EngineError};

/// `berth ps`.
#[derive(Debug, Clone, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only display container ids
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Format: table (default), json, or a Go template ('table {{.ID}}\t{{.Names}}')
    #[arg(long)]
    pub format: Option<String>,
    /// Filter output (status=, name=, id=, exited=, ancestor=, before=, since=, volume=, label=)
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", value_name = "N")]
    pub last: Option<usize>,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Display total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
}

/// Go's `Ellipsis`: at most `n` characters, the last one `…` when cut.
fn ellipsis(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Go's `strconv.Quote` for what a command line holds: quotes, backslashes and control
/// characters escaped.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Docker's COMMAND cell: cut to 20 characters (unless `--no-trunc`), then quoted.
fn command_cell(rec: &ContainerRecord, no_trunc: bool) -> String {
    let line = rec.command_line();
    quote(&if no_trunc { line } else { ellipsis(&line, 20) })
}

/// Docker's SIZE cell: the writable layer, and with the image under it.
fn size_cell(
    engine: &Engine,
    rec: &ContainerRecord,
    image_sizes: &HashMap<String, u64>,
) -> Result<String, EngineError> {
    let image = image_sizes.get(&rec.image_id).copied().unwrap_or(0);
    let size = block_on(engine.container_size(rec.clone(), Some(image)))?;
    Ok(format!(
        "{} (virtual {})",
        human_size(size.rw),
        human_size(size.root_fs)
    ))
}

/// A container's labels (its image's with `--label` applied) as docker's `ps` prints them,
/// `k=v,…` in key order.
fn labels_cell(r: &ContainerRecord) -> String {
    let labels: Vec<String> = r
        .config
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    labels.join(",")
}

/// Docker's `ps` row of `rec`, for `--format`.
fn ps_row(
    engine: &Engine,
    r: &ContainerRecord,
    ports: &str,
    args: &PsArgs,
    image_sizes: &HashMap<String, u64>,
    now: chrono::DateTime<Utc>,
) -> Result<PsRow, EngineError> {
    let mounts = |local_only: bool| {
        r.mounts
            .iter()
            .filter(|m| !local_only || !m.name.is_empty())
            .map(|m| {
                if m.name.is_empty() {
                    m.source.clone()
                } else {
                    m.name.clone()
                }
            })
            .collect::<Vec<_>>()
    };
    Ok(PsRow {
        id: if args.no_trunc {
            r.id.clone()
        } else {
            r.short_id().to_string()
        },
        image: r.image.clone(),
        command: command_cell(r, args.no_trunc),
        created_at: r.created.format("%Y-%m-%d %H:%M:%S %z UTC").to_string(),
        running_for: format!("{} ago", ct::record::human_duration(now - r.created)),
        ports: ports.to_string(),
        state: r.state.status.as_str().to_string(),
        status: r.human_status(now),
        size: if args.size {
            size_cell(engine, r, image_sizes)?
        } else {
            String::new()
        },
        names: r.name.clone(),
        labels: labels_cell(r),
        mounts: mounts(false).join(","),
        networks: r.host_config.network_mode.to_string(),
        local_volumes: mounts(true).len().to_string(),
        exit_code: r.state.exit_code,
    })
}

/// Runs `ps`.
pub fn ps(engine: &Engine, args: &PsArgs) -> anyhow::Result<i32> {
    let filters: Vec<Filter> = args
        .filter
        .iter()
        .map(|f| Filter::parse_in(engine, f))
        .collect::<Result<_, _>>()?;
    let filters_state = filters
        .iter()
        .any(|f| matches!(f, Filter::Status(_) | Filter::Exited(_)));
    let mut recs = block_on(engine.containers(filters))?;
    let last = if args.latest { Some(1) } else { args.last };
    let shows_all = args.all || last.is_some() || filters_state;
    if !shows_all {
        // A container waiting to be restarted counts as running, as in docker.
        recs.retain(|r| {
            matches!(r.state.status, Status::Running | Status::Paused) || r.state.restarting
        });
    }
    // Newest first (the list's order): `-n N` keeps the N last created.
    if let Some(n) = last {
        recs.truncate(n);
    }
    if args.quiet {
        for r in &recs {
            println!("{}", if args.no_trunc { &r.id } else { r.short_id() });
        }
        return Ok(0);
    }
    let image_sizes: HashMap<String, u64> = if args.size {
        block_on(engine.image_list())?
            .into_iter()
            .map(|u| (u.image.id, u.image.size))
            .collect()
    } else {
        HashMap::new()
    };
    let recs = block_on(engine.with_ports_columns(recs))?;
    let now = Utc::now();
    let format = Format::parse(args.format.as_deref())?;
    match format {
        Format::Json | Format::Template { .. } => {
            let rows: Vec<PsRow> = recs
                .iter()
                .map(|(r, ports)| ps_row(engine, r, ports, args, &image_sizes, now))
                .collect::<Result<_, _>>()?;
            print!("{}", format.list(&rows, PS_HEADERS)?);
        }
        Format::Default => {
            let mut header = vec![
                "CONTAINER ID",
                "IMAGE",
                "COMMAND",
                "CREATED",
                "STATUS",
                "PORTS",
                "NAMES",
            ];
            if args.size {
                header.push("SIZE");
            }
            let mut rows = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
            for (r, ports) in &recs {
                let mut row = vec![
                    if args.no_trunc {
                        r.id.clone()
                    } else {
                        r.short_id().to_string()
                    },
                    r.image.clone(),
                    command_cell(r, args.no_trunc),
                    format!("{} ago", ct::record::human_duration(now - r.created)),
                    r.human_status(now),
                    ports.clone(),
                    r.name.clone(),
                ];
                if args.size {
                    row.push(size_cell(engine, r, &image_sizes)?);
                }
                rows.push(row);
            }
            print!("{}", table::render(&rows, table::LIST_MIN_WIDTH));
        }
    }
    Ok(0)
}

/// `berth top`.
#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    /// Container name or id
    pub container: String,
    /// Options for the host's `ps` (default `-ef`), as docker passes them
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ps OPTIONS"
    )]
    pub ps_options: Vec<String>,
}

/// Runs `top`: the host's `ps` with the given options (docker's default `-ef`), keeping the
/// header and the rows of the container's processes, aligned as docker aligns them.
pub fn top(engine: &Engine, args: &TopArgs) -> anyhow::Result<i32> {
    let pids: HashSet<String> = block_on(engine.container_top(args.container.clone()))?
        .into_iter()
        .map(|p| p.pid.to_string())
        .collect();
    let options = if args.ps_options.is_empty() {
        vec!["-ef".to_string()]
    } else {
        args.ps_options.clone()
    };
    let output = std::process::Command::new("ps")
        .args(&options)
        .output()
        .map_err(|e| {
            EngineError::Runtime(format!("cannot run the host's ps (install procps): {e}"))
        })?;
    if !output.status.success() {
        return Err(EngineError::InvalidInput(format!(
            "ps {}: {}",
            options.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
        .into());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let rows = ps_rows(&text, &pids)?;
    print!("{}", table::render(&rows, table::TOP_MIN_WIDTH));
    Ok(0)
}

/// Splits `ps` output into the header's columns (the last column takes the rest of the line)
/// and keeps the rows whose PID is one of `pids`.
fn ps_rows(text: &str, pids: &HashSet<String>) -> Result<Vec<Vec<String>>, EngineError> {
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    let pid_col = header.iter().position(|h| h == "PID").ok_or_else(|| {
        EngineError::InvalidInput(
            "Couldn't find PID field in ps output: give ps options that print PID".into(),
        )
    })?;
    let mut rows = vec![header.clone()];
    for line in lines {
        let mut cells = Vec::with_capacity(header.len());
        let mut rest = line.trim_start();
        while cells.len() + 1 < header.len() && !rest.is_empty() {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            cells.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
        cells.push(rest.to_string());
        if cells.get(pid_col).is_some_and(|p| pids.contains(p)) {
            rows.push(cells);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_cut_inside_their_quotes() {
        assert_eq!(quote(&ellipsis("sleep 100", 20)), "\"sleep 100\"");
        assert_eq!(
            quote(&ellipsis("sh -c while true; do sleep 1; done", 20)),
            "\"sh -c while true; d…\""
        );
        assert_eq!(quote("echo \"hi\""), "\"echo \\\"hi\\\"\"");
    }

    #[test]
    fn ps_rows_keep_the_container_processes() {
        let text = "UID PID PPID C STIME TTY TIME CMD\n\
                    root 1 0 0 10:00 ? 00:00:01 /sbin/init splash\n\
                    root 42 1 0 10:01 ? 00:00:00 sleep 100\n";
        let pids = HashSet::from(["42".to_string()]);
        let rows = ps_rows(text, &pids).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1][1], "42");
        assert_eq!(rows[1][7], "sleep 100");
        assert!(ps_rows("USER COMMAND\n", &pids).is_err());
    }
}
