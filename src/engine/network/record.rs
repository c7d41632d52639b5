//! A network as stored in the `networks` table, what a container asked for on a network, and
//! the endpoint (address lease) it holds there while it runs.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ipam::Subnet;

/// One network (docker's `network inspect`, berth's fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkRecord {
    /// 64 hex digits.
    pub id: String,
    pub name: String,
    /// Always `bridge` for now.
    pub driver: String,
    pub subnet: Subnet,
    pub gateway: Ipv4Addr,
    /// `--ip-range`: the part of the subnet addresses are leased from.
    #[serde(default)]
    pub ip_range: Option<Subnet>,
    /// No route out of the network (`--internal`).
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub created: DateTime<Utc>,
    /// The bridge interface on the host (`berth0` for the default network, `br-<id12>`).
    pub interface: String,
    /// Whether containers resolve each other by name (user-defined networks, as docker).
    pub dns: bool,
}

impl NetworkRecord {
    /// The default network (`bridge`), not user-defined.
    pub fn is_default(&self) -> bool {
        self.name == super::DEFAULT_BRIDGE
    }

    /// The first 12 hex digits.
    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }
}

/// What a container asked for on one network (`--network-alias`, `--ip`, `--mac-address`,
/// `network connect --alias --ip`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfig {
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(
        default,
        rename = "IPv4Address",
        skip_serializing_if = "Option::is_none"
    )]
    pub ipv4_address: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
}

/// A running container's place on a network: its lease and interface (table `endpoints`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub container_id: String,
    pub network_id: String,
    pub network_name: String,
    /// The interface in the container (`eth0`, `eth1`…).
    pub interface: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
    /// Known once the driver made the interface.
    #[serde(default)]
    pub mac: String,
    /// Names this container answers to on the network (DNS): its name, short id and aliases.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The name server the container asks (the network's aardvark-dns), for DNS networks.
    #[serde(default)]
    pub dns_server: Option<Ipv4Addr>,
}

impl Endpoint {
    /// Docker's endpoint id: stable for one container on one network.
    pub fn endpoint_id(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(
            format!("{}/{}", self.container_id, self.network_id).as_bytes(),
        ))
    }
}
