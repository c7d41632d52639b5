//! `update [--memory] [--cpus] [--pids-limit] [--restart] C…`: changes a container's limits and
//! restart policy in its record and, while it runs, in its cgroup (through libcgroups' manager,
//! as libcontainer applied them at the start).

use libcgroups::common::{create_cgroup_manager, CgroupConfig, CgroupManager, ControllerOpt};
use oci_spec::runtime::LinuxResources;
use serde_json::json;

use super::restart_policy::RestartPolicy;
use super::store::ContainerStore;
use super::{limits, reconcile, store};
use crate::engine::error::{EngineError, Result};
use crate::engine::journal::{self, Event};
use crate::engine::runtime::cgroups_path;
use crate::engine::{Engine, EngineEvent};

/// What `update` changes; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    /// Bytes (0: no limit).
    pub memory: Option<i64>,
    /// CPUs (0: no limit).
    pub cpus: Option<f64>,
    /// Processes (0 or -1: no limit).
    pub pids_limit: Option<i64>,
    pub restart: Option<String>,
}

impl UpdateOptions {
    /// Whether anything is to change.
    pub fn is_empty(&self) -> bool {
        self.memory.is_none()
            && self.cpus.is_none()
            && self.pids_limit.is_none()
            && self.restart.is_none()
    }
}

/// Applies `opts` to container `id` (a full id): checked first, then the running cgroup (a
/// limit the kernel refuses, such as memory below what is in use, is reported and the record
/// keeps its settings), then the record, with an `update` event.
pub fn update(engine: &Engine, id: &str, opts: &UpdateOptions) -> Result<()> {
    if opts.is_empty() {
        return Err(EngineError::InvalidInput(
            "you must provide one or more flags when using this command: --memory, --cpus, \
             --pids-limit or --restart"
                .into(),
        ));
    }
    limits::check(opts.memory, opts.cpus)?;
    let policy = opts
        .restart
        .as_deref()
        .map(RestartPolicy::parse)
        .transpose()?;
    let _lock = store::lock(engine.layout(), id)?;
    let mut rec = reconcile::check_locked(engine, store::load(engine.state(), id)?)?;
    if policy.as_ref().is_some_and(|p| !p.is_none()) && rec.host_config.auto_remove {
        return Err(EngineError::InvalidInput(format!(
            "cannot update the restart policy of {}: it was run with --rm, which conflicts with \
             a restart policy",
            rec.name
        )));
    }
    let hc = &mut rec.host_config;
    if let Some(m) = opts.memory {
        hc.memory = m;
    }
    if let Some(c) = opts.cpus {
        hc.nano_cpus = (c * 1e9) as i64;
    }
    if let Some(p) = opts.pids_limit {
        hc.pids_limit = (p > 0).then_some(p);
    }
    if let Some(p) = policy {
        hc.restart_policy = p;
    }
    if rec.state.status.can_kill() {
        apply_live(&rec.id, &rec.name, opts)?;
    }
    engine.state().write(|tx| {
        // The monitor may have recorded an exit meanwhile: keep its state, change the config.
        let mut fresh = ContainerStore::of(tx)
            .get(id)?
            .ok_or_else(|| store::not_found(id))?;
        fresh.host_config = rec.host_config.clone();
        ContainerStore::of(tx).save(&fresh)?;
        journal::record(tx, &Event::container(&fresh, "update"))
    })?;
    engine.emit(EngineEvent::ContainersChanged);
    Ok(())
}

/// The new limits in the running container's cgroup.
fn apply_live(id: &str, name: &str, opts: &UpdateOptions) -> Result<()> {
    let mut r = json!({});
    if let Some(m) = opts.memory {
        r["memory"] = json!({ "limit": if m > 0 { m } else { -1 } });
    }
    if let Some(c) = opts.cpus {
        let period: i64 = 100_000;
        let quota = if c > 0.0 {
            (c * period as f64) as i64
        } else {
            -1
        };
        r["cpu"] = json!({ "quota": quota, "period": period });
    }
    if let Some(p) = opts.pids_limit {
        r["pids"] = json!({ "limit": if p > 0 { p } else { -1 } });
    }
    if r.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(());
    }
    let resources: LinuxResources = serde_json::from_value(r)?;
    let failed = |e: String| {
        EngineError::Runtime(format!(
            "cannot change the limits of running container {name}: {e}"
        ))
    };
    let manager = create_cgroup_manager(CgroupConfig {
        cgroup_path: cgroups_path(id).into(),
        systemd_cgroup: false,
        container_name: id.to_string(),
    })
    .map_err(|e| failed(e.to_string()))?;
    manager
        .apply(&ControllerOpt {
            resources: &resources,
            disable_oom_killer: false,
            oom_score_adj: None,
            freezer_state: None,
        })
        .map_err(|e| failed(e.to_string()))
}
