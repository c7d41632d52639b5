//! The network operations behind [`super::api`]: create, list, remove, prune, connect and
//! disconnect (live on a running container), and a container's published ports.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use chrono::Utc;
use rand::RngCore;
use rusqlite::Transaction;

use super::attach::lease;
use super::driver::{self, Attachment};
use super::ipam::{self, Subnet};
use super::ports::Published;
use super::record::{EndpointConfig, NetworkRecord};
use super::store::NetworkStore;
use super::{netns, DEFAULT_BRIDGE};
use crate::engine::container::store::ContainerStore;
use crate::engine::container::{self as ct, NetworkMode, Status};
use crate::engine::error::{EngineError, Result};
use crate::engine::journal::{self, Event};
use crate::engine::{Engine, EngineEvent};

/// `network create`'s options.
#[derive(Debug, Clone, Default)]
pub struct CreateNetwork {
    pub name: String,
    /// Only `bridge`.
    pub driver: Option<String>,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
    pub internal: bool,
    /// `KEY=VALUE` or `KEY`.
    pub labels: Vec<String>,
}

fn new_id() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Adds the default network (`bridge`, 172.17.0.0/16 on `berth0`) when it is missing.
pub fn ensure_default(tx: &Transaction<'_>) -> Result<NetworkRecord> {
    if let Some(n) = NetworkStore::of(tx).get_by_name(DEFAULT_BRIDGE)? {
        return Ok(n);
    }
    let subnet = Subnet {
        addr: Ipv4Addr::new(172, 17, 0, 0),
        prefix: 16,
    };
    let net = NetworkRecord {
        id: new_id(),
        name: DEFAULT_BRIDGE.into(),
        driver: "bridge".into(),
        subnet,
        gateway: subnet.first_host(),
        ip_range: None,
        internal: false,
        labels: BTreeMap::new(),
        created: Utc::now(),
        interface: "berth0".into(),
        dns: false,
    };
    NetworkStore::of(tx).insert(&net)?;
    Ok(net)
}

fn parse_ip(flag: &str, s: &str) -> Result<Ipv4Addr> {
    s.parse().map_err(|_| {
        EngineError::InvalidInput(format!(
            "invalid {flag} {s:?}: give an IPv4 address, e.g. 172.20.0.1"
        ))
    })
}

pub fn create(engine: &Engine, req: &CreateNetwork) -> Result<NetworkRecord> {
    if !crate::engine::container::NetworkMode::valid_network_name(&req.name)
        || matches!(req.name.as_str(), "none" | "host" | "default")
    {
        return Err(EngineError::InvalidInput(format!(
            "invalid network name {:?}: use [a-zA-Z0-9][a-zA-Z0-9_.-], not none, host or default",
            req.name
        )));
    }
    match req.driver.as_deref() {
        None | Some("bridge") => {}
        Some(d) => {
            return Err(EngineError::InvalidInput(format!(
                "network driver {d:?} is not supported: berth has the bridge driver (-d bridge)"
            )))
        }
    }
    let labels = crate::engine::container::labels::merge(None, &req.labels)?;
    let given: Option<Subnet> = req.subnet.as_deref().map(str::parse).transpose()?;
    if given.is_none() && (req.gateway.is_some() || req.ip_range.is_some()) {
        return Err(EngineError::InvalidInput(
            "--gateway and --ip-range need --subnet: give the subnet they belong to".into(),
        ));
    }
    let ip_range: Option<Subnet> = req.ip_range.as_deref().map(str::parse).transpose()?;
    let net = engine.state().write(|tx| {
        ensure_default(tx)?;
        let existing = NetworkStore::of(tx).list()?;
        let subnet = match given {
            Some(s) => {
                if let Some(o) = existing.iter().find(|n| n.subnet.overlaps(&s)) {
                    return Err(EngineError::Conflict(format!(
                        "invalid pool request: subnet {s} overlaps with {} of network {}; \
                         choose another --subnet",
                        o.subnet, o.name
                    )));
                }
                s
            }
            None => ipam::candidate_subnets()
                .find(|c| existing.iter().all(|n| !n.subnet.overlaps(c)))
                .ok_or_else(|| {
                    EngineError::Conflict(
                        "all predefined address pools are in use: give --subnet".into(),
                    )
                })?,
        };
        let gateway = match &req.gateway {
            Some(g) => {
                let g = parse_ip("--gateway", g)?;
                let n = u32::from(g);
                if !subnet.contains(g) || n == subnet.first() || n == subnet.last() {
                    return Err(EngineError::InvalidInput(format!(
                        "invalid --gateway {g}: it must be a host address of {subnet}"
                    )));
                }
                g
            }
            None => subnet.first_host(),
        };
        if let Some(r) = ip_range {
            if r.first() < subnet.first() || r.last() > subnet.last() {
                return Err(EngineError::InvalidInput(format!(
                    "invalid --ip-range {r}: it must lie inside --subnet {subnet}"
                )));
            }
        }
        let id = new_id();
        let net = NetworkRecord {
            interface: format!("br-{}", &id[..12]),
            id,
            name: req.name.clone(),
            driver: "bridge".into(),
            subnet,
            gateway,
            ip_range,
            internal: req.internal,
            labels,
            created: Utc::now(),
            dns: true,
        };
        NetworkStore::of(tx).insert(&net)?;
        journal::record(tx, &Event::network(&net.id, &net.name, "create"))?;
        Ok(net)
    })?;
    engine.emit(EngineEvent::NetworksChanged);
    Ok(net)
}

