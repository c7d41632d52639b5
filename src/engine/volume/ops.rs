//! Volume operations. Each runs in one exclusive state transaction; directories are created or
//! moved aside inside it and put back when the transaction does not commit, so a failure leaves
//! neither a record without data nor data without a record.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rusqlite::Transaction;

use super::store::VolumeStore;
use super::usage::{dir_size, volumes_in_use};
use super::{
    data_dir, name, volume_dir, CreateVolume, PruneReport, PruneVolumes, Record, Volume,
    VolumeFilter, LOCAL_DRIVER,
};
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::events::EngineEvent;
use crate::engine::journal::{self, Event, EventType};
use crate::engine::layout::Layout;
use crate::engine::state::StateStore;
use crate::engine::Engine;

/// Directories created inside a transaction. Dropping it removes them; call [`NewDirs::keep`]
/// once the transaction has committed.
#[derive(Debug, Default)]
pub struct NewDirs(Vec<PathBuf>);

impl NewDirs {
    /// The transaction committed: keep the directories.
    pub fn keep(mut self) {
        self.0.clear();
    }

    /// Records a directory this transaction made.
    pub fn record(&mut self, dir: PathBuf) {
        self.0.push(dir);
    }
}

impl Drop for NewDirs {
    fn drop(&mut self) {
        for dir in self.0.drain(..).rev() {
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                tracing::warn!("cannot remove {}: {e}", dir.display());
            }
        }
    }
}

/// A volume directory moved into `ROOT/tmp` inside a transaction. Dropping it moves it back;
/// [`Trashed::purge`] deletes it once the transaction has committed.
struct Trashed {
    from: PathBuf,
    to: PathBuf,
    armed: bool,
}

impl Trashed {
    /// Moves `ROOT/volumes/NAME` aside; `None` when it does not exist.
    fn take(layout: &Layout, name: &str) -> Result<Option<Trashed>> {
        let from = volume_dir(layout, name);
        let to = layout
            .tmp_dir()
            .join(format!("{TRASH_PREFIX}{}", &name::generate()[..16]));
        match std::fs::rename(&from, &to) {
            Ok(()) => Ok(Some(Trashed {
                from,
                to,
                armed: true,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(EngineError::io_path("cannot move aside volume", &from, e)),
        }
    }

    /// Deletes the data for good.
    fn purge(mut self) -> Result<()> {
        self.armed = false;
        purge_dir(&self.to)
    }
}

const TRASH_PREFIX: &str = "volume-rm-";

/// Deletes a moved-aside volume directory (already gone is fine: a prune swept it).
fn purge_dir(dir: &std::path::Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(EngineError::io_path(
            "the volume is removed but its data could not be deleted; delete by hand",
            dir,
            e,
        )),
    }
}

/// Moved-aside volume directories whose removal committed but whose deletion never finished
/// (the process died). Call inside a write transaction: then no removal is half-way.
fn stale_trash(layout: &Layout) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(layout.tmp_dir()) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(TRASH_PREFIX))
        .map(|e| e.path())
        .collect()
}

impl Drop for Trashed {
    fn drop(&mut self) {
        if self.armed {
            if let Err(e) = std::fs::rename(&self.to, &self.from) {
                tracing::warn!(
                    "cannot move {} back to {}: {e}",
                    self.to.display(),
                    self.from.display()
                );
            }
        }
    }
}

fn to_volume(
    layout: &Layout,
    name: &str,
    record: Record,
    created: String,
    used_by: Vec<String>,
) -> Volume {
    Volume {
        name: name.to_owned(),
        driver: record.driver,
        mountpoint: data_dir(layout, name),
        created_at: created,
        labels: record.labels,
        scope: "local".to_owned(),
        options: record.options,
        anonymous: record.anonymous,
        used_by,
        size: None,
    }
}

fn not_found(name: &str) -> EngineError {
    EngineError::NotFound(format!(
        "no such volume: {name} (see `berth volume ls` for the volumes there are)"
    ))
}

