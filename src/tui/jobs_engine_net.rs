//! [`NetworkBackend`] over the real engine.

use chrono::Utc;
use futures::future::BoxFuture;
use futures::FutureExt;

use crate::engine::network::ops::CreateNetwork;
use crate::engine::Engine;
use crate::tui::jobs_net::NetworkBackend;
use crate::tui::model::{NetworkRow, NetworkSpec};

impl NetworkBackend for Engine {
    fn networks(&self) -> BoxFuture<'static, Result<Vec<NetworkRow>, String>> {
        let e = self.clone();
        async move {
            let recs = e.containers(Vec::new()).await.map_err(|e| e.to_string())?;
            let mut rows = Vec::new();
            for n in e.networks().await.map_err(|e| e.to_string())? {
                // The containers attached now, by name (inspect lists the running ones).
                let mut containers: Vec<String> = match e.network_inspect(n.id.clone()).await {
                    Ok(i) => i.containers.into_values().map(|c| c.name).collect(),
                    Err(_) => Vec::new(),
                };
                containers.sort();
                let mut users: Vec<String> = recs
                    .iter()
                    .filter(|c| c.networks.contains_key(&n.name))
                    .map(|c| c.name.clone())
                    .collect();
                users.sort();
                rows.push(NetworkRow {
                    subnet: n.subnet.to_string(),
                    gateway: n.gateway.to_string(),
                    internal: n.internal,
                    driver: n.driver,
                    created: Some(n.created.with_timezone(&Utc)),
                    name: n.name,
                    id: n.id,
                    containers,
                    users,
                });
            }
            Ok(rows)
        }
        .boxed()
    }

    fn create_network(&self, spec: NetworkSpec) -> BoxFuture<'static, Result<String, String>> {
        let e = self.clone();
        let req = CreateNetwork {
            name: spec.name,
            subnet: spec.subnet,
            internal: spec.internal,
            ..Default::default()
        };
        async move {
            e.network_create(req)
                .await
                .map(|n| n.id)
                .map_err(|e| e.to_string())
        }
        .boxed()
    }

    fn remove_network(&self, name: String) -> BoxFuture<'static, Result<(), String>> {
        let e = self.clone();
        async move {
            e.network_remove(name)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        .boxed()
    }
}
