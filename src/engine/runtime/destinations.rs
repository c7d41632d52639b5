//! Mount destinations resolved inside the container's rootfs before the runtime sees them.
//!
//! An image may make `/etc/resolv.conf` a symlink (`-> ../run/systemd/resolve/stub-resolv.conf`),
//! `/etc/hosts` a dangling one, or a `-v`/`--tmpfs` destination lie below a symlinked directory.
//! Docker (runc's securejoin) resolves such destinations inside the rootfs and mounts on the
//! target; we do the same with [`inroot::canonical`], so the runtime only ever sees paths without
//! symlinks, and then apply the `/proc` and `/sys` rule ([`kernel_fs`]) to where each mount really
//! lands.
//!
//! libcontainer creates `/dev/null`, `/dev/ptmx`, `/dev/fd`… through plain host paths
//! (`ROOTFS/dev/…`), which follow a symlinked `/dev` on the host: such an image runs only when
//! its `/dev` leads to the same place on the host as inside the rootfs (a relative symlink that
//! stays inside it), and is refused otherwise.

use std::path::Path;

use oci_spec::runtime::Spec;

use crate::engine::error::{EngineError, Result};
use crate::engine::inroot;
use crate::engine::mounts::kernel_fs;

/// Rewrites every mount destination of `spec` to its in-root target in `rootfs` (the mounted
/// overlay) and refuses mounts that land on `/proc` or `/sys` with the wrong type. The last
/// `user_mounts` mounts of the spec are the user's (`-v`, `--mount`, `--tmpfs`, image volumes)
/// and get that check; the runtime's own mounts before them (procfs, sysfs, the cgroup view of
/// `runtime::cgroupfs`) are made by berth and only resolved.
pub fn resolve(spec: &mut Spec, rootfs: &Path, user_mounts: usize) -> Result<()> {
    let proc_at = inroot::canonical(rootfs, "/proc")?;
    let sys_at = inroot::canonical(rootfs, "/sys")?;
    for (name, at) in [("/proc", &proc_at), ("/sys", &sys_at)] {
        if at == "/" {
            return Err(refused(name, "the container's root"));
        }
    }
    check_dev(rootfs)?;
    let Some(mut mounts) = spec.mounts().clone() else {
        return Ok(());
    };
    let own = mounts.len().saturating_sub(user_mounts);
    for (i, m) in mounts.iter_mut().enumerate() {
        let dest = m.destination().to_string_lossy().into_owned();
        let resolved = inroot::canonical(rootfs, &dest)?;
        if resolved == "/" {
            return Err(EngineError::InvalidInput(format!(
                "cannot mount on {dest}: in the image it leads to the container's root `/`; \
                 choose another destination"
            )));
        }
        let kind = m.typ().clone().unwrap_or_default();
        let kind = if kind == "bind" || m.options().iter().flatten().any(|o| o.ends_with("bind")) {
            "bind".to_string()
        } else {
            kind
        };
        let checked = if i < own {
            Ok(())
        } else {
            kernel_fs::check(&kind, &resolved, &proc_at, &sys_at)
        };
        checked.map_err(|why| {
            if resolved == dest {
                EngineError::InvalidInput(why)
            } else {
                EngineError::InvalidInput(format!("{dest} leads to {resolved} in the image: {why}"))
            }
        })?;
        // A bind of a path inside the rootfs (the read-only seal of the cgroup view) takes its
        // source resolved inside the rootfs too, never through the image's symlinks on the host.
        if let Some(inner) = m
            .source()
            .as_ref()
            .and_then(|s| s.strip_prefix(rootfs).ok())
        {
            let inner = format!("/{}", inner.to_string_lossy());
            let source = inroot::canonical(rootfs, &inner)?;
            m.set_source(Some(rootfs.join(source.trim_start_matches('/'))));
        }
        m.set_destination(resolved.into());
    }
    spec.set_mounts(Some(mounts));
    Ok(())
}

fn refused(name: &str, target: &str) -> EngineError {
    EngineError::InvalidInput(format!(
        "the image's {name} is a symlink to {target}: make {name} a directory in the image"
    ))
}

/// Refuses a `/dev` whose host-side resolution differs from its in-root one (see the module).
fn check_dev(rootfs: &Path) -> Result<()> {
    let in_root = inroot::canonical(rootfs, "/dev")?;
    if in_root == "/dev" {
        return Ok(());
    }
    if in_root == "/" {
        return Err(refused("/dev", "the container's root"));
    }
    let expected = rootfs
        .canonicalize()
        .map(|r| r.join(in_root.trim_start_matches('/')));
    // Make a missing target first, as the runtime would, so that both resolutions can be
    // compared; `in_root` has no symlink left in it, so this stays inside the rootfs.
    let target = rootfs.join(in_root.trim_start_matches('/'));
    if !target.exists() {
        std::fs::create_dir_all(&target)
            .map_err(|e| EngineError::io_path("cannot create", &target, e))?;
    }
    let on_host = rootfs.join("dev").canonicalize();
    match (expected, on_host) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        _ => Err(EngineError::InvalidInput(format!(
            "the image's /dev is a symlink to {in_root} that leads out of the container's \
             filesystem when it is prepared: make /dev a directory in the image, or a relative \
             symlink that stays inside it"
        ))),
    }
}