/// Creates the volume `req` names inside the caller's transaction, or returns the existing one.
/// Directories made are recorded in `dirs`; keep them after the commit.
pub fn create_in(
    tx: &Transaction<'_>,
    layout: &Layout,
    req: &CreateVolume,
    dirs: &mut NewDirs,
) -> Result<(Volume, bool)> {
    let name = match &req.name {
        Some(n) => {
            name::validate(n)?;
            n.clone()
        }
        None => name::generate(),
    };
    if let Some((record, created)) = VolumeStore::of(tx).get(&name)? {
        let used = volumes_in_use(tx)?.remove(&name).unwrap_or_default();
        return Ok((to_volume(layout, &name, record, created, used), false));
    }
    let dir = volume_dir(layout, &name);
    let data = data_dir(layout, &name);
    if !dir.exists() {
        std::fs::create_dir(&dir).ctx("cannot create volume directory", &dir)?;
        dirs.0.push(dir.clone());
    }
    if !data.exists() {
        std::fs::create_dir(&data).ctx("cannot create volume directory", &data)?;
        dirs.0.push(data);
    }
    let record = Record {
        driver: LOCAL_DRIVER.to_owned(),
        labels: req.labels.clone(),
        options: BTreeMap::new(),
        // A volume created without a name is anonymous, as in docker.
        anonymous: req.anonymous || req.name.is_none(),
    };
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    VolumeStore::of(tx).insert(&name, &record, &created)?;
    volume_event(tx, "create", &name)?;
    Ok((to_volume(layout, &name, record, created, Vec::new()), true))
}

/// Records volume event `action` on `name` in the change's transaction.
fn volume_event(tx: &Transaction<'_>, action: &str, name: &str) -> Result<()> {
    let event = Event::new(EventType::Volume, action, name).with("driver", "local");
    journal::record(tx, &event)
}

/// Creates a volume, or returns the existing one of that name.
pub fn create(engine: &Engine, req: &CreateVolume) -> Result<Volume> {
    let layout = engine.layout();
    let (volume, is_new, dirs) = engine.state().write(|tx| {
        let mut dirs = NewDirs::default();
        let (v, is_new) = create_in(tx, layout, req, &mut dirs)?;
        Ok((v, is_new, dirs))
    })?;
    dirs.keep();
    if is_new {
        engine.emit(EngineEvent::VolumesChanged);
    }
    Ok(volume)
}

fn all(tx: &Transaction<'_>, layout: &Layout) -> Result<Vec<Volume>> {
    let mut used = volumes_in_use(tx)?;
    let mut out = Vec::new();
    for (name, record, created) in VolumeStore::of(tx).list()? {
        let users = used.remove(&name).unwrap_or_default();
        out.push(to_volume(layout, &name, record, created, users));
    }
    Ok(out)
}

fn passes(filter: &VolumeFilter, v: &Volume) -> bool {
    filter.matches(&super::filter::Candidate {
        name: &v.name,
        driver: &v.driver,
        labels: &v.labels,
        in_use: !v.used_by.is_empty(),
    })
}

/// Volumes passing `filter`, sorted by name, without sizes.
pub fn list(engine: &Engine, filter: &VolumeFilter) -> Result<Vec<Volume>> {
    let layout = engine.layout();
    let mut volumes = engine.state().read(|tx| all(tx, layout))?;
    volumes.retain(|v| passes(filter, v));
    Ok(volumes)
}

/// One volume, with its size measured.
pub fn inspect(engine: &Engine, name: &str) -> Result<Volume> {
    let layout = engine.layout();
    let mut volume = engine.state().read(|tx| {
        let (record, created) = VolumeStore::of(tx)
            .get(name)?
            .ok_or_else(|| not_found(name))?;
        let used = volumes_in_use(tx)?.remove(name).unwrap_or_default();
        Ok(to_volume(layout, name, record, created, used))
    })?;
    volume.size = Some(dir_size(&volume.mountpoint)?);
    Ok(volume)
}

fn in_use_error(name: &str, users: &[String]) -> EngineError {
    EngineError::Conflict(format!(
        "volume {name} is in use by container{} {}; remove {} first (`berth rm {}`)",
        if users.len() == 1 { "" } else { "s" },
        users.join(", "),
        if users.len() == 1 { "it" } else { "them" },
        users.join(" ")
    ))
}

