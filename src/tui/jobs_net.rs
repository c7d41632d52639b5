//! The networks' part of the job runner: what the TUI asks of the engine about networks (list
//! with the containers attached, create, remove), as a part of [`super::jobs::Backend`].

use futures::future::BoxFuture;
use futures::FutureExt;

use super::jobs::{done, Jobs};
use super::model::{NetworkRow, NetworkSpec};
use super::msg::{Cmd, Output};

/// Engine operations on networks. The defaults refuse (a fake backend needs none of them).
pub trait NetworkBackend: Send + Sync + 'static {
    fn networks(&self) -> BoxFuture<'static, Result<Vec<NetworkRow>, String>> {
        unsupported()
    }
    fn create_network(&self, spec: NetworkSpec) -> BoxFuture<'static, Result<String, String>> {
        let _ = spec;
        unsupported()
    }
    fn remove_network(&self, name: String) -> BoxFuture<'static, Result<(), String>> {
        let _ = name;
        unsupported()
    }
}

pub(super) fn unsupported<T: Send + 'static>() -> BoxFuture<'static, Result<T, String>> {
    async { Err("not supported by this backend".to_string()) }.boxed()
}

/// Runs a network command; gives `cmd` back when it is not one.
pub(super) fn run(jobs: &mut Jobs, cmd: Cmd) -> Option<Cmd> {
    let b = jobs.backend();
    match cmd {
        Cmd::LoadNetworks(job) => {
            jobs.spawn_job(job, async move { Output::Networks(b.networks().await) })
        }
        Cmd::CreateNetwork { job, spec } => jobs.spawn_job(job, async move {
            let name = spec.name.clone();
            Output::Done(
                b.create_network(spec)
                    .await
                    .map(|id| format!("created network {name} ({})", super::format::short_id(&id)))
                    .map_err(|e| format!("cannot create network {name}: {e}")),
            )
        }),
        Cmd::RemoveNetworks { job, names } => jobs.spawn_job(job, async move {
            let n = names.len();
            let mut errors = Vec::new();
            for name in names {
                if let Err(e) = b.remove_network(name.clone()).await {
                    errors.push(format!("cannot remove network {name}: {e}"));
                }
            }
            done(n, errors, &format!("removed {n} network(s)"))
        }),
        other => return Some(other),
    }
    None
}
