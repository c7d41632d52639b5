//! The init layer of an image: the runtime's mount points its layers lack (`/proc`, `/dev`,
//! `/sys`, `/etc` and the files berth bind-mounts at `/etc/hostname`, `/etc/hosts` and
//! `/etc/resolv.conf`), made once per top layer as `layers/<top chain hex>-init` and put above
//! the image's layers in every container created from it. Without it, the runtime creates those
//! mount points in each container's fresh upper directory at every start, and the `--rm` that
//! follows deletes them again: on ext4 without a journal an inode creation soon after a churn of
//! deletes costs a millisecond or two. Docker makes such a layer (`<id>-init`) per container;
//! its content depends only on the image's layers, so berth shares one per top layer.
//!
//! Nothing is written over what the image has: a path is added only when the merged view of the
//! layers lacks it (whiteouts and opaque directories honoured, `merged::lookup`), and nothing
//! goes below an `/etc` that is a symlink or a file (the runtime deals with those as before).
//! The layer is staged in `tmp/` and renamed into place without replacing; two makers at once
//! each stage one and the second rename loses harmlessly. It is never synced: a layer a crash
//! left short only makes the runtime create what it lacks, as without it. Image gc removes it
//! with its top layer.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::merged::{lookup, top, Merged};
use crate::engine::error::{IoContext, Result};
use crate::engine::layout::Layout;
use crate::engine::staging::StagedDir;

/// Appended to the top layer's directory name.
pub const SUFFIX: &str = "-init";

/// What a mount point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A directory, mode 0755.
    Dir,
    /// An empty file, mode 0644.
    File,
}

/// One entry of an init layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A mount point the image lacks.
    New(&'static str, Kind),
    /// The image's directory `.0` that holds a new mount point, made with the mode, owner and
    /// times of the image's `.1` (the merged view shows the init layer's, the topmost).
    Parent(&'static str, PathBuf),
}

impl Entry {
    /// The entry's relative path.
    pub fn path(&self) -> &'static str {
        match self {
            Entry::New(p, _) | Entry::Parent(p, _) => p,
        }
    }
}

/// The mount points every container's runtime needs in the rootfs, parents before children.
/// `/dev`'s children live in the tmpfs mounted there, `/proc`'s and `/sys`'s in their own file
/// systems: none of them is ever created in the container's layer.
pub const MOUNT_POINTS: [(&str, Kind); 7] = [
    ("proc", Kind::Dir),
    ("dev", Kind::Dir),
    ("sys", Kind::Dir),
    ("etc", Kind::Dir),
    ("etc/hostname", Kind::File),
    ("etc/hosts", Kind::File),
    ("etc/resolv.conf", Kind::File),
];

/// What the init layer of `lowers` (top first) holds, parents first: the mount points their
/// merged view lacks whose parent is a directory there or in the init layer, and the image's
/// directories that hold them.
pub fn plan(lowers: &[PathBuf]) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for (path, kind) in MOUNT_POINTS {
        if lookup(lowers, path.as_bytes()) != Merged::Absent {
            continue;
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            if !out.iter().any(|e| e.path() == parent) {
                match top(lowers, parent.as_bytes()) {
                    (Merged::Dir, Some(like)) => out.push(Entry::Parent(parent, like)),
                    _ => continue,
                }
            }
        }
        out.push(Entry::New(path, kind));
    }
    out
}

