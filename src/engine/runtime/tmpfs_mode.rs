//! A `--tmpfs` (or `--mount type=tmpfs`) without `mode=` over a directory of the image keeps that
//! directory's mode, as docker's does (a fresh tmpfs would be 1777, world-writable, where the
//! image had, say, 0750). The directory is looked at inside the rootfs only ([`inroot`]).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use oci_spec::runtime::Spec;

use crate::engine::error::{EngineError, Result};
use crate::engine::inroot;

/// Adds `mode=` of the covered directory to each of the last `user_mounts` mounts of `spec`
/// that is a tmpfs without one. Destinations must be resolved already.
pub fn keep_image_modes(spec: &mut Spec, rootfs: &Path, user_mounts: usize) -> Result<()> {
    let Some(mut mounts) = spec.mounts().clone() else {
        return Ok(());
    };
    let own = mounts.len().saturating_sub(user_mounts);
    for m in mounts.iter_mut().skip(own) {
        if m.typ().as_deref() != Some("tmpfs") {
            continue;
        }
        let mut options = m.options().clone().unwrap_or_default();
        if options.iter().any(|o| o.starts_with("mode=")) {
            continue;
        }
        let dest = m.destination().to_string_lossy().into_owned();
        let dir = match inroot::open(rootfs, &dest, libc::O_PATH | libc::O_DIRECTORY) {
            Ok(d) => d,
            // Not there (created for the mount) or not a directory (the runtime refuses it).
            Err(_) => continue,
        };
        let meta = dir.metadata().map_err(|e| {
            EngineError::io(
                format!("cannot read the mode of {dest} in the container"),
                e,
            )
        })?;
        options.push(format!("mode={:o}", meta.mode() & 0o7777));
        m.set_options(Some(options));
    }
    spec.set_mounts(Some(mounts));
    Ok(())
}
