//! Docker's shapes: serde structs of what docker prints and serves (list rows, the parts of
//! inspect docker clients read), shared by the CLI's `--format` and, later, the API socket.
//! Field names are docker's; a template or a JSON client sees exactly these.

pub mod archive;
pub mod container;
pub mod events;
pub mod health;
pub mod history;
pub mod image;
pub mod network;
pub mod rows;
pub mod system;
pub mod units;

pub use rows::{ImageRow, PsRow, StatsRow, VolumeRow};

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::container::NetworkMode;

/// One endpoint of `NetworkSettings.Networks` (docker's `EndpointSettings`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<()>,
    pub links: Option<Vec<String>>,
    pub aliases: Option<Vec<String>>,
    pub mac_address: String,
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub gateway: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u32,
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u32,
    pub driver_opts: Option<BTreeMap<String, String>>,
    #[serde(rename = "DNSNames")]
    pub dns_names: Option<Vec<String>>,
}

/// A container's `NetworkSettings` as docker's inspect shows it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    pub bridge: String,
    #[serde(rename = "SandboxID")]
    pub sandbox_id: String,
    pub sandbox_key: String,
    /// Published ports (`"80/tcp": [{HostIp, HostPort}]`); berth publishes none yet.
    pub ports: BTreeMap<String, Option<Vec<BTreeMap<String, String>>>>,
    pub hairpin_mode: bool,
    #[serde(rename = "LinkLocalIPv6Address")]
    pub link_local_ipv6_address: String,
    #[serde(rename = "LinkLocalIPv6PrefixLen")]
    pub link_local_ipv6_prefix_len: u32,
    #[serde(rename = "SecondaryIPAddresses")]
    pub secondary_ip_addresses: Option<Vec<String>>,
    #[serde(rename = "SecondaryIPv6Addresses")]
    pub secondary_ipv6_addresses: Option<Vec<String>>,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub gateway: String,
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u32,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u32,
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    pub mac_address: String,
    pub networks: BTreeMap<String, EndpointSettings>,
}

impl NetworkSettings {
    /// The settings of a container in network mode `mode` (`none` or `host`: no addresses of
    /// its own, as docker shows those modes), running in the namespace at `sandbox_key`.
    pub fn for_mode(mode: &NetworkMode, sandbox_key: String) -> NetworkSettings {
        let mut networks = BTreeMap::new();
        networks.insert(mode.to_string(), EndpointSettings::default());
        NetworkSettings {
            sandbox_key,
            networks,
            ..NetworkSettings::default()
        }
    }
}
