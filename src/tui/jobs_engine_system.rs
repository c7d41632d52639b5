//! [`SystemBackend`] over the real engine.

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::engine::Engine;
use crate::tui::disk_usage::{Usage, UsageRow};
use crate::tui::format::size;
use crate::tui::jobs_system::SystemBackend;

impl SystemBackend for Engine {
    fn disk_usage(&self) -> BoxFuture<'static, Result<Vec<UsageRow>, String>> {
        let e = self.clone();
        async move {
            let du = e.system_df().await.map_err(|e| e.to_string())?;
            let row = UsageRow::new;
            Ok(vec![
                row(
                    Usage::Images,
                    du.images.len(),
                    du.images.iter().filter(|i| i.containers > 0).count(),
                    du.images_size,
                    du.images_reclaimable,
                ),
                row(
                    Usage::Containers,
                    du.containers.len(),
                    du.containers.iter().filter(|c| c.running).count(),
                    du.containers_size(),
                    du.containers_reclaimable(),
                ),
                row(
                    Usage::Volumes,
                    du.volumes.len(),
                    du.volumes.iter().filter(|v| v.links > 0).count(),
                    du.volumes_size(),
                    du.volumes_reclaimable(),
                ),
                row(
                    Usage::BuildCache,
                    du.build_cache_entries,
                    0,
                    du.build_cache,
                    du.build_cache,
                ),
            ])
        }
        .boxed()
    }

    fn prune_build_cache(&self) -> BoxFuture<'static, Result<String, String>> {
        let e = self.clone();
        async move {
            let r = e.build_cache_prune().await.map_err(|e| e.to_string())?;
            Ok(format!(
                "removed {} build cache entr{}, {}",
                r.entries,
                if r.entries == 1 { "y" } else { "ies" },
                size(r.reclaimed)
            ))
        }
        .boxed()
    }
}
