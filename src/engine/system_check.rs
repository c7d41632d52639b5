//! `berth system check [--repair]`: compares `state.db` with what is on disk. It reports a
//! damaged, emptied or missing database, volumes whose directory exists without a record, and
//! containers whose directory exists without a record. `--repair` moves a damaged database
//! aside (with its WAL) and starts a new one, and records the volumes found on disk again (a
//! 64-hex name is taken for an anonymous volume, as berth names those). Container records
//! cannot be rebuilt from disk: those are listed (`berth container prune` removes them).

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

use super::container::orphans;
use super::error::{IoContext, Result};
use super::state::StateStore;
use super::volume::store::VolumeStore;
use super::volume::{self, name};
use super::{state_file, Engine, Layout};

/// What `system check` found (and, with `--repair`, did).
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Why the database cannot be used, when it cannot.
    pub damage: Option<String>,
    /// Where `--repair` moved the damaged database.
    pub moved_aside: Option<PathBuf>,
    /// Volumes on disk without a record (recorded again with `--repair`).
    pub volumes_without_record: Vec<String>,
    /// Containers with files on disk but no record.
    pub orphan_containers: Vec<String>,
    /// Whether `--repair` ran.
    pub repaired: bool,
}

impl CheckReport {
    /// Whether something is wrong that was not repaired.
    pub fn problems_left(&self) -> bool {
        if self.repaired {
            // What can be repaired was; orphan containers are listed, for `container prune`.
            false
        } else {
            self.damage.is_some()
                || !self.volumes_without_record.is_empty()
                || !self.orphan_containers.is_empty()
        }
    }
}

/// Checks the engine root at `root`; with `repair`, repairs what can be repaired.
pub fn check(root: &Path, repair: bool) -> Result<CheckReport> {
    let root = std::path::absolute(root).ctx("cannot resolve the engine root", root)?;
    let layout = Layout::new(&root);
    layout.create()?;
    let db = layout.state_db();
    let mut report = CheckReport {
        repaired: repair,
        ..Default::default()
    };
    report.damage = assess(&db).err();
    if report.damage.is_some() {
        if !repair {
            // Without a database, everything on disk is unrecorded.
            report.volumes_without_record = volume_dirs(&layout);
            report.orphan_containers = container_dirs(&layout);
            return Ok(report);
        }
        report.moved_aside = Some(move_aside(&db)?);
        drop(StateStore::open_unchecked(&db)?);
    }
    let engine = Engine::open(&root)?;
    report.volumes_without_record = engine.state().read(|tx| {
        let mut out = Vec::new();
        for v in volume_dirs(&layout) {
            if !VolumeStore::of(tx).exists(&v)? {
                out.push(v);
            }
        }
        Ok(out)
    })?;
    if repair && !report.volumes_without_record.is_empty() {
        engine.state().write(|tx| {
            for v in &report.volumes_without_record {
                let record = volume::Record {
                    driver: volume::LOCAL_DRIVER.to_owned(),
                    anonymous: v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()),
                    ..Default::default()
                };
                VolumeStore::of(tx).insert(v, &record, &created(&layout, v))?;
            }
            Ok(())
        })?;
        engine.emit(super::EngineEvent::VolumesChanged);
    }
    report.orphan_containers = orphans::find(&engine)?;
    Ok(report)
}

/// `Err(why)` when the database cannot be used.
fn assess(db: &Path) -> std::result::Result<(), String> {
    // The reason alone: the report says what to do.
    let why = |e: super::EngineError| {
        let text = match e {
            super::EngineError::State(m) => m,
            super::EngineError::Caused {
                kind: super::ErrorKind::State,
                source,
                ..
            } => super::error::chain(source.as_ref()),
            other => other.to_string(),
        };
        let hint = format!(": {}", state_file::REPAIR_HINT);
        text.strip_suffix(&hint).unwrap_or(&text).to_string()
    };
    state_file::preflight(db).map_err(why)?;
    if !db.exists() {
        return Ok(());
    }
    let store = StateStore::open_unchecked(db).map_err(why)?;
    let verdict: String = store
        .read(|tx| Ok(tx.query_row("PRAGMA quick_check", [], |r| r.get(0))?))
        .map_err(why)?;
    if verdict != "ok" {
        let mut lines = verdict.lines();
        let first = lines.next().unwrap_or_default().trim();
        let more = lines.count();
        return Err(format!(
            "{} is damaged: {first}{}",
            db.display(),
            if more > 0 {
                format!(" (and {more} more problems)")
            } else {
                String::new()
            }
        ));
    }
    Ok(())
}

/// Renames `state.db` and its WAL and shared-memory files to `state.db.damaged-<time>…`.
fn move_aside(db: &Path) -> Result<PathBuf> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    let target = db.with_file_name(format!("state.db.damaged-{stamp}"));
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", db.display()));
        let to = PathBuf::from(format!("{}{suffix}", target.display()));
        match std::fs::rename(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(super::EngineError::io_path("cannot move aside", &from, e)),
        }
    }
    Ok(target)
}

fn sorted_names(dir: &Path, keep: impl Fn(&str, &Path) -> bool) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    keep(&n, &e.path()).then_some(n)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Names of the volume directories (valid name, holding `_data`).
fn volume_dirs(layout: &Layout) -> Vec<String> {
    sorted_names(&layout.volumes_dir(), |n, p| {
        name::validate(n).is_ok() && p.join("_data").is_dir()
    })
}

/// Ids of the container directories.
fn container_dirs(layout: &Layout) -> Vec<String> {
    sorted_names(&layout.containers_dir(), |n, p| {
        n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()) && p.is_dir()
    })
}

/// The volume directory's modification time, as a record's `created`.
fn created(layout: &Layout, name: &str) -> String {
    let t = std::fs::metadata(volume::volume_dir(layout, name))
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(|_| Utc::now());
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
