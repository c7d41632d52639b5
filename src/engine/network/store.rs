//! The `networks`, `endpoints` and `published_ports` tables: every SQL statement on them.

use std::net::Ipv4Addr;

use rusqlite::{params, OptionalExtension, Transaction};

use super::ports::Published;
use super::record::{Endpoint, NetworkRecord};
use crate::engine::error::{EngineError, Result};

/// Networks, the endpoints (address leases) of running containers and the host ports they
/// publish, over the caller's transaction.
pub struct NetworkStore<'t> {
    tx: &'t Transaction<'t>,
}

impl<'t> NetworkStore<'t> {
    /// The tables, in transaction `tx`.
    pub fn of(tx: &'t Transaction<'t>) -> Self {
        NetworkStore { tx }
    }

    /// Adds network `net`; its name must be free.
    pub fn insert(&self, net: &NetworkRecord) -> Result<()> {
        if self.get_by_name(&net.name)?.is_some() {
            return Err(EngineError::Conflict(format!(
                "network with name {} already exists: remove it first or choose another name",
                net.name
            )));
        }
        self.tx.execute(
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

    /// Deletes network `id`'s record.
    pub fn delete(&self, id: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM networks WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// A network by exact name.
    pub fn get_by_name(&self, name: &str) -> Result<Option<NetworkRecord>> {
        self.tx
            .query_row(
                "SELECT record FROM networks WHERE name = ?1",
                params![name],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(parse)
            .transpose()
    }

    /// Every network, by name.
    pub fn list(&self) -> Result<Vec<NetworkRecord>> {
        let mut stmt = self
            .tx
            .prepare("SELECT record FROM networks ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|r| parse(r?)).collect()
    }

    /// A network by name, full id or unique id prefix.
    pub fn find(&self, reference: &str) -> Result<NetworkRecord> {
        if let Some(n) = self.get_by_name(reference)? {
            return Ok(n);
        }
        let matches: Vec<NetworkRecord> = if reference.chars().all(|c| c.is_ascii_hexdigit()) {
            self.list()?
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

    /// The addresses leased on network `network_id`.
    pub fn taken(&self, network_id: &str) -> Result<Vec<Ipv4Addr>> {
        let mut stmt = self
            .tx
            .prepare("SELECT ip FROM endpoints WHERE network_id = ?1")?;
        let rows = stmt.query_map(params![network_id], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for r in rows {
            if let Ok(ip) = r?.parse() {
                out.push(ip);
            }
        }
        Ok(out)
    }

    /// Records (or replaces) an endpoint: a container's lease on a network.
    pub fn put_endpoint(&self, ep: &Endpoint) -> Result<()> {
        self.tx.execute(
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

    /// How many endpoints there are, on every network.
    pub fn endpoint_count(&self) -> Result<i64> {
        Ok(self
            .tx
            .query_row("SELECT COUNT(*) FROM endpoints", [], |r| r.get(0))?)
    }

    fn endpoints_where(&self, clause: &str, arg: &str) -> Result<Vec<Endpoint>> {
        let mut stmt = self.tx.prepare(&format!(
            "SELECT record FROM endpoints WHERE {clause} = ?1 ORDER BY rowid"
        ))?;
        let rows = stmt.query_map(params![arg], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
    }

    /// The endpoints container `id` holds, in the order they were made.
    pub fn endpoints_of(&self, id: &str) -> Result<Vec<Endpoint>> {
        self.endpoints_where("container_id", id)
    }

    /// Every endpoint, on every network.
    pub fn endpoints(&self) -> Result<Vec<Endpoint>> {
        let mut stmt = self
            .tx
            .prepare("SELECT record FROM endpoints ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
    }

    /// The endpoints on network `network_id`.
    pub fn endpoints_on(&self, network_id: &str) -> Result<Vec<Endpoint>> {
        self.endpoints_where("network_id", network_id)
    }

    /// Releases container `id`'s lease on network `network_id`.
    pub fn delete_endpoint(&self, id: &str, network_id: &str) -> Result<()> {
        self.tx.execute(
            "DELETE FROM endpoints WHERE container_id = ?1 AND network_id = ?2",
            params![id, network_id],
        )?;
        Ok(())
    }

    /// The containers that hold a lease or a published port.
    pub fn holders(&self) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare(
            "SELECT container_id FROM endpoints UNION SELECT container_id FROM published_ports",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Releases everything container `id` holds: leases and published ports.
    pub fn release(&self, id: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM endpoints WHERE container_id = ?1", params![id])?;
        self.tx.execute(
            "DELETE FROM published_ports WHERE container_id = ?1",
            params![id],
        )?;
        Ok(())
    }

    /// Records the host ports container `id` publishes.
    pub fn put_ports(&self, id: &str, ports: &[Published]) -> Result<()> {
        for p in ports {
            self.tx.execute(
                "INSERT OR REPLACE INTO published_ports(container_id, host_ip, host_port, proto, \
                 container_port) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, p.host_ip, p.host_port, p.proto, p.container_port],
            )?;
        }
        Ok(())
    }

    /// The ports container `id` publishes while it runs.
    pub fn ports_of(&self, id: &str) -> Result<Vec<Published>> {
        let mut stmt = self.tx.prepare(
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
}

fn parse(json: String) -> Result<NetworkRecord> {
    Ok(serde_json::from_str(&json)?)
}

/// The error for a network reference that matches nothing.
pub fn not_found(reference: &str) -> EngineError {
    EngineError::NotFound(format!(
        "network {reference} not found: see `berth network ls`, or create it with `berth \
         network create {reference}`"
    ))
}