/// The init layer of the image whose top layer has chain id `top_chain` and whose unpacked
/// layers are `lowers` (top first), made now if it is not there yet. `None` when the image
/// lacks none of the mount points, or when one of its layers is missing (the container's
/// create then reports that). Blocking; the caller holds the gc lock shared.
pub fn ensure(layout: &Layout, top_chain: &str, lowers: &[PathBuf]) -> Result<Option<PathBuf>> {
    let dest = layout.init_layer_dir(top_chain)?;
    if dest.is_dir() {
        return Ok(Some(dest));
    }
    if lowers.is_empty() || !lowers.iter().all(|l| l.is_dir()) {
        return Ok(None);
    }
    let plan = plan(lowers);
    if plan.is_empty() {
        return Ok(None);
    }
    let staged = StagedDir::create(layout, "init")?;
    std::fs::set_permissions(staged.path(), std::fs::Permissions::from_mode(0o755))
        .ctx("cannot set the mode of", staged.path())?;
    for entry in &plan {
        let path = staged.path().join(entry.path());
        match entry {
            Entry::New(_, kind) => make(&path, *kind)?,
            Entry::Parent(_, like) => make_like(&path, like)?,
        }
    }
    // Times last: creating the children changed their parents'.
    for entry in &plan {
        if let Entry::Parent(p, like) = entry {
            times_like(&staged.path().join(p), like)?;
        }
    }
    // A concurrent maker that renamed first made the same content.
    staged.commit_new(&dest)?;
    Ok(Some(dest))
}

/// Creates one mount point with its mode (the caller's umask does not apply).
fn make(path: &Path, kind: Kind) -> Result<()> {
    let mode = std::fs::Permissions::from_mode(match kind {
        Kind::Dir => 0o755,
        Kind::File => 0o644,
    });
    match kind {
        Kind::Dir => {
            std::fs::DirBuilder::new()
                .mode(0o755)
                .create(path)
                .ctx("cannot create", path)?;
            std::fs::set_permissions(path, mode)
        }
        Kind::File => std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .ctx("cannot create", path)?
            .set_permissions(mode),
    }
    .ctx("cannot set the mode of", path)
}

/// Creates a directory with the mode and owner of the image's directory `like`.
fn make_like(path: &Path, like: &Path) -> Result<()> {
    let md = std::fs::symlink_metadata(like).ctx("cannot read", like)?;
    make(path, Kind::Dir)?;
    std::os::unix::fs::lchown(path, Some(md.uid()), Some(md.gid())).ctx("cannot chown", path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(md.mode() & 0o7777))
        .ctx("cannot set the mode of", path)
}

