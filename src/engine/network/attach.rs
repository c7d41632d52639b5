//! A container's network while it runs, from the monitor: [`up`] before the container starts
//! (ports reserved, addresses leased, namespace made, the driver's setup), [`down`] when it is
//! gone (the driver's teardown, namespace removed, leases and ports released). `down` also runs
//! from reconciliation of a lost monitor, from `rm` and at engine start for containers whose
//! monitor is gone, and does nothing when nothing is held.

use std::net::Ipv4Addr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use super::driver::{self, Attachment};
use super::ports::{self, Published};
use super::record::{Endpoint, EndpointConfig, NetworkRecord};
use super::store::{self, NetworkStore};
use super::{ipam, netns};
use crate::engine::container::store::ContainerStore;
use crate::engine::container::{ContainerRecord, NetworkMode, Status};
use crate::engine::error::{EngineError, Result};
use crate::engine::journal::{self, Event};
use crate::engine::state::StateStore;
use crate::engine::Layout;

/// What the container's network is while it runs; dropping it frees the reserved host ports.
pub struct Attached {
    pub netns: PathBuf,
    pub endpoints: Vec<Endpoint>,
    pub ports: Vec<Published>,
    _held: Vec<OwnedFd>,
}

/// What `/etc/hosts` and `/etc/resolv.conf` need to know of the container's network.
#[derive(Debug, Clone, Default)]
pub struct EtcView {
    /// The container's own addresses (first: its main one).
    pub addresses: Vec<Ipv4Addr>,
    /// `--link` entries: address and the names it answers to.
    pub links: Vec<(Ipv4Addr, Vec<String>)>,
    /// The embedded DNS server (a user-defined network's aardvark-dns).
    pub nameservers: Vec<Ipv4Addr>,
    /// The gateway of the container's first network: `host-gateway` in `--add-host`.
    pub gateway: Option<Ipv4Addr>,
}

impl Attached {
    /// The descriptors that hold the container's published host ports until it exits (what
    /// the monitor keeps once the container runs).
    pub fn into_held(self) -> Vec<OwnedFd> {
        self._held
    }

    pub fn etc_view(&self) -> EtcView {
        EtcView::of(&self.endpoints)
    }
}

impl EtcView {
    /// The view of a running container's endpoints (no links).
    pub fn of(endpoints: &[Endpoint]) -> EtcView {
        let mut ns: Vec<Ipv4Addr> = endpoints.iter().filter_map(|e| e.dns_server).collect();
        ns.dedup();
        EtcView {
            addresses: endpoints.iter().map(|e| e.ip).collect(),
            links: Vec::new(),
            nameservers: ns,
            gateway: endpoints.iter().find_map(|e| e.gateway),
        }
    }
}

/// Rewrites a running container's `/etc/resolv.conf` in place (the file bind-mounted into it)
/// after `network connect`/`disconnect`, so that it asks the DNS of the networks it is on.
pub fn rewrite_resolv_conf(layout: &Layout, rec: &ContainerRecord, endpoints: &[Endpoint]) {
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let text =
        crate::engine::container::etc_files::resolv_conf(rec, &host, &EtcView::of(endpoints));
    let _ = std::fs::write(layout.container_dir(&rec.id).join("resolv.conf"), text);
}

/// The networks a container in `rec`'s mode joins, with what it asked for on each.
pub fn joins(rec: &ContainerRecord) -> Vec<(String, EndpointConfig)> {
    match &rec.host_config.network_mode {
        NetworkMode::Bridge | NetworkMode::Named(_) => {
            if rec.networks.is_empty() {
                vec![(super::DEFAULT_BRIDGE.to_string(), EndpointConfig::default())]
            } else {
                rec.networks
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            }
        }
        _ => Vec::new(),
    }
}

/// Leases an address for container `rec` on `net` (its `--ip`, or the next free one).
pub fn lease(
    tx: &rusqlite::Transaction<'_>,
    rec: &ContainerRecord,
    net: &NetworkRecord,
    cfg: &EndpointConfig,
    interface: String,
) -> Result<Endpoint> {
    // In the transaction that takes the lease: a network removed since the caller read it
    // (`network rm` checks for leases and deletes in one transaction) gets no new lease.
    if NetworkStore::of(tx)
        .get_by_name(&net.name)?
        .is_none_or(|n| n.id != net.id)
    {
        return Err(super::store::not_found(&net.name));
    }
    let taken = NetworkStore::of(tx).taken(&net.id)?;
    let ip = match cfg.ipv4_address {
        Some(ip) => {
            ipam::check_static(&net.name, &net.subnet, net.gateway, ip, &taken)?;
            ip
        }
        None => ipam::allocate(&net.subnet, net.ip_range.as_ref(), net.gateway, &taken)
            .ok_or_else(|| {
                EngineError::Conflict(format!(
                    "no free address left on network {} ({}): stop a container on it or use \
                     another network",
                    net.name, net.subnet
                ))
            })?,
    };
    let mut aliases = vec![rec.name.clone(), rec.short_id().to_string()];
    for a in &cfg.aliases {
        if !aliases.contains(a) {
            aliases.push(a.clone());
        }
    }
    let ep = Endpoint {
        container_id: rec.id.clone(),
        network_id: net.id.clone(),
        network_name: net.name.clone(),
        interface,
        ip,
        prefix: net.subnet.prefix,
        gateway: (!net.internal).then_some(net.gateway),
        mac: String::new(),
        aliases,
        dns_server: None,
    };
    NetworkStore::of(tx).put_endpoint(&ep)?;
    Ok(ep)
}

