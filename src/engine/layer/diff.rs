//! Layer diff: what a container's upper directory adds, changes and deletes relative to its
//! image's layers, as `docker diff` lists it (`A`, `C`, `D`), and the paths a container's runtime
//! creates that belong to no layer.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::merged;
use super::tree::{self, NodeKind};
use crate::engine::error::Result;

/// Paths the runtime mounts over in every container (`/proc`, `/sys`, `/dev` and the bind-mounted
/// `/etc` files): an empty mount point the runtime made for them is not the container's change,
/// and whatever is below them lives in the mounted filesystem, not the container's layer. Left
/// out of `diff` and `commit`, as docker's init layer hides them. A container of an image gets
/// them from its image's init layer (`init_layer`) and its layer holds none; those of `--rootfs`,
/// of an image whose `/etc` is a symlink, and those created before init layers existed still
/// have the runtime's.
pub const RUNTIME_PATHS: [&[u8]; 6] = [
    b"proc",
    b"sys",
    b"dev",
    b"etc/hosts",
    b"etc/hostname",
    b"etc/resolv.conf",
];

/// Whether `path` (relative) is one of [`RUNTIME_PATHS`].
pub fn is_runtime_path(path: &[u8]) -> bool {
    RUNTIME_PATHS.contains(&path)
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `/etc/passwd`.
    #[serde(rename = "Path")]
    pub path: String,
    /// 0 changed, 1 added, 2 deleted (docker's `Kind`).
    #[serde(rename = "Kind")]
    pub kind: u8,
}

impl Change {
    /// `C`, `A` or `D`.
    pub fn letter(&self) -> char {
        match self.kind {
            1 => 'A',
            2 => 'D',
            _ => 'C',
        }
    }
}

/// The changes `upper` makes over `lowers` (unpacked layers, top first), in path order.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    tree::walk(upper, &is_runtime_path, &mut |node| {
        let mut path = String::from("/");
        path.push_str(&String::from_utf8_lossy(&node.path));
        let kind = match node.kind {
            NodeKind::Whiteout => 2,
            _ if exists_below(lowers, &node.path) => 0,
            _ => 1,
        };
        out.push(Change { path, kind });
        Ok(())
    })?;
    Ok(out)
}

/// Whether `rel` exists in the stack of `lowers` (top first), honouring whiteouts and opaque
/// directories (see [`merged::lookup`]). The layers are the engine's own unpacked trees.
pub fn exists_below(lowers: &[PathBuf], rel: &[u8]) -> bool {
    merged::lookup(lowers, rel) != merged::Merged::Absent
}
