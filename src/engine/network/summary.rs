//! The network list with what a list shows of each network's containers, read in one
//! transaction (the TUI's networks pane): no `network inspect` per network, no container
//! lookup per endpoint.

use std::collections::HashMap;

use super::ops::ensure_default;
use super::record::NetworkRecord;
use super::store::NetworkStore;
use crate::engine::container::store::ContainerStore;
use crate::engine::error::Result;
use crate::engine::{blocking, Engine};

/// One network and its containers, by name, sorted.
#[derive(Debug, Clone)]
pub struct NetworkSummary {
    pub network: NetworkRecord,
    /// The containers attached now (holding an endpoint on it: running ones).
    pub attached: Vec<String>,
    /// Every container that names the network (running or not).
    pub users: Vec<String>,
}

/// What the summaries read of a container record.
#[derive(serde::Deserialize)]
struct NetworksOnly {
    #[serde(default)]
    networks: std::collections::BTreeMap<String, serde::de::IgnoredAny>,
}

/// A container and the networks its record names.
struct Users {
    id: String,
    name: String,
    networks: std::collections::BTreeSet<String>,
}

/// Every network (the default one made on first use) with its containers.
pub fn summaries(engine: &Engine) -> Result<Vec<NetworkSummary>> {
    let exists = engine
        .state()
        .read(|tx| NetworkStore::of(tx).get_by_name(super::DEFAULT_BRIDGE))?
        .is_some();
    if !exists {
        engine.state().write(|tx| ensure_default(tx).map(|_| ()))?;
        // Said in this process, as every network change is: the TUI, whose first list makes
        // the default network, then knows the generation moved for this and reloads nothing
        // else.
        engine.emit(crate::engine::EngineEvent::NetworksChanged);
    }
    engine.state().read(|tx| {
        let nets = NetworkStore::of(tx).list()?;
        // Each record's networks only, read row by row: not every full record at once.
        let mut containers = Vec::new();
        ContainerStore::of(tx).each_raw(|id, name, record| {
            let only: NetworksOnly = serde_json::from_str(record)?;
            containers.push(Users {
                id: id.to_string(),
                name: name.to_string(),
                networks: only.networks.into_keys().collect(),
            });
            Ok(())
        })?;
        let names: HashMap<&str, &str> = containers
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str()))
            .collect();
        let mut attached: HashMap<String, Vec<String>> = HashMap::new();
        for ep in NetworkStore::of(tx).endpoints()? {
            if let Some(name) = names.get(ep.container_id.as_str()) {
                attached
                    .entry(ep.network_id)
                    .or_default()
                    .push(name.to_string());
            }
        }
        Ok(nets
            .into_iter()
            .map(|network| {
                let mut on = attached.remove(&network.id).unwrap_or_default();
                on.sort();
                let mut users: Vec<String> = containers
                    .iter()
                    .filter(|c| c.networks.contains(&network.name))
                    .map(|c| c.name.clone())
                    .collect();
                users.sort();
                NetworkSummary {
                    network,
                    attached: on,
                    users,
                }
            })
            .collect())
    })
}

impl Engine {
    /// Every network with the containers attached to it and those that name it.
    pub async fn network_summaries(&self) -> Result<Vec<NetworkSummary>> {
        blocking(self, summaries).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::container::record::{Config, ContainerRecord, HostConfig, State, Status};
    use crate::engine::network::record::{Endpoint, EndpointConfig};

    fn container(id: &str, name: &str, nets: &[&str]) -> ContainerRecord {
        ContainerRecord {
            id: id.repeat(32),
            name: name.into(),
            image: "img".into(),
            image_id: String::new(),
            lowers: vec![],
            created: chrono::Utc::now(),
            config: Config::default(),
            host_config: HostConfig::default(),
            state: State {
                status: Status::Running,
                ..Default::default()
            },
            restart_count: 0,
            mounts: vec![],
            networks: nets
                .iter()
                .map(|n| (n.to_string(), EndpointConfig::default()))
                .collect(),
            health: None,
        }
    }

    #[test]
    fn one_read_gives_each_network_its_attached_containers_and_users() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let (web, db, old) = (
            container("ab", "web", &["bridge", "back"]),
            container("cd", "db", &["back"]),
            container("ef", "old", &["back"]),
        );
        engine
            .state()
            .write(|tx| {
                let bridge = ensure_default(tx)?;
                let mut back = bridge.clone();
                back.id = "9".repeat(64);
                back.name = "back".into();
                back.interface = "berth1".into();
                NetworkStore::of(tx).insert(&back)?;
                for c in [&web, &db, &old] {
                    ContainerStore::of(tx).insert(c)?;
                }
                // `old` is not running: no endpoint.
                for (c, net) in [(&web, &bridge), (&web, &back), (&db, &back)] {
                    NetworkStore::of(tx).put_endpoint(&Endpoint {
                        container_id: c.id.clone(),
                        network_id: net.id.clone(),
                        network_name: net.name.clone(),
                        interface: "eth0".into(),
                        ip: std::net::Ipv4Addr::new(10, 0, 0, 2 + c.name.len() as u8),
                        prefix: 24,
                        gateway: None,
                        mac: String::new(),
                        aliases: vec![],
                        dns_server: None,
                    })?;
                }
                Ok(())
            })
            .unwrap();
        let got: Vec<(String, Vec<String>, Vec<String>)> = summaries(&engine)
            .unwrap()
            .into_iter()
            .map(|s| (s.network.name, s.attached, s.users))
            .collect();
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            [
                (
                    "back".to_string(),
                    v(&["db", "web"]),
                    v(&["db", "old", "web"])
                ),
                ("bridge".to_string(), v(&["web"]), v(&["web"])),
            ]
        );
    }

    #[test]
    fn the_default_network_is_made_on_first_use() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let got = summaries(&engine).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].network.name, super::super::DEFAULT_BRIDGE);
        assert!(got[0].attached.is_empty() && got[0].users.is_empty());
    }
}