/// Sets up container `rec`'s network before its start; `None` for modes without one of their
/// own. On failure nothing is left: no port, lease, namespace or rule.
pub fn up(state: &StateStore, layout: &Layout, rec: &ContainerRecord) -> Result<Option<Attached>> {
    let joins = joins(rec);
    if joins.is_empty() {
        return Ok(None);
    }
    let wanted = ports::wanted(
        &rec.host_config.port_bindings,
        &rec.config.exposed_ports,
        rec.host_config.publish_all_ports,
    );
    let (published, held) = ports::reserve(&wanted)?;
    // Anything a dead monitor left for this container goes first.
    down(state, layout, &rec.id);
    let leased = state.write(|tx| {
        super::api::ensure_default(tx)?;
        let mut out = Vec::new();
        for (i, (name, cfg)) in joins.iter().enumerate() {
            let net = NetworkStore::of(tx)
                .get_by_name(name)?
                .ok_or_else(|| store::not_found(name))?;
            let ep = lease(tx, rec, &net, cfg, format!("eth{i}"))?;
            out.push((net, ep, cfg.mac_address.clone()));
        }
        NetworkStore::of(tx).put_ports(&rec.id, &published)?;
        Ok(out)
    })?;
    let result = (|| {
        let path = netns::create(layout, &rec.id)?;
        crate::engine::trace::phase("net: namespace made");
        let atts: Vec<Attachment<'_>> = leased
            .iter()
            .map(|(n, e, mac)| Attachment {
                network: n,
                endpoint: e,
                mac: mac.clone(),
            })
            .collect();
        let eps = driver::setup(state, layout, &path, &atts, &published)?;
        state.write(|tx| {
            for e in &eps {
                NetworkStore::of(tx).put_endpoint(e)?;
                let connect =
                    Event::network_endpoint(&e.network_id, &e.network_name, "connect", &rec.id);
                journal::record(tx, &connect)?;
            }
            Ok(())
        })?;
        Ok(Attached {
            netns: path,
            endpoints: eps,
            ports: published.clone(),
            _held: held,
        })
    })();
    if result.is_err() {
        down(state, layout, &rec.id);
    }
    result.map(Some)
}

/// Tears down whatever network container `id` holds (best effort: every step is tried).
pub fn down(state: &StateStore, layout: &Layout, id: &str) {
    teardown(state, layout, id, false);
}

/// [`down`] from the monitor once the container's processes are gone: unless another running
/// container joined its namespace (`--network container:`), the namespace dies when unmounted
/// and the kernel deletes the veths with it.
pub fn down_after_exit(state: &StateStore, layout: &Layout, id: &str) {
    let joined = state
        .read(|tx| {
            let Some(me) = ContainerStore::of(tx).get(id)? else {
                return Ok(false);
            };
            Ok(ContainerStore::of(tx).list()?.iter().any(|c| {
                matches!(c.state.status, Status::Running | Status::Paused)
                    && matches!(&c.host_config.network_mode,
                        NetworkMode::Container(r) if *r == me.name || id.starts_with(r.as_str()))
            }))
        })
        .unwrap_or(true);
    teardown(state, layout, id, !joined);
}

fn teardown(state: &StateStore, layout: &Layout, id: &str, ns_dies: bool) {
    let held = state.read(|tx| {
        let eps = NetworkStore::of(tx).endpoints_of(id)?;
        let ports = NetworkStore::of(tx).ports_of(id)?;
        let mut nets = Vec::new();
        for e in &eps {
            if let Some(n) = NetworkStore::of(tx).get_by_name(&e.network_name)? {
                nets.push((n, e.clone()));
            }
        }
        Ok((nets, ports))
    });
    if let Ok((nets, ports)) = &held {
        if !nets.is_empty() {
            let atts: Vec<Attachment<'_>> = nets
                .iter()
                .map(|(n, e)| Attachment {
                    network: n,
                    endpoint: e,
                    mac: None,
                })
                .collect();
            driver::teardown(state, layout, id, &atts, ports, ns_dies);
        }
    }
    netns::remove(layout, id);
    crate::engine::trace::phase("net: namespace removed");
    let _ = state.write(|tx| {
        // Each endpoint that goes is a disconnect, recorded with the release.
        for e in NetworkStore::of(tx).endpoints_of(id)? {
            let disconnect =
                Event::network_endpoint(&e.network_id, &e.network_name, "disconnect", id);
            journal::record(tx, &disconnect)?;
        }
        NetworkStore::of(tx).release(id)
    });
}
