//! Reading containers: list (with filters), Docker-shaped inspect, rename, top.

use super::record::{ContainerRecord, Status};
use super::store::ContainerStore;
use super::{names, reconcile, store};
use crate::engine::error::{EngineError, Result};
use crate::engine::{Engine, EngineEvent};

/// Every container, newest first, with lost monitors noticed.
pub fn list(engine: &Engine) -> Result<Vec<ContainerRecord>> {
    let all = engine.state().read(|tx| ContainerStore::of(tx).list())?;
    all.into_iter()
        .map(|rec| reconcile::check(engine, rec))
        .collect()
}

/// Like [`list`], each record turned into `f(record, its PORTS cell)` as soon as it is read,
/// for a caller that keeps a little of each (the TUI's list rows): all the full records are
/// never held at once (3 MB for 1,000 containers, on top of full log buffers). Newest first,
/// then by id; a record whose monitor may be lost is checked after the read, as [`list`] does.
pub fn list_mapped<T>(
    engine: &Engine,
    mut f: impl FnMut(ContainerRecord, String) -> T,
) -> Result<Vec<T>> {
    let mut keyed = Vec::new();
    let mut suspects = Vec::new();
    engine.state().read(|tx| {
        ContainerStore::of(tx).each(|rec| {
            if reconcile::suspect(engine, &rec) {
                suspects.push(rec);
            } else {
                let ports = engine.ports_column(&rec);
                keyed.push((rec.created, rec.id.clone(), f(rec, ports)));
            }
            Ok(())
        })
    })?;
    for rec in suspects {
        let rec = reconcile::check(engine, rec)?;
        let ports = engine.ports_column(&rec);
        keyed.push((rec.created, rec.id.clone(), f(rec, ports)));
    }
    keyed.sort_unstable_by(|a, b| store::ps_order((&a.0, &a.1), (&b.0, &b.1)));
    Ok(keyed.into_iter().map(|(_, _, t)| t).collect())
}

/// A `ps --filter` condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Status(Status),
    /// Substring of the name, as Docker matches.
    Name(String),
    /// Prefix of the id.
    Id(String),
    /// Exited with this code.
    Exited(i32),
    /// Made from this image: its name as given, or the id it resolves to.
    Ancestor {
        name: String,
        id: Option<String>,
    },
    /// Created before this time (another container's creation).
    Before(chrono::DateTime<chrono::Utc>),
    /// Created after this time (another container's creation).
    Since(chrono::DateTime<chrono::Utc>),
    /// Mounts this volume (by name) or has a mount at this destination.
    Volume(String),
    /// Health `starting`, `healthy`, `unhealthy`, or `none` (no health check).
    Health(String),
    /// Carries the label `key` (with `value` when given). Containers have their image's labels
    /// (as in docker, where a container's labels start as its image's), so this holds the ids
    /// of the images that carry it, looked up once when the filter is parsed.
    Label {
        key: String,
        value: Option<String>,
        image_ids: Vec<String>,
    },
}

/// Ids of the images whose config has label `key` (equal to `value` when given).
fn images_labelled(engine: &Engine, key: &str, value: Option<&str>) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for img in engine.images()? {
        let v = engine.inspect_image(&img.id)?;
        let label = v.config["Labels"][key].as_str();
        if label.is_some() && value.is_none_or(|want| label == Some(want)) {
            ids.push(img.id);
        }
    }
    Ok(ids)
}

impl Filter {
    /// Parses every `ps --filter` form: those of [`Filter::parse`] and the ones that look
    /// things up (`ancestor=IMAGE`, `before=CONTAINER`, `since=CONTAINER`), `exited=CODE` and
    /// `volume=NAME|DESTINATION`.
    pub fn parse_in(engine: &Engine, s: &str) -> Result<Filter> {
        let created = |r: &str| -> Result<chrono::DateTime<chrono::Utc>> {
            Ok(get(engine, &super::resolve(engine, r)?)?.created)
        };
        match s.split_once('=') {
            Some(("exited", v)) => v.parse().map(Filter::Exited).map_err(|_| {
                EngineError::InvalidInput(format!(
                    "invalid filter 'exited={v}': the exit code must be a number"
                ))
            }),
            Some(("ancestor", v)) => Ok(Filter::Ancestor {
                name: v.to_string(),
                id: engine.image(v).ok().map(|i| i.id),
            }),
            Some(("before", v)) => Ok(Filter::Before(created(v)?)),
            Some(("since", v)) => Ok(Filter::Since(created(v)?)),
            Some(("volume", v)) => Ok(Filter::Volume(v.to_string())),
            Some(("health", v)) => match v {
                "starting" | "healthy" | "unhealthy" | "none" => Ok(Filter::Health(v.to_string())),
                _ => Err(EngineError::InvalidInput(format!(
                    "Unrecognised filter value for health: {v}: use starting, healthy, unhealthy \
                     or none"
                ))),
            },
            Some(("label", v)) => {
                let (key, value) = match v.split_once('=') {
                    Some((k, val)) => (k, Some(val)),
                    None => (v, None),
                };
                Ok(Filter::Label {
                    key: key.to_string(),
                    value: value.map(str::to_string),
                    image_ids: images_labelled(engine, key, value)?,
                })
            }
            Some(("status" | "name" | "id", _)) => Filter::parse(s),
            _ => Err(EngineError::InvalidInput(format!(
                "invalid filter {s:?}: use status=, name=, id=, exited=, ancestor=, before=, \
                 since=, volume=, health= or label="
            ))),
        }
    }

