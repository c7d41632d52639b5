//! `--link NAME[:ALIAS]` on the default bridge (docker's legacy links): a hosts entry for the
//! linked container and the `ALIAS_PORT_80_TCP…`, `ALIAS_NAME`, `ALIAS_ENV_…` variables, made
//! at each start from the linked container's address and exposed ports.

use std::net::Ipv4Addr;

use super::store::NetworkStore;
use crate::engine::container::{self as ct, ContainerRecord, Status};
use crate::engine::error::{EngineError, Result};
use crate::engine::state::StateStore;

/// Splits `NAME[:ALIAS]` (the alias defaults to the name).
pub fn parse(link: &str) -> Result<(String, String)> {
    let (name, alias) = link.split_once(':').unwrap_or((link, link));
    let name = name.strip_prefix('/').unwrap_or(name);
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    };
    if !ok(name) || !ok(alias) {
        return Err(EngineError::InvalidInput(format!(
            "invalid --link {link:?}: use NAME or NAME:ALIAS"
        )));
    }
    Ok((name.to_string(), alias.to_string()))
}

/// The variables docker sets for link `alias` to `target` (address `ip`) in container `me`.
pub fn env(me: &str, alias: &str, target: &ContainerRecord, ip: Ipv4Addr) -> Vec<String> {
    let prefix = alias.to_uppercase().replace(['-', '.'], "_");
    let mut out = vec![format!("{prefix}_NAME=/{me}/{alias}")];
    let mut ports: Vec<(u16, String)> = target
        .config
        .exposed_ports
        .keys()
        .chain(target.host_config.port_bindings.keys())
        .filter_map(|k| super::ports::split_key(k).map(|(p, proto)| (p, proto.to_string())))
        .collect();
    ports.sort();
    ports.dedup();
    if let Some((p, proto)) = ports.first() {
        out.push(format!("{prefix}_PORT={proto}://{ip}:{p}"));
    }
    for (p, proto) in &ports {
        let k = format!("{prefix}_PORT_{p}_{}", proto.to_uppercase());
        out.push(format!("{k}={proto}://{ip}:{p}"));
        out.push(format!("{k}_ADDR={ip}"));
        out.push(format!("{k}_PORT={p}"));
        out.push(format!("{k}_PROTO={proto}"));
    }
    for e in &target.config.env {
        let key = e.split('=').next().unwrap_or_default();
        if !matches!(key, "HOME" | "PATH" | "HOSTNAME") {
            out.push(format!("{prefix}_ENV_{e}"));
        }
    }
    out
}

/// A `/etc/hosts` entry: an address and its names.
pub type HostsEntry = (Ipv4Addr, Vec<String>);

/// For each link of `rec`: the variables and the hosts entry. A linked container must be
/// running on the default bridge.
pub fn resolve(
    state: &StateStore,
    rec: &ContainerRecord,
) -> Result<(Vec<String>, Vec<HostsEntry>)> {
    let mut env = Vec::new();
    let mut hosts = Vec::new();
    for link in &rec.host_config.links {
        let (name, alias) = parse(link)?;
        let id = ct::store::resolve(state, &name)?;
        let target = ct::store::load(state, &id)?;
        let cannot = |why: &str| {
            EngineError::InvalidState(format!(
                "cannot link to {name}: {why}; start it first (on the default bridge network)"
            ))
        };
        if !matches!(target.state.status, Status::Running | Status::Paused) {
            return Err(cannot("the container is not running"));
        }
        let ip = state
            .read(|tx| NetworkStore::of(tx).endpoints_of(&target.id))?
            .into_iter()
            .find(|e| e.network_name == super::DEFAULT_BRIDGE)
            .map(|e| e.ip)
            .ok_or_else(|| cannot("it has no address on the default bridge network"))?;
        env.extend(self::env(&rec.name, &alias, &target, ip));
        let mut names = vec![alias.clone()];
        for n in [target.short_id().to_string(), target.name.clone()] {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        hosts.push((ip, names));
    }
    Ok((env, hosts))
}
