//! The engine's network API (`impl Engine`): async, each call on tokio's blocking pool; the
//! work is in [`super::ops`].

use super::ops::{self, CreateNetwork};
use super::ports::Published;
use super::record::{EndpointConfig, NetworkRecord};
use super::store::NetworkStore;
use crate::engine::compat::network::NetworkInspect;
use crate::engine::container as ct;
use crate::engine::error::Result;
use crate::engine::{blocking, Engine};

pub use ops::ensure_default;

/// `network inspect` of one network, with the containers running on it.
pub fn inspect(engine: &Engine, reference: &str) -> Result<NetworkInspect> {
    // Only `bridge` may need making first: looking for anything else never writes.
    let net = match engine
        .state()
        .read(|tx| NetworkStore::of(tx).find(reference))
    {
        Err(crate::engine::EngineError::NotFound(_)) if reference == super::DEFAULT_BRIDGE => {
            engine.state().write(ensure_default)?
        }
        other => other?,
    };
    let eps = engine
        .state()
        .read(|tx| NetworkStore::of(tx).endpoints_on(&net.id))?;
    let mut on = Vec::new();
    for e in eps {
        let name = ct::store::load(engine.state(), &e.container_id)
            .map(|c| c.name)
            .unwrap_or_default();
        on.push((e, name));
    }
    Ok(NetworkInspect::new(&net, &on))
}

impl Engine {
    /// `ps`'s PORTS cell of container `rec` (what it publishes while it runs).
    pub fn ports_column(&self, rec: &ct::ContainerRecord) -> String {
        let running = matches!(rec.state.status, ct::Status::Running | ct::Status::Paused);
        let published = if running {
            self.state()
                .read(|tx| NetworkStore::of(tx).ports_of(&rec.id))
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        crate::engine::compat::network::ports_column(rec, &published)
    }

    /// Each container with its PORTS cell (for the TUI's list).
    pub async fn with_ports_columns(
        &self,
        recs: Vec<ct::ContainerRecord>,
    ) -> Result<Vec<(ct::ContainerRecord, String)>> {
        blocking(self, move |e| {
            Ok(recs
                .into_iter()
                .map(|r| {
                    let p = e.ports_column(&r);
                    (r, p)
                })
                .collect())
        })
        .await
    }

    /// `network create`.
    pub async fn network_create(&self, req: CreateNetwork) -> Result<NetworkRecord> {
        blocking(self, move |e| ops::create(e, &req)).await
    }

    /// Every network, by name.
    pub async fn networks(&self) -> Result<Vec<NetworkRecord>> {
        blocking(self, ops::list).await
    }

    /// `network inspect` of a network by name, id or unique id prefix.
    pub async fn network_inspect(&self, reference: String) -> Result<NetworkInspect> {
        blocking(self, move |e| inspect(e, &reference)).await
    }

    /// `network rm`; returns the name removed.
    pub async fn network_remove(&self, reference: String) -> Result<String> {
        blocking(self, move |e| ops::remove(e, &reference)).await
    }

    /// `network prune`; returns the names removed.
    pub async fn network_prune(&self) -> Result<Vec<String>> {
        blocking(self, ops::prune).await
    }

    /// `network connect [--alias] [--ip] NET CONTAINER`.
    pub async fn network_connect(
        &self,
        network: String,
        container: String,
        cfg: EndpointConfig,
    ) -> Result<()> {
        blocking(self, move |e| ops::connect(e, &network, &container, cfg)).await
    }

    /// `network disconnect NET CONTAINER`.
    pub async fn network_disconnect(&self, network: String, container: String) -> Result<()> {
        blocking(self, move |e| ops::disconnect(e, &network, &container)).await
    }

    /// `port CONTAINER`: what a running container publishes.
    pub async fn container_ports(&self, reference: String) -> Result<Vec<Published>> {
        blocking(self, move |e| ops::ports(e, &reference)).await
    }
}
