//! What a path is in the merged view of a stack of unpacked layers (top first), resolved as
//! overlayfs resolves it: a whiteout (character device 0:0) hides the path in the layers below;
//! an opaque directory (`trusted.overlay.opaque=y`) hides the directories of the same path below
//! it; a non-directory below a directory ends that directory's stack. The layers are looked at
//! one component at a time with `symlink_metadata`, descending only into real directories, so a
//! symlink of the image is never followed.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// What a path is in the merged view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merged {
    /// Not there (never added, deleted by a whiteout, hidden by an opaque directory, or below
    /// a non-directory).
    Absent,
    /// A directory.
    Dir,
    /// Anything else: a file, a symlink, a device, a FIFO, a socket.
    Other,
}

fn is_whiteout(md: &std::fs::Metadata) -> bool {
    md.file_type().is_char_device() && md.rdev() == 0
}

fn is_opaque(dir: &Path) -> bool {
    xattr::get(dir, "trusted.overlay.opaque")
        .ok()
        .flatten()
        .is_some_and(|v| v == b"y")
}

/// What `rel` (relative, `/`-separated) is in the merged view of `lowers` (top first).
pub fn lookup(lowers: &[PathBuf], rel: &[u8]) -> Merged {
    top(lowers, rel).0
}

/// [`lookup`], with the entry of the topmost layer that has it (whose attributes the merged
/// view shows; for `rel` empty, the top layer itself); `None` when absent.
pub fn top(lowers: &[PathBuf], rel: &[u8]) -> (Merged, Option<PathBuf>) {
    let comps: Vec<&[u8]> = rel
        .split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    // The layers in which the path so far is a directory that takes part in the merged
    // directory, top first.
    let mut stack: Vec<PathBuf> = lowers.to_vec();
    for (i, c) in comps.iter().enumerate() {
        if *c == b".." {
            return (Merged::Absent, None);
        }
        let last = i + 1 == comps.len();
        let mut next = Vec::new();
        for dir in &stack {
            let p = dir.join(OsStr::from_bytes(c));
            let Ok(md) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if is_whiteout(&md) {
                break;
            }
            if !md.is_dir() {
                if next.is_empty() {
                    return if last {
                        (Merged::Other, Some(p))
                    } else {
                        (Merged::Absent, None)
                    };
                }
                break;
            }
            let opaque = is_opaque(&p);
            next.push(p);
            if opaque {
                break;
            }
        }
        if next.is_empty() {
            return (Merged::Absent, None);
        }
        stack = next;
    }
    (Merged::Dir, stack.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::stat::{makedev, mknod, Mode, SFlag};

    fn whiteout(p: &Path) {
        mknod(
            p,
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0),
            makedev(0, 0),
        )
        .unwrap();
    }

    #[test]
    fn overlay_rules_decide_what_a_path_is() {
        let t = tempfile::tempdir().unwrap();
        let (up, mid, base) = (
            t.path().join("up"),
            t.path().join("mid"),
            t.path().join("b"),
        );
        for d in [&up, &mid, &base] {
            std::fs::create_dir(d).unwrap();
        }
        // base: etc/hosts, srv/a, opt/x, var/f (file), link -> /etc (symlink)
        std::fs::create_dir_all(base.join("etc")).unwrap();
        std::fs::write(base.join("etc/hosts"), "").unwrap();
        std::fs::create_dir_all(base.join("srv")).unwrap();
        std::fs::write(base.join("srv/a"), "").unwrap();
        std::fs::create_dir_all(base.join("opt")).unwrap();
        std::fs::write(base.join("opt/x"), "").unwrap();
        std::fs::create_dir_all(base.join("var")).unwrap();
        std::fs::write(base.join("var/f"), "").unwrap();
        std::os::unix::fs::symlink("/etc", base.join("link")).unwrap();
        // mid: etc/hosts whited out, srv opaque, opt a file (ends opt's stack)
        std::fs::create_dir(mid.join("etc")).unwrap();
        whiteout(&mid.join("etc/hosts"));
        std::fs::create_dir(mid.join("srv")).unwrap();
        if xattr::set(mid.join("srv"), "trusted.overlay.opaque", b"y").is_err() {
            return; // no trusted xattrs here (not root): nothing to check
        }
        std::fs::write(mid.join("opt"), "").unwrap();
        // top: opt a directory again, var a whiteout
        std::fs::create_dir(up.join("opt")).unwrap();
        whiteout(&up.join("var"));
        let lowers = [up, mid, base];
        let at = |p: &str| lookup(&lowers, p.as_bytes());
        assert_eq!(at(""), Merged::Dir);
        assert_eq!(at("etc"), Merged::Dir);
        assert_eq!(at("etc/hosts"), Merged::Absent, "whiteout");
        assert_eq!(at("srv"), Merged::Dir);
        assert_eq!(at("srv/a"), Merged::Absent, "opaque");
        assert_eq!(at("opt"), Merged::Dir);
        assert_eq!(
            at("opt/x"),
            Merged::Absent,
            "below a file of a middle layer"
        );
        assert_eq!(at("var"), Merged::Absent);
        assert_eq!(at("var/f"), Merged::Absent);
        assert_eq!(at("link"), Merged::Other);
        assert_eq!(
            at("link/hosts"),
            Merged::Absent,
            "a symlink is not followed"
        );
        assert_eq!(at("nothing"), Merged::Absent);
        assert_eq!(at("etc/../etc"), Merged::Absent);
        assert_eq!(top(&lowers, b"etc").1, Some(lowers[1].join("etc")));
        assert_eq!(top(&lowers, b"opt").1, Some(lowers[0].join("opt")));
        assert_eq!(top(&lowers, b"link").1, Some(lowers[2].join("link")));
        assert_eq!(top(&lowers, b"var").1, None);
    }
}
