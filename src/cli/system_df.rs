//! `system df [-v] [--format]` and `system prune [-a] [--volumes] [-f]`, as docker prints them.

use std::io::Write;

use chrono::Utc;
use clap::Args;
use serde::Serialize;

use super::format::Format;
use super::{prompt, table};
use crate::engine::compat::units::human_size;
use crate::engine::container::record::human_duration;
use crate::engine::system::{DiskUsage, SystemPrune};
use crate::engine::Engine;

#[derive(Debug, Clone, Args)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Remove all unused images not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Prune anonymous volumes
    #[arg(long)]
    pub volumes: bool,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// A row of the summary (docker's `diskUsageContext` fields).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DfRow {
    #[serde(rename = "Type")]
    pub kind: String,
    pub total_count: String,
    pub active: String,
    pub size: String,
    pub reclaimable: String,
}

const DF_HEADERS: &[(&str, &str)] = &[
    ("Type", "TYPE"),
    ("TotalCount", "TOTAL"),
    ("Active", "ACTIVE"),
    ("Size", "SIZE"),
    ("Reclaimable", "RECLAIMABLE"),
];

/// Docker's RECLAIMABLE cell: the size, with its share of the total when there is one.
fn reclaimable(part: u64, total: u64) -> String {
    match (part * 100).checked_div(total) {
        Some(share) => format!("{} ({share}%)", human_size(part)),
        None => human_size(part),
    }
}

/// The summary rows.
pub fn rows(du: &DiskUsage) -> Vec<DfRow> {
    let row = |kind: &str, total: usize, active: usize, size: u64, rec: u64| DfRow {
        kind: kind.into(),
        total_count: total.to_string(),
        active: active.to_string(),
        size: human_size(size),
        reclaimable: reclaimable(rec, size),
    };
    vec![
        row(
            "Images",
            du.images.len(),
            du.images.iter().filter(|i| i.containers > 0).count(),
            du.images_size,
            du.images_reclaimable,
        ),
        row(
            "Containers",
            du.containers.len(),
            du.containers.iter().filter(|c| c.running).count(),
            du.containers_size(),
            du.containers_reclaimable(),
        ),
        row(
            "Local Volumes",
            du.volumes.len(),
            du.volumes.iter().filter(|v| v.links > 0).count(),
            du.volumes_size(),
            du.volumes_reclaimable(),
        ),
        row(
            "Build Cache",
            du.build_cache_entries,
            0,
            du.build_cache,
            du.build_cache,
        ),
    ]
}

/// Runs `system df`.
pub fn df(engine: &Engine, args: &DfArgs) -> anyhow::Result<i32> {
    let du = crate::cli::block_on(engine.system_df())?;
    let mut out = std::io::stdout().lock();
    let format = Format::parse(args.format.as_deref())?;
    if !format.is_default() {
        write!(out, "{}", format.list(&rows(&du), DF_HEADERS)?)?;
        return Ok(0);
    }
    if !args.verbose {
        let mut cells = vec![DF_HEADERS.iter().map(|(_, h)| h.to_string()).collect()];
        for r in rows(&du) {
            cells.push(vec![r.kind, r.total_count, r.active, r.size, r.reclaimable]);
        }
        write!(out, "{}", table::render(&cells, table::LIST_MIN_WIDTH))?;
        return Ok(0);
    }
    write!(out, "{}", verbose(&du))?;
    Ok(0)
}

