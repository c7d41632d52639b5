//! Resolving a container's `--user` / image `User` (`name`, `uid`, `name:group`, `uid:gid`) through
//! the image's own `/etc/passwd` and `/etc/group`, as Docker does.

use std::path::Path;

use super::error::{EngineError, Result};
use super::inroot;

/// The identity a container process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups (the groups in `/etc/group` that list the user).
    pub additional_gids: Vec<u32>,
    /// Home directory from `/etc/passwd` (`/` when the user has no entry).
    pub home: String,
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

/// The largest passwd or group file read (the monitor must not allocate without bound).
const MAX_DB_FILE: u64 = 8 << 20;

/// Reads `path` of the rootfs at `root` in the root (symlinks never lead to the host), a regular
/// file only; a missing file reads as empty.
fn read_optional(root: &Path, path: &str) -> Result<String> {
    let bytes = inroot::read_file(root, path, MAX_DB_FILE)?.unwrap_or_default();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 6 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_string(),
            })
        })
        .collect()
}

fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 3 {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// The gids of `--group-add` entries: numbers as they are, names through `rootfs`'s
/// `/etc/group`.
pub fn resolve_groups(rootfs: &Path, names: &[String]) -> Result<Vec<u32>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let groups = parse_group(&read_optional(rootfs, "/etc/group")?);
    names
        .iter()
        .map(|n| match n.parse::<u32>() {
            Ok(gid) => Ok(gid),
            Err(_) => groups
                .iter()
                .find(|g| g.name == *n)
                .map(|g| g.gid)
                .ok_or_else(|| {
                    EngineError::InvalidInput(format!(
                        "unable to find group {n}: no matching entries in group file; \
                     give --group-add a group of the image or a number"
                    ))
                }),
        })
        .collect()
}

/// Resolves `spec` (empty = root) against the passwd and group files of `rootfs`.
///
/// A numeric uid without a passwd entry is allowed (gid then defaults to the uid's own, 0 when
/// unknown, like Docker); a name that is not in the image's passwd file is an error.
pub fn resolve(rootfs: &Path, spec: &str) -> Result<ResolvedUser> {
    let passwd = parse_passwd(&read_optional(rootfs, "/etc/passwd")?);
    let groups = parse_group(&read_optional(rootfs, "/etc/group")?);
    resolve_in(&passwd, &groups, spec)
}

fn resolve_in(passwd: &[PasswdEntry], groups: &[GroupEntry], spec: &str) -> Result<ResolvedUser> {
    let spec = spec.trim();
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let entry = match user_part.parse::<u32>() {
        Ok(uid) => passwd.iter().find(|p| p.uid == uid),
        Err(_) => Some(passwd.iter().find(|p| p.name == user_part).ok_or_else(|| {
            EngineError::InvalidInput(format!(
                "unable to find user {user_part}: no matching entries in passwd file"
            ))
        })?),
    };
    let uid = match entry {
        Some(e) => e.uid,
        None => user_part.parse::<u32>().unwrap_or(0),
    };
    let mut gid = entry.map(|e| e.gid).unwrap_or(0);
    if let Some(g) = group_part.filter(|g| !g.is_empty()) {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                groups
                    .iter()
                    .find(|e| e.name == g)
                    .ok_or_else(|| {
                        EngineError::InvalidInput(format!(
                            "unable to find group {g}: no matching entries in group file"
                        ))
                    })?
                    .gid
            }
        };
    }
    let mut additional_gids = Vec::new();
    if group_part.is_none() {
        if let Some(e) = entry {
            for g in groups.iter().filter(|g| g.members.contains(&e.name)) {
                if g.gid != gid && !additional_gids.contains(&g.gid) {
                    additional_gids.push(g.gid);
                }
            }
        }
    }
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
        home: entry
            .map(|e| e.home.clone())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "/".to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n\
                          nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:\nstaff:x:50:www,other\naudio:x:29:www\n";

    fn r(spec: &str) -> Result<ResolvedUser> {
        resolve_in(&parse_passwd(PASSWD), &parse_group(GROUP), spec)
    }

    #[test]
    fn resolves_names_ids_and_groups() {
        assert_eq!(r("").unwrap().uid, 0);
        assert_eq!(r("root").unwrap().home, "/root");
        let www = r("www").unwrap();
        assert_eq!((www.uid, www.gid), (33, 33));
        assert_eq!(www.additional_gids, vec![50, 29]);
        assert_eq!(www.home, "/var/www");
        let u = r("33:staff").unwrap();
        assert_eq!((u.uid, u.gid), (33, 50));
        assert!(u.additional_gids.is_empty());
        let unknown = r("1234:99").unwrap();
        assert_eq!(
            (unknown.uid, unknown.gid, unknown.home.as_str()),
            (1234, 99, "/")
        );
    }

    #[test]
    fn unknown_names_are_errors() {
        let e = r("mallory").unwrap_err().to_string();
        assert!(e.contains("unable to find user mallory"), "{e}");
        let e = r("www:nogroup").unwrap_err().to_string();
        assert!(e.contains("unable to find group nogroup"), "{e}");
    }
}
