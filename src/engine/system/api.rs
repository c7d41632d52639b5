//! `system df` and `system prune` as async `Engine` methods (for the CLI and the TUI): the work
//! runs on tokio's blocking pool.

use super::{DiskUsage, SystemPrune, SystemPruneReport};
use crate::engine::error::Result;
use crate::engine::{blocking, Engine};

impl Engine {
    /// `system df`: what images, containers, volumes and the build cache hold on disk.
    pub async fn system_df(&self) -> Result<DiskUsage> {
        blocking(self, |e| e.disk_usage()).await
    }

    /// `system prune`: stopped containers, unused networks, dangling (or, with `all_images`,
    /// unused) images, the build cache and, with `volumes`, unused anonymous volumes.
    pub async fn system_prune(&self, opts: SystemPrune) -> Result<SystemPruneReport> {
        blocking(self, move |e| e.prune_system(opts)).await
    }
}
