//! A container's rootfs: an overlayfs mount of the image's unpacked layers (read-only lowers) with
//! a per-container `upper/` and `work/` in `containers/<id>/`, mounted at `merged/`.
//!
//! The mount is made with the container dir as the working directory (`upperdir=upper`), and
//! the lowers are named by their paths when the option string fits in one page and no path holds
//! a character overlay's option parser would split on. Otherwise (an image of many layers, or a
//! root whose path has a `,` or `:`) they are named by short symlinks `l/0`, `l/1`, … made in the
//! container dir at create. Only then: each link is one more inode to create on every `run`.
//! Mounting changes the working directory and so is only done in the single-threaded monitor.

use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::error::{EngineError, IoContext, Result};

/// The rootfs of one container.
#[derive(Debug, Clone)]
pub struct Snapshot {
    dir: PathBuf,
}

impl Snapshot {
    /// The snapshot of the container whose directory is `dir`.
    pub fn new(dir: &Path) -> Snapshot {
        Snapshot {
            dir: dir.to_path_buf(),
        }
    }

    /// The mount point.
    pub fn merged(&self) -> PathBuf {
        self.dir.join("merged")
    }

    /// Creates `upper/`, `work/`, `merged/` and, when the lowers' paths cannot be named in the
    /// mount options, the short lower links (once, at create).
    pub fn prepare(&self, lowers: &[PathBuf]) -> Result<()> {
        if lowers.is_empty() {
            return Err(EngineError::InvalidInput(
                "the image has no layers to run".into(),
            ));
        }
        for lower in lowers {
            if !lower.is_dir() {
                return Err(EngineError::NotFound(format!(
                    "image layer directory {} is missing: pull the image again",
                    lower.display()
                )));
            }
        }
        let links = direct_options(lowers).is_none();
        for d in ["upper", "work", "merged", "l"] {
            if d == "l" && !links {
                continue;
            }
            let p = self.dir.join(d);
            std::fs::create_dir_all(&p).ctx("cannot create", &p)?;
        }
        if !links {
            return Ok(());
        }
        for (i, lower) in lowers.iter().enumerate() {
            let link = self.dir.join("l").join(i.to_string());
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(lower, &link).ctx("cannot create link", &link)?;
        }
        Ok(())
    }

    /// Mounts the overlay at `merged/` (does nothing when already mounted). Changes the working
    /// directory for the duration of the call: single-threaded callers only.
    pub fn mount(&self, lowers: &[PathBuf]) -> Result<()> {
        if self.is_mounted()? {
            return Ok(());
        }
        // `volatile`: no syncing of the upper filesystem, so unmounting does not wait for every
        // dirty page of the host's disk. The kernel leaves a marker that refuses the next mount
        // after a crash; the container's layer is scratch space, so the marker is cleared.
        let marker = self.dir.join("work/work/incompat/volatile");
        if marker.exists() {
            std::fs::remove_dir_all(&marker).ctx("cannot clear", &marker)?;
        }
        let data = direct_options(lowers).unwrap_or_else(|| {
            let links: Vec<String> = (0..lowers.len()).map(|i| format!("l/{i}")).collect();
            options(&links.join(":"))
        });
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        std::env::set_current_dir(&self.dir).ctx("cannot enter", &self.dir)?;
        let r = mount(
            Some("overlay"),
            "merged",
            Some("overlay"),
            MsFlags::empty(),
            Some(data.as_str()),
        );
        let _ = std::env::set_current_dir(&cwd);
        r.map_err(|e| {
            EngineError::io_path(
                "cannot mount the overlay rootfs at",
                &self.merged(),
                std::io::Error::from(e),
            )
        })
    }

    /// Whether `merged/` is a mount point (per `/proc/self/mountinfo`).
    pub fn is_mounted(&self) -> Result<bool> {
        is_mount_point(&self.merged())
    }

    /// Unmounts `merged/` if mounted; a busy mount is detached lazily.
    pub fn unmount(&self) -> Result<()> {
        let merged = self.merged();
        for _ in 0..2 {
            if !self.is_mounted()? {
                return Ok(());
            }
            match umount2(&merged, MntFlags::empty()) {
                Ok(()) => {}
                Err(nix::errno::Errno::EBUSY) => {
                    umount2(&merged, MntFlags::MNT_DETACH)
                        .map_err(|e| EngineError::io_path("cannot unmount", &merged, e.into()))?;
                }
                Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOENT) => return Ok(()),
                Err(e) => return Err(EngineError::io_path("cannot unmount", &merged, e.into())),
            }
        }
        Ok(())
    }
}

