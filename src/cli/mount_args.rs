//! The mount flags shared by `create` and `run` (`-v`, `--mount`, `--tmpfs`, `--volumes-from`).

use clap::Args;

/// The mount flags of `create` and `run`; flatten into their arguments and pass
/// [`MountArgs::options`] to [`crate::engine::mounts::parse`].
#[derive(Debug, Clone, Default, Args)]
pub struct MountArgs {
    /// Bind mount or volume: [NAME|/HOST/PATH:]/CONTAINER/PATH[:ro|rw|nocopy|z|rshared…]
    #[arg(short = 'v', long = "volume", value_name = "SPEC")]
    pub volumes: Vec<String>,
    /// Mount: type=volume|bind|tmpfs,src=…,dst=…[,readonly][,volume-nocopy][,tmpfs-size=…]
    #[arg(long = "mount", value_name = "SPEC")]
    pub mounts: Vec<String>,
    /// Mount a tmpfs: /CONTAINER/PATH[:size=64m,mode=1777,…]
    #[arg(long = "tmpfs", value_name = "SPEC")]
    pub tmpfs: Vec<String>,
    /// Mount the volumes of another container: CONTAINER[:ro|rw]
    #[arg(long = "volumes-from", value_name = "CONTAINER")]
    pub volumes_from: Vec<String>,
}

impl MountArgs {
    /// The flags as the engine takes them.
    pub fn options(&self) -> crate::engine::mounts::MountOptions {
        crate::engine::mounts::MountOptions {
            volumes: self.volumes.clone(),
            mounts: self.mounts.clone(),
            tmpfs: self.tmpfs.clone(),
            volumes_from: self.volumes_from.clone(),
        }
    }
}
