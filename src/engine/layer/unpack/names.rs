//! Entry names: splitting a tar name into safe components and recognising whiteouts.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// The overlayfs opaque-directory marker.
const OPAQUE: &[u8] = b".wh..wh..opq";
/// Prefix of AUFS metadata names (`.wh..wh.plnk`, `.wh..wh.aufs`, `.wh..wh.orph`).
const WH_META: &[u8] = b".wh..wh.";
/// Prefix of a whiteout.
const WH: &[u8] = b".wh.";

/// `a/b/c` for showing a path made of components.
pub(super) fn shown(comps: &[OsString]) -> String {
    let parts: Vec<_> = comps.iter().map(|c| c.to_string_lossy()).collect();
    parts.join("/")
}

/// Splits a tar name into components: leading `/`, empty and `.` parts dropped, `..` resolved
/// lexically. Climbing above the layer root is refused.
pub(super) fn clean(raw: &[u8]) -> std::result::Result<Vec<OsString>, String> {
    if raw.contains(&0) {
        return Err("the name contains a NUL byte".into());
    }
    let mut out: Vec<OsString> = Vec::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if out.pop().is_none() {
                    return Err("the name climbs out of the layer with `..`".into());
                }
            }
            _ => out.push(OsStr::from_bytes(part).to_os_string()),
        }
    }
    Ok(out)
}

/// What an entry's name asks for, whiteouts decided.
pub(super) enum Role<'a> {
    Normal,
    /// `.wh..wh..opq`: the containing directory hides the layers below it.
    Opaque,
    /// `.wh.NAME`: NAME is deleted from the layers below.
    Whiteout(&'a OsStr),
    /// AUFS metadata. The OCI image spec reserves names starting with `.wh.` for whiteouts, so a
    /// `.wh..wh.X` entry would whiteout a name that cannot exist; these are the AUFS driver's
    /// hard-link and bookkeeping directories that old Docker layers carry. Skipping them (as
    /// docker and containerd do) keeps such images pullable and loses nothing.
    Skip,
}

pub(super) fn role(comps: &[OsString]) -> std::result::Result<Role<'_>, String> {
    let Some((last, parents)) = comps.split_last() else {
        return Ok(Role::Normal);
    };
    for p in parents {
        let p = p.as_bytes();
        if p.starts_with(WH_META) {
            return Ok(Role::Skip);
        }
        if p.starts_with(WH) {
            return Err(format!(
                "parent {:?} is a whiteout name, and a whiteout cannot have children",
                String::from_utf8_lossy(p)
            ));
        }
    }
    let l = last.as_bytes();
    if l == OPAQUE {
        Ok(Role::Opaque)
    } else if l.starts_with(WH_META) {
        Ok(Role::Skip)
    } else if let Some(target) = l.strip_prefix(WH) {
        if target.is_empty() || target == b"." || target == b".." {
            return Err(format!(
                "malformed whiteout {:?}: it must name a file in its directory",
                last.to_string_lossy()
            ));
        }
        Ok(Role::Whiteout(OsStr::from_bytes(target)))
    } else {
        Ok(Role::Normal)
    }
}