/// Removes a volume no container uses. With `force` a missing volume is not an error (returns
/// `false`); a volume in use is refused either way, naming its containers.
pub fn remove(engine: &Engine, name: &str, force: bool) -> Result<bool> {
    let layout = engine.layout();
    let trashed = engine.state().write(|tx| {
        if VolumeStore::of(tx).get(name)?.is_none() {
            return if force {
                Ok(None)
            } else {
                Err(not_found(name))
            };
        }
        if let Some(users) = volumes_in_use(tx)?.get(name) {
            return Err(in_use_error(name, users));
        }
        VolumeStore::of(tx).delete(name)?;
        volume_event(tx, "destroy", name)?;
        Ok(Some(Trashed::take(layout, name)?))
    })?;
    let Some(trashed) = trashed else {
        return Ok(false);
    };
    engine.emit(EngineEvent::VolumesChanged);
    if let Some(t) = trashed {
        t.purge()?;
    }
    Ok(true)
}

/// Removes the unused volumes among `names` that are anonymous (for `rm -v`), returning the
/// names removed. Named volumes and volumes another container still uses are kept.
pub fn remove_anonymous(engine: &Engine, names: &[String]) -> Result<Vec<String>> {
    let removed = remove_anonymous_in(engine.state(), engine.layout(), names)?;
    if !removed.is_empty() {
        engine.emit(EngineEvent::VolumesChanged);
    }
    Ok(removed)
}

/// [`remove_anonymous`] for callers without an [`Engine`] (the monitor, for `run --rm`); emits
/// no event.
pub fn remove_anonymous_in(
    state: &StateStore,
    layout: &Layout,
    names: &[String],
) -> Result<Vec<String>> {
    let removed = state.write(|tx| {
        let used = volumes_in_use(tx)?;
        let mut removed = Vec::new();
        for name in names {
            let Some((record, _)) = VolumeStore::of(tx).get(name)? else {
                continue;
            };
            if !record.anonymous || used.contains_key(name) {
                continue;
            }
            VolumeStore::of(tx).delete(name)?;
            volume_event(tx, "destroy", name)?;
            removed.push((name.clone(), Trashed::take(layout, name)?));
        }
        Ok(removed)
    })?;
    let mut names = Vec::new();
    for (name, trashed) in removed {
        if let Some(t) = trashed {
            t.purge()?;
        }
        names.push(name);
    }
    Ok(names)
}

/// Removes unused anonymous volumes (every unused one with `opts.all`) passing the label
/// filters.
pub fn prune(engine: &Engine, opts: &PruneVolumes) -> Result<PruneReport> {
    if opts.filter.has_non_label() {
        return Err(EngineError::InvalidInput(
            "volume prune takes only label filters (label=…, label!=…); use --all for named \
             volumes"
                .into(),
        ));
    }
    let layout = engine.layout();
    let (removed, stale) = engine.state().write(|tx| {
        let stale = stale_trash(layout);
        let mut removed = Vec::new();
        for v in all(tx, layout)? {
            if !v.used_by.is_empty() || !(opts.all || v.anonymous) || !passes(&opts.filter, &v) {
                continue;
            }
            VolumeStore::of(tx).delete(&v.name)?;
            volume_event(tx, "destroy", &v.name)?;
            removed.push((v.name.clone(), Trashed::take(layout, &v.name)?));
        }
        Ok((removed, stale))
    })?;
    for dir in stale {
        if let Err(e) = purge_dir(&dir) {
            tracing::warn!("{e}");
        }
    }
    if !removed.is_empty() {
        engine.emit(EngineEvent::VolumesChanged);
    }
    let mut report = PruneReport::default();
    let mut first_error = None;
    for (name, trashed) in removed {
        if let Some(t) = trashed {
            let size = dir_size(&t.to).unwrap_or(0);
            match t.purge() {
                Ok(()) => report.space_reclaimed += size,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        report.volumes_deleted.push(name);
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}
