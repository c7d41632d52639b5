//! `events`: the journal as docker prints it, one event a line, following new events live
//! until `--until` passes (or forever).

use std::io::Write;

use chrono::{DateTime, Local, Utc};
use clap::Args;

use super::container::parse_time_opt;
use super::format::Format;
use crate::engine::compat::events::EventMessage;
use crate::engine::journal::follow::EventsQuery;
use crate::engine::journal::{Event, EventFilter};
use crate::engine::Engine;

#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Show all events created since timestamp (RFC 3339, Unix seconds) or relative (e.g. 42m)
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    pub until: Option<String>,
    /// Filter output based on conditions provided (type=, event=, container=, image=, label=,
    /// volume=, network=)
    #[arg(short = 'f', long)]
    pub filter: Vec<String>,
    /// Format output using a custom template: 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

/// Runs `events`.
pub async fn run(engine: Engine, args: &EventsArgs) -> anyhow::Result<i32> {
    let now = Utc::now();
    let query = EventsQuery {
        since: parse_time_opt(args.since.as_deref(), now)?,
        until: parse_time_opt(args.until.as_deref(), now)?,
        filter: EventFilter::parse(&args.filter)?,
    };
    let format = Format::parse(args.format.as_deref())?;
    let mut events = engine.follow_events(query)?;
    while let Some(event) = events.recv().await {
        let line = render(&format, &event?)?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(0)
}

/// One event: docker's line, or through `--format`.
fn render(format: &Format, e: &Event) -> anyhow::Result<String> {
    let message = EventMessage::from(e);
    Ok(match format {
        Format::Default => line(e),
        Format::Json => serde_json::to_string(&message)?,
        f => {
            // A template names docker's Go fields (`.TimeNano`, `.Status`), JSON its tags.
            let mut v = serde_json::to_value(&message)?;
            if let Some(m) = v.as_object_mut() {
                for (json, go) in [
                    ("status", "Status"),
                    ("id", "ID"),
                    ("from", "From"),
                    ("scope", "Scope"),
                    ("time", "Time"),
                    ("timeNano", "TimeNano"),
                ] {
                    if let Some(x) = m.get(json).cloned() {
                        m.insert(go.to_string(), x);
                    }
                }
            }
            f.render(&v)?
        }
    })
}

/// `2026-12-07T11:30:00.123456789Z container start ID (image=busybox, name=web)`, in local
/// time as docker prints it.
pub fn line(e: &Event) -> String {
    let mut s = format!(
        "{} {} {} {}",
        timestamp(e.time),
        e.kind.as_str(),
        e.action,
        e.actor_id
    );
    if !e.attributes.is_empty() {
        let attrs: Vec<String> = e
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        s.push_str(&format!(" ({})", attrs.join(", ")));
    }
    s
}

/// Go's RFC3339NanoFixed in local time (`Z` for UTC).
fn timestamp(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Local);
    let text = local.format("%Y-%m-%dT%H:%M:%S%.9f%:z").to_string();
    match text.strip_suffix("+00:00") {
        Some(base) => format!("{base}Z"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::journal::EventType;

    #[test]
    fn docker_line() {
        let mut e = Event::new(EventType::Container, "die", "abc")
            .with("name", "web")
            .with("exitCode", 3);
        e.time = DateTime::from_timestamp(1_700_000_000, 5).unwrap();
        let l = line(&e);
        assert!(
            l.ends_with(" container die abc (exitCode=3, name=web)"),
            "{l}"
        );
        assert!(l.contains(".000000005"), "{l}");
        let m = serde_json::to_value(EventMessage::from(&e)).unwrap();
        assert_eq!(m["Type"], "container");
        assert_eq!(m["Action"], "die");
        assert_eq!(m["status"], "die");
        assert_eq!(m["Actor"]["ID"], "abc");
        assert_eq!(m["Actor"]["Attributes"]["exitCode"], "3");
        assert_eq!(m["timeNano"], 1_700_000_000_000_000_005i64);
        assert_eq!(m["time"], 1_700_000_000);
    }
}
