//! Docker's network shapes: `network inspect`, the `network ls` row, and a container's
//! `NetworkSettings` from its endpoints and published ports.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{EndpointSettings, NetworkSettings};
use crate::engine::container::{ContainerRecord, Status};
use crate::engine::network::ports::{split_key, Published};
use crate::engine::network::{Endpoint, NetworkRecord};

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpamConfig {
    pub subnet: String,
    pub gateway: String,
    #[serde(rename = "IPRange", skip_serializing_if = "String::is_empty")]
    pub ip_range: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    pub driver: String,
    pub options: BTreeMap<String, String>,
    pub config: Vec<IpamConfig>,
}

/// One container in `network inspect`'s `Containers`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkContainer {
    pub name: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub mac_address: String,
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ConfigFrom {
    #[serde(rename = "Network")]
    pub network: String,
}

/// `network inspect` (docker's `network.Inspect`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInspect {
    pub name: String,
    pub id: String,
    pub created: String,
    pub scope: String,
    pub driver: String,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_from: ConfigFrom,
    pub config_only: bool,
    pub containers: BTreeMap<String, NetworkContainer>,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

impl NetworkInspect {
    /// Network `n` with the running containers `on` it (endpoint and container name).
    pub fn new(n: &NetworkRecord, on: &[(Endpoint, String)]) -> NetworkInspect {
        let mut options = BTreeMap::new();
        options.insert(
            "com.docker.network.bridge.name".to_string(),
            n.interface.clone(),
        );
        NetworkInspect {
            name: n.name.clone(),
            id: n.id.clone(),
            created: n
                .created
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            scope: "local".into(),
            driver: n.driver.clone(),
            enable_ipv6: false,
            ipam: Ipam {
                driver: "default".into(),
                options: BTreeMap::new(),
                config: vec![IpamConfig {
                    subnet: n.subnet.to_string(),
                    gateway: n.gateway.to_string(),
                    ip_range: n.ip_range.map(|r| r.to_string()).unwrap_or_default(),
                }],
            },
            internal: n.internal,
            attachable: false,
            ingress: false,
            config_from: ConfigFrom::default(),
            config_only: false,
            containers: on
                .iter()
                .map(|(e, name)| {
                    (
                        e.container_id.clone(),
                        NetworkContainer {
                            name: name.clone(),
                            endpoint_id: e.endpoint_id(),
                            mac_address: e.mac.clone(),
                            ipv4_address: format!("{}/{}", e.ip, e.prefix),
                            ipv6_address: String::new(),
                        },
                    )
                })
                .collect(),
            options,
            labels: n.labels.clone(),
        }
    }
}

/// A row of `network ls` (docker's `formatter.networkContext`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkRow {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub driver: String,
    pub scope: String,
    #[serde(rename = "IPv6")]
    pub ipv6: String,
    pub internal: String,
    pub labels: String,
    pub created_at: String,
}

impl NetworkRow {
    pub fn new(n: &NetworkRecord, no_trunc: bool) -> NetworkRow {
        NetworkRow {
            id: if no_trunc {
                n.id.clone()
            } else {
                n.short_id().to_string()
            },
            name: n.name.clone(),
            driver: n.driver.clone(),
            scope: "local".into(),
            ipv6: "false".into(),
            internal: n.internal.to_string(),
            labels: n
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
            created_at: n.created.format("%Y-%m-%d %H:%M:%S%.f %z UTC").to_string(),
        }
    }
}

/// Docker's table headers of [`NetworkRow`].
pub const NETWORK_HEADERS: &[(&str, &str)] = &[
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED AT"),
];

/// `ps`'s PORTS column: `0.0.0.0:8000->80/tcp, 53/udp` (published first, then exposed ones).
pub fn ports_column(rec: &ContainerRecord, published: &[Published]) -> String {
    let mut out: Vec<String> = published.iter().map(Published::display).collect();
    let running = matches!(rec.state.status, Status::Running | Status::Paused);
    if running {
        for k in rec.config.exposed_ports.keys() {
            if !published
                .iter()
                .any(|p| split_key(k) == Some((p.container_port, p.proto.as_str())))
            {
                out.push(k.clone());
            }
        }
    }
    out.join(", ")
}

/// A container's `NetworkSettings` on its networks (`endpoints` while it runs; the networks
/// it names, without addresses, while it does not).
pub fn settings(
    rec: &ContainerRecord,
    sandbox_key: String,
    endpoints: &[Endpoint],
    published: &[Published],
) -> NetworkSettings {
    let mut s = NetworkSettings::for_mode(&rec.host_config.network_mode, sandbox_key);
    let joins = crate::engine::network::attach::joins(rec);
    if joins.is_empty() {
        return s;
    }
    s.networks.clear();
    for (name, cfg) in &joins {
        let mut es = EndpointSettings {
            aliases: Some(cfg.aliases.clone()),
            mac_address: cfg.mac_address.clone().unwrap_or_default(),
            ..EndpointSettings::default()
        };
        if let Some(e) = endpoints.iter().find(|e| &e.network_name == name) {
            es.network_id = e.network_id.clone();
            es.endpoint_id = e.endpoint_id();
            es.gateway = e.gateway.map(|g| g.to_string()).unwrap_or_default();
            es.ip_address = e.ip.to_string();
            es.ip_prefix_len = e.prefix.into();
            es.mac_address = e.mac.clone();
            // Names only where a DNS server answers them (user-defined networks).
            es.dns_names = e.dns_server.map(|_| e.aliases.clone());
        }
        s.networks.insert(name.clone(), es);
    }
    if let Some(e) = endpoints
        .iter()
        .find(|e| e.network_name == crate::engine::network::DEFAULT_BRIDGE)
    {
        s.endpoint_id = e.endpoint_id();
        s.gateway = e.gateway.map(|g| g.to_string()).unwrap_or_default();
        s.ip_address = e.ip.to_string();
        s.ip_prefix_len = e.prefix.into();
        s.mac_address = e.mac.clone();
    }
    let mut ports: BTreeMap<String, Option<Vec<BTreeMap<String, String>>>> = BTreeMap::new();
    for k in rec
        .config
        .exposed_ports
        .keys()
        .chain(rec.host_config.port_bindings.keys())
    {
        ports.insert(k.clone(), None);
    }
    for p in published {
        let b = BTreeMap::from([
            ("HostIp".to_string(), p.host_ip.clone()),
            ("HostPort".to_string(), p.host_port.to_string()),
        ]);
        ports
            .entry(format!("{}/{}", p.container_port, p.proto))
            .or_insert(None)
            .get_or_insert_with(Vec::new)
            .push(b);
    }
    s.ports = ports;
    s
}