/// `df -v`: one table per kind.
fn verbose(du: &DiskUsage) -> String {
    let now = Utc::now();
    let mut s = String::from("Images space usage:\n\n");
    let mut cells = vec![cols(&[
        "REPOSITORY",
        "TAG",
        "IMAGE ID",
        "CREATED",
        "SIZE",
        "SHARED SIZE",
        "UNIQUE SIZE",
        "CONTAINERS",
    ])];
    for i in &du.images {
        let created = i
            .created
            .as_deref()
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
            .map(|c| format!("{} ago", human_duration(now - c.with_timezone(&Utc))))
            .unwrap_or_else(|| "N/A".into());
        let short = i.id.trim_start_matches("sha256:");
        let short = &short[..12.min(short.len())];
        let names: Vec<(String, String)> = if i.repo_tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            i.repo_tags
                .iter()
                .map(|t| {
                    let f = crate::engine::image::record::familiar(t);
                    match f.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')) {
                        Some((r, t)) => (r.to_string(), t.to_string()),
                        None => (f.clone(), "<none>".into()),
                    }
                })
                .collect()
        };
        for (repo, tag) in names {
            cells.push(vec![
                repo,
                tag,
                short.to_string(),
                created.clone(),
                human_size(i.size),
                human_size(i.shared_size),
                human_size(i.size - i.shared_size),
                i.containers.to_string(),
            ]);
        }
    }
    s.push_str(&table::render(&cells, table::LIST_MIN_WIDTH));
    s.push_str("\nContainers space usage:\n\n");
    let mut cells = vec![cols(&[
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "LOCAL VOLUMES",
        "SIZE",
        "CREATED",
        "STATUS",
        "NAMES",
    ])];
    for c in &du.containers {
        let command: String = if c.command.chars().count() > 20 {
            c.command.chars().take(19).chain(['…']).collect()
        } else {
            c.command.clone()
        };
        cells.push(vec![
            c.id[..12.min(c.id.len())].to_string(),
            c.image.clone(),
            format!("{command:?}"),
            c.local_volumes.to_string(),
            human_size(c.size_rw),
            format!("{} ago", human_duration(now - c.created)),
            c.status.clone(),
            c.name.clone(),
        ]);
    }
    s.push_str(&table::render(&cells, table::LIST_MIN_WIDTH));
    s.push_str("\nLocal Volumes space usage:\n\n");
    let mut cells = vec![cols(&["VOLUME NAME", "LINKS", "SIZE"])];
    for v in &du.volumes {
        cells.push(vec![
            v.name.clone(),
            v.links.to_string(),
            human_size(v.size),
        ]);
    }
    s.push_str(&table::render(&cells, table::LIST_MIN_WIDTH));
    s.push_str(&format!(
        "\nBuild cache usage: {}\n",
        human_size(du.build_cache)
    ));
    s
}

fn cols(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Runs `system prune`: asks first unless `-f`, then prints what went, as docker does.
pub fn prune(engine: &Engine, args: &PruneArgs) -> anyhow::Result<i32> {
    let mut warning = String::from("WARNING! This will remove:\n  - all stopped containers\n");
    if args.volumes {
        warning.push_str("  - all anonymous volumes not used by at least one container\n");
    }
    if args.all {
        warning.push_str("  - all images without at least one container associated to them\n");
    } else {
        warning.push_str("  - all dangling images\n");
    }
    warning.push_str("\nAre you sure you want to continue?");
    if !args.force && !prompt::confirm(&warning)? {
        return Ok(0);
    }
    let report = crate::cli::block_on(engine.system_prune(SystemPrune {
        all_images: args.all,
        volumes: args.volumes,
    }))?;
    let mut out = std::io::stdout().lock();
    if !report.containers.is_empty() {
        writeln!(out, "Deleted Containers:")?;
        for c in &report.containers {
            writeln!(out, "{}", c.id)?;
        }
        writeln!(out)?;
    }
    if let Some(v) = report
        .volumes
        .as_ref()
        .filter(|v| !v.volumes_deleted.is_empty())
    {
        writeln!(out, "Deleted Volumes:")?;
        for name in &v.volumes_deleted {
            writeln!(out, "{name}")?;
        }
        writeln!(out)?;
    }
    if !report.images.images.is_empty() {
        writeln!(out, "Deleted Images:")?;
        for name in &report.images.untagged {
            writeln!(out, "untagged: {name}")?;
        }
        for id in &report.images.images {
            writeln!(out, "deleted: {id}")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Total reclaimed space: {}",
        human_size(report.reclaimed())
    )?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reclaimable_cells_as_docker() {
        assert_eq!(reclaimable(0, 0), "0B");
        assert_eq!(reclaimable(500, 1000), "500B (50%)");
        assert_eq!(reclaimable(0, 1000), "0B (0%)");
    }
}