    /// Parses `status=…`, `name=…`, `id=…`.
    pub fn parse(s: &str) -> Result<Filter> {
        match s.split_once('=') {
            Some(("status", v)) => Ok(Filter::Status(Status::parse(v)?)),
            Some(("name", v)) => Ok(Filter::Name(v.to_string())),
            Some(("id", v)) => Ok(Filter::Id(v.to_string())),
            _ => Err(EngineError::InvalidInput(format!(
                "invalid filter {s:?}: use status=STATUS, name=NAME or id=ID"
            ))),
        }
    }

    /// Whether `rec` passes.
    pub fn matches(&self, rec: &ContainerRecord) -> bool {
        match self {
            Filter::Status(s) => rec.state.status == *s,
            Filter::Name(n) => rec.name.contains(n.as_str()),
            Filter::Id(p) => rec.id.starts_with(p.as_str()),
            Filter::Exited(code) => {
                rec.state.status == Status::Exited && rec.state.exit_code == *code
            }
            Filter::Ancestor { name, id } => {
                rec.image == *name || id.as_ref().is_some_and(|id| *id == rec.image_id)
            }
            Filter::Before(t) => rec.created < *t,
            Filter::Since(t) => rec.created > *t,
            Filter::Health(h) => rec.health_word() == h,
            Filter::Volume(v) => rec
                .mounts
                .iter()
                .any(|m| m.name == *v || m.destination == *v),
            // A record from before labels were recorded has only its image's.
            Filter::Label {
                key,
                value,
                image_ids,
            } => match rec.config.labels.get(key) {
                Some(v) => value.as_ref().is_none_or(|want| want == v),
                None => rec.config.labels.is_empty() && image_ids.contains(&rec.image_id),
            },
        }
    }
}

/// Filters combine like Docker's: the same key ORs, different keys AND.
pub fn apply_filters(recs: Vec<ContainerRecord>, filters: &[Filter]) -> Vec<ContainerRecord> {
    let key = |f: &Filter| std::mem::discriminant(f);
    recs.into_iter()
        .filter(|r| {
            filters.iter().all(|f| {
                filters
                    .iter()
                    .filter(|g| key(g) == key(f))
                    .any(|g| g.matches(r))
            })
        })
        .collect()
}

/// One container (after noticing a lost monitor).
pub fn get(engine: &Engine, id: &str) -> Result<ContainerRecord> {
    reconcile::check(engine, store::load(engine.state(), id)?)
}

/// `rename OLD NEW`.
pub fn rename(engine: &Engine, id: &str, new_name: &str) -> Result<()> {
    let new_name = new_name.strip_prefix('/').unwrap_or(new_name);
    names::validate(new_name)?;
    let _lock = store::lock(engine.layout(), id)?;
    engine.state().write(|tx| {
        let mut rec = ContainerStore::of(tx)
            .get(id)?
            .ok_or_else(|| store::not_found(id))?;
        if rec.name == new_name {
            return Err(EngineError::InvalidInput(format!(
                "renaming a container with the same name as its current name: {new_name}"
            )));
        }
        if ContainerStore::of(tx).name_taken(new_name)? {
            return Err(EngineError::Conflict(format!(
                "the container name \"/{new_name}\" is already in use: choose another name"
            )));
        }
        let old = std::mem::replace(&mut rec.name, new_name.to_string());
        ContainerStore::of(tx).save(&rec)?;
        let event = crate::engine::journal::Event::container(&rec, "rename").with("oldName", old);
        crate::engine::journal::record(tx, &event)
    })?;
    engine.emit(EngineEvent::ContainersChanged);
    Ok(())
}

/// One process of `top`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopProcess {
    pub uid: u32,
    pub pid: i32,
    pub ppid: i32,
    pub cmd: String,
}

fn cgroup_procs(id: &str) -> Option<Vec<i32>> {
    for base in [
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/cpu,cpuacct",
        "/sys/fs/cgroup",
    ] {
        let p = format!("{base}/berth/{id}/cgroup.procs");
        if let Ok(text) = std::fs::read_to_string(&p) {
            return Some(text.lines().filter_map(|l| l.trim().parse().ok()).collect());
        }
    }
    None
}

/// `top`: the container's processes (host pids).
pub fn top(engine: &Engine, id: &str) -> Result<Vec<TopProcess>> {
    let rec = get(engine, id)?;
    if !rec.state.status.can_kill() {
        return Err(EngineError::InvalidState(format!(
            "container {} is not running",
            rec.name
        )));
    }
    let pids = cgroup_procs(id).unwrap_or_else(|| vec![rec.state.pid]);
    let mut out = Vec::new();
    for pid in pids {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let field = |k: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| {
                b.split(|c| *c == 0)
                    .filter(|s| !s.is_empty())
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        out.push(TopProcess {
            uid: field("Uid:") as u32,
            pid,
            ppid: field("PPid:") as i32,
            cmd,
        });
    }
    Ok(out)
}