/// Gives the directory `path` the access and modification times of `like`.
fn times_like(path: &Path, like: &Path) -> Result<()> {
    let md = std::fs::symlink_metadata(like).ctx("cannot read", like)?;
    let times = std::fs::FileTimes::new()
        .set_accessed(md.accessed().ctx("cannot read", like)?)
        .set_modified(md.modified().ctx("cannot read", like)?);
    std::fs::File::open(path)
        .and_then(|d| d.set_times(times))
        .ctx("cannot set the times of", path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::layer::diff::RUNTIME_PATHS;

    #[test]
    fn every_path_diff_leaves_out_is_a_mount_point_here() {
        for p in RUNTIME_PATHS {
            let p = std::str::from_utf8(p).unwrap();
            assert!(MOUNT_POINTS.iter().any(|(m, _)| *m == p), "{p}");
        }
    }

    fn layer(root: &Path, name: &str) -> PathBuf {
        let d = root.join(name);
        std::fs::create_dir(&d).unwrap();
        d
    }

    #[test]
    fn the_plan_holds_only_what_the_image_lacks() {
        let t = tempfile::tempdir().unwrap();
        let base = layer(t.path(), "base");
        let names = |l: &[PathBuf]| plan(l).iter().map(Entry::path).collect::<Vec<_>>();
        assert_eq!(
            names(std::slice::from_ref(&base)),
            MOUNT_POINTS.iter().map(|(p, _)| *p).collect::<Vec<_>>()
        );
        for d in ["proc", "sys", "etc"] {
            std::fs::create_dir(base.join(d)).unwrap();
        }
        std::fs::write(base.join("etc/hostname"), "x\n").unwrap();
        std::os::unix::fs::symlink("/run/resolv.conf", base.join("etc/resolv.conf")).unwrap();
        assert_eq!(
            names(std::slice::from_ref(&base)),
            ["dev", "etc", "etc/hosts"]
        );
        assert_eq!(
            plan(std::slice::from_ref(&base))[1],
            Entry::Parent("etc", base.join("etc"))
        );
        // `/etc` a symlink in a layer above: nothing below it.
        let top = layer(t.path(), "top");
        std::os::unix::fs::symlink("private/etc", top.join("etc")).unwrap();
        std::fs::create_dir(top.join("dev")).unwrap();
        assert!(names(&[top, base]).is_empty());
    }

    #[test]
    fn ensure_makes_the_layer_once_with_its_modes() {
        let t = tempfile::tempdir().unwrap();
        let layout = Layout::new(t.path().join("root"));
        layout.create().unwrap();
        let chain = format!("sha256:{}", "ab".repeat(32));
        let base = layout.layer_dir(&chain).unwrap();
        std::fs::create_dir_all(base.join("etc")).unwrap();
        std::fs::create_dir(base.join("proc")).unwrap();
        // The image's /etc: its mode, owner and time are what the init layer's /etc shows.
        std::fs::set_permissions(base.join("etc"), std::fs::Permissions::from_mode(0o750)).unwrap();
        std::os::unix::fs::lchown(base.join("etc"), Some(1000), Some(1001)).unwrap();
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        let times = std::fs::FileTimes::new().set_modified(when);
        std::fs::File::open(base.join("etc"))
            .unwrap()
            .set_times(times)
            .unwrap();
        let made = ensure(&layout, &chain, std::slice::from_ref(&base)).unwrap();
        let dir = made.expect("the image lacks mount points");
        assert_eq!(
            dir,
            layout
                .layers_dir()
                .join(format!("{}-init", "ab".repeat(32)))
        );
        let mut names: Vec<String> = Vec::new();
        for e in walkdir(&dir) {
            let md = std::fs::symlink_metadata(dir.join(&e)).unwrap();
            let want = match e.as_str() {
                "etc" => 0o750,
                _ if md.is_dir() => 0o755,
                _ => 0o644,
            };
            assert_eq!(md.permissions().mode() & 0o7777, want, "{e}");
            names.push(e);
        }
        names.sort();
        let etc = std::fs::metadata(dir.join("etc")).unwrap();
        assert_eq!((etc.uid(), etc.gid()), (1000, 1001));
        assert_eq!(etc.modified().unwrap(), when);
        assert_eq!(
            names,
            [
                "dev",
                "etc",
                "etc/hostname",
                "etc/hosts",
                "etc/resolv.conf",
                "sys"
            ]
            .map(String::from)
        );
        // Made once: a second call finds it (a marker would survive), no staging dir is left.
        std::fs::write(dir.join("marker"), "").unwrap();
        let again = ensure(&layout, &chain, std::slice::from_ref(&base)).unwrap();
        assert_eq!(again.as_deref(), Some(dir.as_path()));
        assert!(dir.join("marker").exists());
        assert_eq!(std::fs::read_dir(layout.tmp_dir()).unwrap().count(), 0);
        // A concurrent maker that loses the rename leaves the winner's layer and no staging.
        std::fs::remove_file(dir.join("marker")).unwrap();
        let staged = StagedDir::create(&layout, "init").unwrap();
        assert!(!staged.commit_new(&dir).unwrap());
        assert_eq!(std::fs::read_dir(layout.tmp_dir()).unwrap().count(), 0);
    }

    /// Relative paths of everything under `dir`.
    fn walkdir(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            for e in std::fs::read_dir(dir.join(&rel)).unwrap().flatten() {
                let r = rel.join(e.file_name());
                if e.file_type().unwrap().is_dir() {
                    stack.push(r.clone());
                }
                out.push(r.to_string_lossy().into_owned());
            }
        }
        out
    }
}