/// Overlay's mount options with `lowerdir` (colon-separated, topmost first).
fn options(lowerdir: &str) -> String {
    format!("lowerdir={lowerdir},upperdir=upper,workdir=work,volatile")
}

/// The `lowerdir` entries naming `lowers` in a mount made from the container's directory (as
/// [`Snapshot::mount`] does): their paths when the options can hold them, else the short links
/// `l/0`, `l/1`, … that [`Snapshot::prepare`] made then.
pub fn lower_names(lowers: &[PathBuf]) -> Vec<String> {
    match direct_options(lowers) {
        Some(_) => lowers
            .iter()
            .map(|l| l.to_string_lossy().into_owned())
            .collect(),
        None => (0..lowers.len()).map(|i| format!("l/{i}")).collect(),
    }
}

/// The options naming `lowers` by their paths, when that is possible: every path is valid UTF-8
/// without a character the option parser splits on or unescapes, and the string fits in the page
/// the kernel copies (with its NUL).
fn direct_options(lowers: &[PathBuf]) -> Option<String> {
    let mut paths = Vec::with_capacity(lowers.len());
    for l in lowers {
        let p = l.to_str()?;
        if !p.starts_with('/')
            || p.contains([',', ':', '\\', '='])
            || p.contains(char::is_whitespace)
        {
            return None;
        }
        paths.push(p);
    }
    let data = options(&paths.join(":"));
    (data.len() < 4096).then_some(data)
}

/// Decodes mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `path` is a mount point in this process's mount namespace.
pub fn is_mount_point(path: &Path) -> Result<bool> {
    let info = Path::new("/proc/self/mountinfo");
    let text = std::fs::read_to_string(info).ctx("cannot read", info)?;
    let want = path.to_string_lossy();
    Ok(text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|mp| unescape(mp) == want))
}

/// Every mount point under `dir` (for tests and leak checks).
pub fn mounts_under(dir: &Path) -> Result<Vec<String>> {
    let info = Path::new("/proc/self/mountinfo");
    let text = std::fs::read_to_string(info).ctx("cannot read", info)?;
    let prefix = format!("{}/", dir.to_string_lossy().trim_end_matches('/'));
    Ok(text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape)
        .filter(|mp| mp.starts_with(&prefix))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/plain"), "/plain");
    }

    #[test]
    fn prepare_refuses_missing_layers() {
        let dir = tempfile::tempdir().unwrap();
        let s = Snapshot::new(dir.path());
        let e = s
            .prepare(&[dir.path().join("nope")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("is missing"), "{e}");
        assert!(s.prepare(&[]).is_err());
    }

    #[test]
    fn lowers_are_named_directly_when_they_can_be() {
        let direct = direct_options(&[PathBuf::from("/r/layers/b"), PathBuf::from("/r/layers/a")]);
        assert_eq!(
            direct.as_deref(),
            Some("lowerdir=/r/layers/b:/r/layers/a,upperdir=upper,workdir=work,volatile")
        );
        for odd in [
            "/r,x/layers/a",
            "/r:x/a",
            "/r x/a",
            "/r\\x/a",
            "/r=x/a",
            "rel/a",
        ] {
            assert_eq!(direct_options(&[PathBuf::from(odd)]), None, "{odd}");
        }
        let long: Vec<PathBuf> = (0..60)
            .map(|i| PathBuf::from(format!("/var/lib/berth/layers/{i:064}")))
            .collect();
        assert_eq!(direct_options(&long), None);
    }

    #[test]
    fn links_are_made_only_when_needed() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("layer");
        std::fs::create_dir(&plain).unwrap();
        let c1 = dir.path().join("c1");
        Snapshot::new(&c1)
            .prepare(std::slice::from_ref(&plain))
            .unwrap();
        assert!(!c1.join("l").exists());
        assert!(c1.join("upper").is_dir() && c1.join("work").is_dir());
        let odd = dir.path().join("a,b");
        std::fs::create_dir(&odd).unwrap();
        let c2 = dir.path().join("c2");
        Snapshot::new(&c2).prepare(&[odd.clone(), plain]).unwrap();
        assert_eq!(std::fs::read_link(c2.join("l/0")).unwrap(), odd);
    }
}
