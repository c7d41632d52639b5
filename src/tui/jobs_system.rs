//! The system part of the job runner: disk usage (`system df`) and the build cache's prune,
//! as a part of [`super::jobs::Backend`].

use futures::future::BoxFuture;

use super::disk_usage::UsageRow;
use super::jobs::Jobs;
use super::jobs_net::unsupported;
use super::msg::{Cmd, Output};

/// Engine operations of the system df view. The defaults refuse (a fake backend needs none).
pub trait SystemBackend: Send + Sync + 'static {
    fn disk_usage(&self) -> BoxFuture<'static, Result<Vec<UsageRow>, String>> {
        unsupported()
    }
    fn prune_build_cache(&self) -> BoxFuture<'static, Result<String, String>> {
        unsupported()
    }
}

/// Runs a system command; gives `cmd` back when it is not one.
pub(super) fn run(jobs: &mut Jobs, cmd: Cmd) -> Option<Cmd> {
    let b = jobs.backend();
    match cmd {
        Cmd::LoadDiskUsage(job) => {
            jobs.spawn_job(job, async move { Output::DiskUsage(b.disk_usage().await) })
        }
        Cmd::PruneBuildCache(job) => jobs.spawn_job(job, async move {
            Output::Done(
                b.prune_build_cache()
                    .await
                    .map_err(|e| format!("cannot prune the build cache: {e}")),
            )
        }),
        other => return Some(other),
    }
    None
}
