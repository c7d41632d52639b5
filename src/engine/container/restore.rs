//! `system restore`: after a reboot (or anything that ended the monitors), starts again the
//! containers whose restart policy says so: `always`, and `unless-stopped` unless a user stopped
//! it. Run at boot by `assets/berth-restore.service`.

use super::record::Status;
use super::{reconcile, start};
use crate::engine::error::Result;
use crate::engine::Engine;

/// What happened to one container.
#[derive(Debug)]
pub struct Restored {
    pub id: String,
    pub name: String,
    /// `Ok` when it was started.
    pub result: Result<()>,
}

/// Starts every container whose policy restores it and that does not run; returns one entry
/// per container it tried.
pub fn restore(engine: &Engine) -> Result<Vec<Restored>> {
    let mut out = Vec::new();
    for rec in super::list(engine)? {
        // A record that says Running with its monitor gone (a reboot) becomes Exited here.
        let rec = reconcile::check(engine, rec)?;
        let policy = &rec.host_config.restart_policy;
        if !matches!(rec.state.status, Status::Exited | Status::Created)
            || !policy.restores(rec.state.manually_stopped)
        {
            continue;
        }
        // Never started: `create` without `start` is not brought up by a reboot either.
        if rec.state.started_at.is_none() {
            continue;
        }
        let result = start::start(engine, &rec.id, false).map(|_| ());
        out.push(Restored {
            id: rec.id.clone(),
            name: rec.name.clone(),
            result,
        });
    }
    Ok(out)
}
