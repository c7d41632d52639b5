//! `ps`: the container table, `-q`, `--format json`, `--filter`.

use chrono::Utc;

use super::container::PsArgs;
use crate::engine::container::{self as ct, Filter, Status};
use crate::engine::{Engine, EngineError};

fn truncate(s: &str, n: usize, no_trunc: bool) -> String {
    if no_trunc || s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Runs `ps`.
pub fn ps(engine: &Engine, args: &PsArgs) -> anyhow::Result<i32> {
    let filters: Vec<Filter> = args
        .filter
        .iter()
        .map(|f| Filter::parse(f))
        .collect::<Result<_, _>>()?;
    let mut recs = ct::list(engine)?;
    let has_status_filter = filters.iter().any(|f| matches!(f, Filter::Status(_)));
    if !args.all && !has_status_filter {
        recs.retain(|r| matches!(r.state.status, Status::Running | Status::Paused));
    }
    let recs = ct::apply_filters(recs, &filters);
    if args.quiet {
        for r in &recs {
            println!("{}", if args.no_trunc { &r.id } else { r.short_id() });
        }
        return Ok(0);
    }
    let now = Utc::now();
    match args.format.as_deref() {
        Some("json") => {
            for r in &recs {
                let line = serde_json::json!({
                    "ID": if args.no_trunc { r.id.as_str() } else { r.short_id() },
                    "Names": r.name,
                    "Image": r.image,
                    "Command": r.command_line(),
                    "CreatedAt": r.created.to_rfc3339(),
                    "State": r.state.status.as_str(),
                    "Status": r.human_status(now),
                    "ExitCode": r.state.exit_code,
                });
                println!("{line}");
            }
        }
        None | Some("table") => {
            println!(
                "{:<12}   {:<20}   {:<22}   {:<16}   {:<28}   NAMES",
                "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS"
            );
            for r in &recs {
                println!(
                    "{:<12}   {:<20}   {:<22}   {:<16}   {:<28}   {}",
                    if args.no_trunc { &r.id } else { r.short_id() },
                    truncate(&r.image, 20, args.no_trunc),
                    truncate(&format!("\"{}\"", r.command_line()), 22, args.no_trunc),
                    format!("{} ago", ct::record::human_duration(now - r.created)),
                    r.human_status(now),
                    r.name
                );
            }
        }
        Some(other) => {
            return Err(EngineError::InvalidInput(format!(
                "unsupported --format {other:?}: use table or json"
            ))
            .into())
        }
    }
    Ok(0)
}
