//! The monitor's part of container networking, before the start: the namespace to join (made
//! and set up by [`network::attach::up`], or another container's), what `/etc/hosts` and
//! `/etc/resolv.conf` say, and the `--link` variables.

use std::path::PathBuf;

use super::Monitor;
use crate::engine::container::{self as ct, ContainerRecord, NetworkMode, Status};
use crate::engine::error::{EngineError, Result};
use crate::engine::network::{self, attach::EtcView};

/// Where the container's /etc files come from.
pub(super) enum EtcFiles {
    /// Its own, with its addresses, links and name servers.
    Own(EtcView),
    /// Those of the container whose namespace it shares (files in that container's directory).
    Shared(PathBuf),
}

/// The network parts of a start.
pub(super) type Prepared = (
    Option<network::attach::Attached>,
    EtcFiles,
    Option<PathBuf>,
    Vec<String>,
);

impl Monitor {
    /// Sets up the container's network; on failure nothing of it is left.
    pub(super) fn network(&self, rec: &ContainerRecord) -> Result<Prepared> {
        if let NetworkMode::Container(other) = &rec.host_config.network_mode {
            let id = ct::store::resolve(&self.state, other)?;
            let target = ct::store::load(&self.state, &id)?;
            if !matches!(target.state.status, Status::Running | Status::Paused)
                || target.state.pid <= 0
            {
                return Err(EngineError::InvalidState(format!(
                    "cannot join network of a non running container: {other}; start it first"
                )));
            }
            let own = network::netns::path(&self.layout, &id);
            let path = if network::netns::is_mounted(&own) {
                own
            } else {
                PathBuf::from(format!("/proc/{}/ns/net", target.state.pid))
            };
            let dir = self.layout.container_dir(&id);
            return Ok((None, EtcFiles::Shared(dir), Some(path), Vec::new()));
        }
        let (env, links) = network::links::resolve(&self.state, rec)?;
        let net = network::attach::up(&self.state, &self.layout, rec)?;
        let mut view = net.as_ref().map(|n| n.etc_view()).unwrap_or_default();
        view.links = links;
        let join = net.as_ref().map(|n| n.netns.clone());
        Ok((net, EtcFiles::Own(view), join, env))
    }
}