/// Every network, the default one included (made on first use).
pub fn list(engine: &Engine) -> Result<Vec<NetworkRecord>> {
    // A read when the default network exists: a write transaction bumps the state generation,
    // and the TUI, which lists networks when that counter moves, reloaded every list for its
    // own listing.
    let listed = engine.state().read(|tx| {
        let store = NetworkStore::of(tx);
        Ok(match store.get_by_name(DEFAULT_BRIDGE)? {
            Some(_) => Some(store.list()?),
            None => None,
        })
    })?;
    match listed {
        Some(all) => Ok(all),
        None => engine.state().write(|tx| {
            ensure_default(tx)?;
            NetworkStore::of(tx).list()
        }),
    }
}

/// The containers that name network `name` (running or not).
fn users(engine: &Engine, name: &str) -> Result<Vec<ct::ContainerRecord>> {
    Ok(ct::list(engine)?
        .into_iter()
        .filter(|c| c.networks.contains_key(name))
        .collect())
}

/// Removes network `reference`; refused for the default network and while containers are on
/// it.
pub fn remove(engine: &Engine, reference: &str) -> Result<String> {
    let net = engine
        .state()
        .read(|tx| NetworkStore::of(tx).find(reference))?;
    if net.is_default() {
        return Err(EngineError::InvalidInput(
            "bridge is a pre-defined network and cannot be removed".into(),
        ));
    }
    // The check for leases and the deletion in one transaction: a container leasing an
    // address on this network meanwhile either comes first (and the removal is refused) or
    // finds the network gone.
    engine.state().write(|tx| {
        let running = NetworkStore::of(tx).endpoints_on(&net.id)?;
        if !running.is_empty() {
            return Err(EngineError::Conflict(format!(
                "error while removing network: network {} id {} has active endpoints: stop or \
                 disconnect its {} container(s) first",
                net.name,
                net.id,
                running.len()
            )));
        }
        NetworkStore::of(tx).delete(&net.id)?;
        journal::record(tx, &Event::network(&net.id, &net.name, "destroy"))
    })?;
    driver::remove_network(engine.layout(), &net).map_err(|e| {
        EngineError::Runtime(format!(
            "network {} is removed, but its bridge {} could not be taken down ({e}): delete it \
             with `ip link delete {}`",
            net.name, net.interface, net.interface
        ))
    })?;
    engine.emit(EngineEvent::NetworksChanged);
    Ok(net.name)
}

/// Removes every user-defined network no container names; returns their names.
pub fn prune(engine: &Engine) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for net in list(engine)? {
        if net.is_default() || !users(engine, &net.name)?.is_empty() {
            continue;
        }
        if remove(engine, &net.id).is_ok() {
            removed.push(net.name);
        }
    }
    Ok(removed)
}

fn bridged(rec: &ct::ContainerRecord) -> Result<()> {
    match rec.host_config.network_mode {
        NetworkMode::Bridge | NetworkMode::Named(_) => Ok(()),
        ref m => Err(EngineError::InvalidInput(format!(
            "container {} is in network mode {m}: only containers on bridge networks can be \
             connected or disconnected",
            rec.name
        ))),
    }
}

