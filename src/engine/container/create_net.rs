//! The network part of `create`: the mode (`--network`, default from
//! [`crate::engine::network::default_mode`]), `-p`/`-P`/`--expose`, `--network-alias`, `--ip`,
//! `--mac-address` and `--link`, checked with docker's rules (no I/O here; the networks and
//! linked containers named are looked up by [`check_refs`]).

use std::collections::BTreeMap;

use super::create::CreateOptions;
use super::image_source::ResolvedImage;
use super::network_mode::NetworkMode;
use crate::engine::error::{EngineError, Result};
use crate::engine::network::ports::{self, Empty, PortBindings};
use crate::engine::network::{links, EndpointConfig, DEFAULT_BRIDGE};
use crate::engine::Engine;

/// What `create` records of the network options.
pub struct NetPlan {
    pub mode: NetworkMode,
    pub exposed: BTreeMap<String, Empty>,
    pub bindings: PortBindings,
    pub links: Vec<String>,
    pub networks: BTreeMap<String, EndpointConfig>,
}

fn conflict(what: &str, mode: &NetworkMode) -> EngineError {
    EngineError::InvalidInput(format!(
        "conflicting options: {what} and the network mode {mode}: use --network bridge or a \
         network of your own with it"
    ))
}

pub fn plan(opts: &CreateOptions, img: &ResolvedImage) -> Result<NetPlan> {
    let given = opts
        .network
        .clone()
        .unwrap_or_else(crate::engine::network::default_mode);
    let mode: NetworkMode = given.parse()?;
    let mut exposed: BTreeMap<String, Empty> = BTreeMap::new();
    for k in img.config.exposed_ports.iter().flatten().map(|(k, _)| k) {
        let key = if k.contains('/') {
            k.clone()
        } else {
            format!("{k}/tcp")
        };
        if ports::split_key(&key).is_some() {
            exposed.insert(key, Empty {});
        }
    }
    for e in &opts.expose {
        for k in ports::parse_expose(e)? {
            exposed.insert(k, Empty {});
        }
    }
    let mut bindings = PortBindings::new();
    for p in &opts.publish {
        for (k, b) in ports::parse_publish(p)? {
            bindings.entry(k).or_default().push(b);
        }
    }
    let bridged = matches!(mode, NetworkMode::Bridge | NetworkMode::Named(_));
    if !bridged {
        // Docker discards published ports with host networking (they are the host's own).
        if (!bindings.is_empty() || opts.publish_all) && !mode.is_host() {
            return Err(conflict("port publishing (-p, -P)", &mode));
        }
        bindings.clear();
        if !opts.links.is_empty() {
            return Err(conflict("--link", &mode));
        }
        if opts.ip.is_some() || !opts.network_aliases.is_empty() || opts.mac_address.is_some() {
            return Err(conflict("--ip, --network-alias and --mac-address", &mode));
        }
    }
    for k in bindings.keys() {
        exposed.insert(k.clone(), Empty {});
    }
    if mode == NetworkMode::Bridge {
        if !opts.network_aliases.is_empty() {
            return Err(EngineError::InvalidInput(
                "network-scoped aliases are supported only for containers on user-defined \
                 networks: create one with `berth network create` and use --network NAME"
                    .into(),
            ));
        }
        if opts.ip.is_some() {
            return Err(EngineError::InvalidInput(
                "user specified IP address is supported on user defined networks only: create \
                 one with `berth network create --subnet …`"
                    .into(),
            ));
        }
    } else if !opts.links.is_empty() {
        return Err(conflict("--link", &mode));
    }
    let links = opts
        .links
        .iter()
        .map(|l| links::parse(l).map(|(n, a)| format!("{n}:{a}")))
        .collect::<Result<Vec<_>>>()?;
    let ipv4_address = opts
        .ip
        .as_deref()
        .map(|s| {
            s.parse().map_err(|_| {
                EngineError::InvalidInput(format!("invalid --ip {s:?}: give an IPv4 address"))
            })
        })
        .transpose()?;
    if let Some(m) = &opts.mac_address {
        let ok = m.len() == 17
            && m.split(':')
                .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit()));
        if !ok {
            return Err(EngineError::InvalidInput(format!(
                "invalid --mac-address {m:?}: give six hex bytes, e.g. 02:42:ac:11:00:02"
            )));
        }
    }
    let mut networks = BTreeMap::new();
    let net_name = match &mode {
        NetworkMode::Bridge => Some(DEFAULT_BRIDGE.to_string()),
        NetworkMode::Named(n) => Some(n.clone()),
        _ => None,
    };
    if let Some(n) = net_name {
        networks.insert(
            n,
            EndpointConfig {
                aliases: opts.network_aliases.clone(),
                ipv4_address,
                mac_address: opts.mac_address.clone(),
            },
        );
    }
    Ok(NetPlan {
        mode,
        exposed,
        bindings,
        links,
        networks,
    })
}

/// Checks that the networks and linked containers named exist (docker refuses at create).
pub fn check_refs(engine: &Engine, rec: &super::ContainerRecord) -> Result<()> {
    use crate::engine::network::store::{self, NetworkStore};
    for name in rec.networks.keys() {
        if name != DEFAULT_BRIDGE
            && engine
                .state()
                .read(|tx| NetworkStore::of(tx).get_by_name(name))?
                .is_none()
        {
            return Err(store::not_found(name));
        }
    }
    if let NetworkMode::Container(c) = &rec.host_config.network_mode {
        super::resolve(engine, c)?;
    }
    for l in &rec.host_config.links {
        let (name, _) = links::parse(l)?;
        super::resolve(engine, &name).map_err(|_| {
            EngineError::NotFound(format!(
                "could not get container for {name}: no such container; start it first"
            ))
        })?;
    }
    Ok(())
}
