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
            // One read for every network and its containers (no inspect per network).
            let all = e.network_summaries().await.map_err(|e| e.to_string())?;
            Ok(all
                .into_iter()
                .map(|s| {
                    let n = s.network;
                    NetworkRow {
                        subnet: n.subnet.to_string(),
                        gateway: n.gateway.to_string(),
                        internal: n.internal,
                        driver: n.driver,
                        created: Some(n.created.with_timezone(&Utc)),
                        name: n.name,
                        id: n.id,
                        containers: s.attached,
                        users: s.users,
                    }
                })
                .collect())
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
