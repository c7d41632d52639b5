//! `berth cp` (and `container cp`): files between a container and the host, docker's rules.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::Cli;
use crate::engine::container::cp::{CopyOptions, HostSide};
use crate::engine::EngineError;

/// `berth cp`.
#[derive(Debug, Clone, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short, long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// CONTAINER:SRC_PATH or SRC_PATH|-
    pub src: String,
    /// DEST_PATH|- or CONTAINER:DEST_PATH
    pub dest: String,
}

/// `CONTAINER:PATH` → (container, path); a local path (absolute, `.`-relative, or with a `/`
/// before any `:`) is not a container reference, as in docker.
fn split(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    let (c, p) = arg.split_once(':')?;
    (!c.is_empty() && !c.contains('/')).then_some((c, p))
}

/// Runs `cp`.
pub async fn cp(cli: &Cli, a: &CpArgs) -> anyhow::Result<i32> {
    let opts = CopyOptions {
        archive: a.archive,
        follow: a.follow_link,
    };
    let engine = cli.engine()?;
    match (split(&a.src), split(&a.dest)) {
        (Some(_), Some(_)) => Err(EngineError::InvalidInput(
            "copying between containers is not supported".into(),
        )
        .into()),
        (None, None) => Err(EngineError::InvalidInput(
            "must specify at least one container source: CONTAINER:PATH".into(),
        )
        .into()),
        (Some((c, p)), None) => {
            let dest = if a.dest == "-" {
                if std::io::stdout().is_terminal() {
                    return Err(EngineError::InvalidInput(
                        "cowardly refusing to write a tar stream to a terminal: redirect it".into(),
                    )
                    .into());
                }
                HostSide::Writer(Box::new(std::io::stdout()))
            } else {
                HostSide::Path(PathBuf::from(&a.dest))
            };
            let (c, p) = (c.to_string(), p.to_string());
            engine.container_copy_out(c, p, dest, opts).await?;
            Ok(0)
        }
        (None, Some((c, p))) => {
            let src = if a.src == "-" {
                HostSide::Reader(Box::new(std::io::stdin()))
            } else {
                HostSide::Path(PathBuf::from(&a.src))
            };
            let (c, p) = (c.to_string(), p.to_string());
            engine.container_copy_in(src, c, p, opts).await?;
            Ok(0)
        }
    }
}