/// Connects container `container` to network `network` (live when it runs).
pub fn connect(engine: &Engine, network: &str, container: &str, cfg: EndpointConfig) -> Result<()> {
    let net = engine.state().write(|tx| {
        ensure_default(tx)?;
        NetworkStore::of(tx).find(network)
    })?;
    let id = ct::resolve(engine, container)?;
    let _lock = ct::store::lock(engine.layout(), &id)?;
    let mut rec = ct::get(engine, &id)?;
    bridged(&rec)?;
    if rec.networks.contains_key(&net.name) || (rec.networks.is_empty() && net.is_default()) {
        return Err(EngineError::Conflict(format!(
            "endpoint with name {} already exists in network {}",
            rec.name, net.name
        )));
    }
    if rec.networks.is_empty() {
        // The implicit default network becomes explicit, so the new one is added to it.
        rec.networks
            .insert(DEFAULT_BRIDGE.into(), EndpointConfig::default());
    }
    let layout = engine.layout();
    if matches!(rec.state.status, Status::Running | Status::Paused) {
        let path = netns::path(layout, &id);
        let mut ep = engine.state().write(|tx| {
            let n = NetworkStore::of(tx).endpoints_of(&id)?.len();
            lease(tx, &rec, &net, &cfg, format!("eth{n}"))
        })?;
        let att = [Attachment {
            network: &net,
            endpoint: &ep,
            mac: cfg.mac_address.clone(),
        }];
        match driver::setup(engine.state(), layout, &path, &att, &[]) {
            Ok(done) => {
                ep = done.into_iter().next().unwrap_or(ep);
                engine.state().write(|tx| {
                    NetworkStore::of(tx).put_endpoint(&ep)?;
                    let e = Event::network_endpoint(&net.id, &net.name, "connect", &id);
                    journal::record(tx, &e)
                })?;
                refresh_resolv_conf(engine, &rec)?;
            }
            Err(e) => {
                driver::teardown(engine.state(), layout, &id, &att, &[], false);
                engine
                    .state()
                    .write(|tx| NetworkStore::of(tx).delete_endpoint(&id, &net.id))?;
                return Err(e);
            }
        }
    }
    rec.networks.insert(net.name.clone(), cfg);
    engine
        .state()
        .write(|tx| ContainerStore::of(tx).save(&rec))?;
    engine.emit(EngineEvent::ContainersChanged);
    Ok(())
}

/// Disconnects container `container` from network `network` (live when it runs).
pub fn disconnect(engine: &Engine, network: &str, container: &str) -> Result<()> {
    let net = engine
        .state()
        .read(|tx| NetworkStore::of(tx).find(network))?;
    let id = ct::resolve(engine, container)?;
    let _lock = ct::store::lock(engine.layout(), &id)?;
    let mut rec = ct::get(engine, &id)?;
    bridged(&rec)?;
    if rec.networks.is_empty() && net.is_default() {
        rec.networks
            .insert(DEFAULT_BRIDGE.into(), EndpointConfig::default());
    }
    if !rec.networks.contains_key(&net.name) {
        return Err(EngineError::NotFound(format!(
            "container {} is not connected to network {}",
            rec.name, net.name
        )));
    }
    let layout = engine.layout();
    let ep = engine
        .state()
        .read(|tx| NetworkStore::of(tx).endpoints_of(&id))?
        .into_iter()
        .find(|e| e.network_id == net.id);
    if let Some(ep) = ep {
        let att = [Attachment {
            network: &net,
            endpoint: &ep,
            mac: None,
        }];
        driver::teardown(engine.state(), layout, &id, &att, &[], false);
        engine.state().write(|tx| {
            NetworkStore::of(tx).delete_endpoint(&id, &net.id)?;
            let e = Event::network_endpoint(&net.id, &net.name, "disconnect", &id);
            journal::record(tx, &e)
        })?;
        refresh_resolv_conf(engine, &rec)?;
    }
    rec.networks.remove(&net.name);
    if let NetworkMode::Named(n) = &rec.host_config.network_mode {
        if *n == net.name {
            if let Some(other) = rec.networks.keys().next() {
                rec.host_config.network_mode = other.parse()?;
            }
        }
    }
    engine
        .state()
        .write(|tx| ContainerStore::of(tx).save(&rec))?;
    engine.emit(EngineEvent::ContainersChanged);
    Ok(())
}

/// The ports container `reference` publishes while it runs.
pub fn ports(engine: &Engine, reference: &str) -> Result<Vec<Published>> {
    let id = ct::resolve(engine, reference)?;
    let rec = ct::get(engine, &id)?;
    if !matches!(rec.state.status, Status::Running | Status::Paused) {
        return Ok(Vec::new());
    }
    engine.state().read(|tx| NetworkStore::of(tx).ports_of(&id))
}

/// Rewrites a running container's `/etc/resolv.conf` for the networks it is on now (after a
/// connect or a disconnect).
fn refresh_resolv_conf(engine: &Engine, rec: &ct::record::ContainerRecord) -> Result<()> {
    let all = engine
        .state()
        .read(|tx| NetworkStore::of(tx).endpoints_of(&rec.id))?;
    super::attach::rewrite_resolv_conf(engine.layout(), rec, &all);
    Ok(())
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod list_tests;
