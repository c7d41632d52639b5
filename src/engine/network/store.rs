//! The `networks`, `endpoints` and `published_ports` tables.

use std::net::Ipv4Addr;

use rusqlite::{params, OptionalExtension, Transaction};

use super::ports::Published;
use super::record::{Endpoint, NetworkRecord};
use crate::engine::error::{EngineError, Result};

pub fn insert(tx: &Transaction<'_>, net: &NetworkRecord) -> Result<()> {
    if get_by_name(tx, &net.name)?.is_some() {
        return Err(EngineError::Conflict(format!(
            "network with name {} already exists: remove it first or choose another name",
            net.name
        )));
    }
    tx.execute(
        "INSERT INTO networks(id, name, record, created) VALUES (?1, ?2, ?3, ?4)",
        params![
            net.id,
            net.name,
            serde_json::to_string(net)?,
            net.created.to_rfc3339()
        ],
    )?;
    Ok(())
}

pub fn delete(tx: &Transaction<'_>, id: &str) -> Result<()> {
    tx.execute("DELETE FROM networks WHERE id = ?1", params![id])?;
    Ok(())
}

fn parse(json: String) -> Result<NetworkRecord> {
    Ok(serde_json::from_str(&json)?)
}

pub fn get_by_name(tx: &Transaction<'_>, name: &str) -> Result<Option<NetworkRecord>> {
    tx.query_row(
        "SELECT record FROM networks WHERE name = ?1",
        params![name],
        |r| r.get::<_, String>(0),
    )
    .optional()?
    .map(parse)
    .transpose()
}

pub fn list(tx: &Transaction<'_>) -> Result<Vec<NetworkRecord>> {
    let mut stmt = tx.prepare("SELECT record FROM networks ORDER BY name")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| parse(r?)).collect()
}

/// A network by name, full id or unique id prefix.
pub fn find(tx: &Transaction<'_>, reference: &str) -> Result<NetworkRecord> {
    if let Some(n) = get_by_name(tx, reference)? {
        return Ok(n);
    }
    let matches: Vec<NetworkRecord> = if reference.chars().all(|c| c.is_ascii_hexdigit()) {
        list(tx)?
            .into_iter()
            .filter(|n| n.id.starts_with(reference))
            .collect()
    } else {
        vec![]
    };
    match matches.len() {
        1 => Ok(matches.into_iter().next().expect("one match")),
        0 => Err(not_found(reference)),
        _ => Err(EngineError::InvalidInput(format!(
            "network {reference} is ambiguous: {} networks match; give more of the id or the name",
            matches.len()
        ))),
    }
}

pub fn not_found(reference: &str) -> EngineError {
    EngineError::NotFound(format!(
        "network {reference} not found: see `berth network ls`, or create it with `berth \
         network create {reference}`"
    ))
}

/// The addresses leased on network `network_id`.
pub fn taken(tx: &Transaction<'_>, network_id: &str) -> Result<Vec<Ipv4Addr>> {
    let mut stmt = tx.prepare("SELECT ip FROM endpoints WHERE network_id = ?1")?;
    let rows = stmt.query_map(params![network_id], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for r in rows {
        if let Ok(ip) = r?.parse() {
            out.push(ip);
        }
    }
    Ok(out)
}

pub fn put_endpoint(tx: &Transaction<'_>, ep: &Endpoint) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO endpoints(container_id, network_id, ip, record) \
         VALUES (?1, ?2, ?3, ?4)",
        params![
            ep.container_id,
            ep.network_id,
            ep.ip.to_string(),
            serde_json::to_string(ep)?
        ],
    )?;
    Ok(())
}

fn endpoints_where(tx: &Transaction<'_>, clause: &str, arg: &str) -> Result<Vec<Endpoint>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT record FROM endpoints WHERE {clause} = ?1 ORDER BY rowid"
    ))?;
    let rows = stmt.query_map(params![arg], |r| r.get::<_, String>(0))?;
    rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
}

/// The endpoints container `id` holds, in the order they were made.
pub fn endpoints_of(tx: &Transaction<'_>, id: &str) -> Result<Vec<Endpoint>> {
    endpoints_where(tx, "container_id", id)
}

/// The endpoints on network `network_id`.
pub fn endpoints_on(tx: &Transaction<'_>, network_id: &str) -> Result<Vec<Endpoint>> {
    endpoints_where(tx, "network_id", network_id)
}

pub fn delete_endpoint(tx: &Transaction<'_>, id: &str, network_id: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM endpoints WHERE container_id = ?1 AND network_id = ?2",
        params![id, network_id],
    )?;
    Ok(())
}

/// Releases everything container `id` holds: leases and published ports.
pub fn release(tx: &Transaction<'_>, id: &str) -> Result<()> {
    tx.execute("DELETE FROM endpoints WHERE container_id = ?1", params![id])?;
    tx.execute(
        "DELETE FROM published_ports WHERE container_id = ?1",
        params![id],
    )?;
    Ok(())
}

pub fn put_ports(tx: &Transaction<'_>, id: &str, ports: &[Published]) -> Result<()> {
    for p in ports {
        tx.execute(
            "INSERT OR REPLACE INTO published_ports(container_id, host_ip, host_port, proto, \
             container_port) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, p.host_ip, p.host_port, p.proto, p.container_port],
        )?;
    }
    Ok(())
}

/// The ports container `id` publishes while it runs.
pub fn ports_of(tx: &Transaction<'_>, id: &str) -> Result<Vec<Published>> {
    let mut stmt = tx.prepare(
        "SELECT host_ip, host_port, proto, container_port FROM published_ports \
         WHERE container_id = ?1 ORDER BY container_port, proto, host_ip",
    )?;
    let rows = stmt.query_map(params![id], |r| {
        Ok(Published {
            host_ip: r.get(0)?,
            host_port: r.get(1)?,
            proto: r.get(2)?,
            container_port: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
