//! Directory descriptors for extraction: the safe walk (one component at a time, never following
//! a symlink) and a cache of the directories on the previous entry's path, so that entries of one
//! directory, which tars list together, are created without opening their parents again.
//!
//! Why the cache is safe: it holds the descriptors of exactly the parents of the last entry
//! (a prefix of them past [`MAX_CACHED`] levels), each reached by the safe walk. An entry only
//! ever removes or replaces its own last component, after the cache was cut to that entry's
//! parents, so no cached directory is ever removed or replaced while it is cached; and a path
//! that leaves the cached prefix is walked again from the deepest shared directory.
//!
//! The cache also knows what a new child of each directory gets by itself (its group, whether
//! its mode may differ from the one asked for), so metadata calls that would change nothing are
//! left out (see [`Creator`]).

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use nix::errno::Errno;
use nix::sys::stat::{fchmod, fstat, Mode, SFlag};

use super::fsops::{self, kind, lstat_at};
use super::names::shown;
use super::{refuse, sys};
use crate::engine::error::Result;

/// Directory levels kept open at most (deeper paths are walked from the deepest kept one).
const MAX_CACHED: usize = 64;
/// The xattr holding a directory's default ACL, which decides the mode of what is created in it.
const DEFAULT_ACL: &[u8] = b"system.posix_acl_default";

/// Who creates entries and with which umask: what a new file's owner and mode are before any
/// metadata call.
#[derive(Debug, Clone, Copy)]
pub(super) struct Creator {
    pub(super) euid: u32,
    pub(super) egid: u32,
    /// The process umask, or 0o7777 when it cannot be read (every mode is then set explicitly).
    pub(super) umask: u32,
}

impl Creator {
    pub(super) fn current() -> Creator {
        Creator {
            euid: nix::unistd::geteuid().as_raw(),
            egid: nix::unistd::getegid().as_raw(),
            umask: read_umask().unwrap_or(0o7777),
        }
    }
}

/// The `Umask:` line of /proc/self/status (reading the umask with umask(2) would change it for
/// every thread of the process for a moment).
fn read_umask() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Umask:"))?;
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
}

/// What a new entry created in a directory gets without being told.
#[derive(Debug, Clone, Copy)]
pub(super) struct Inherit {
    /// The group of a new entry (the directory's own when it is setgid).
    pub(super) gid: u32,
    /// Whether a new entry's mode is exactly the one asked for less the umask: false when the
    /// directory is setgid (new directories inherit the bit) or has a default ACL, or unknown.
    pub(super) plain_mode: bool,
}

impl Inherit {
    /// Of a directory we know nothing about: looked up with fstat and its default ACL.
    fn probe(fd: RawFd, creator: &Creator) -> nix::Result<Inherit> {
        let st = fstat(fd)?;
        let setgid = st.st_mode & libc::S_ISGID != 0;
        let acl = has_xattr(fd, DEFAULT_ACL);
        Ok(Inherit {
            gid: if setgid { st.st_gid } else { creator.egid },
            plain_mode: !setgid && !acl,
        })
    }

    /// Of a directory this extraction just made and gave group `gid`, `mode` and `xattrs`.
    pub(super) fn of_new_dir(
        gid: u32,
        mode: u32,
        xattrs: &[(OsString, Vec<u8>)],
        creator: &Creator,
    ) -> Inherit {
        let setgid = mode & libc::S_ISGID != 0;
        let acl = xattrs
            .iter()
            .any(|(k, _)| k.as_encoded_bytes() == DEFAULT_ACL);
        Inherit {
            gid: if setgid { gid } else { creator.egid },
            plain_mode: !setgid && !acl,
        }
    }
}

/// Whether `fd` has the xattr `name` (an error other than "no such attribute" counts as yes, so
/// the caller stays on the careful path).
fn has_xattr(fd: RawFd, name: &[u8]) -> bool {
    let mut cname = name.to_vec();
    cname.push(0);
    // SAFETY: `cname` is NUL-terminated and lives across the call; a NULL buffer of size 0 asks
    // only for the value's size.
    let n = unsafe { libc::fgetxattr(fd, cname.as_ptr().cast(), std::ptr::null_mut(), 0) };
    if n >= 0 {
        return true;
    }
    let e = Errno::last();
    !(e == Errno::ENODATA || e == Errno::EOPNOTSUPP)
}

/// One cached level: a directory on the last entry's path.
struct Level {
    name: OsString,
    fd: Arc<OwnedFd>,
    inherit: Inherit,
}

/// The directory an entry goes into: a cached descriptor or one of its own past the cache's
/// depth, shared so that a job handed to another thread keeps it open (see [`super::pool`]).
pub(super) struct Parent {
    fd: Arc<OwnedFd>,
    pub(super) inherit: Inherit,
    /// Whether the cache now ends at this directory (a new child directory can be pushed).
    at_top: bool,
}

impl Parent {
    pub(super) fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The descriptor, for a job that outlives this entry.
    pub(super) fn shared(&self) -> Arc<OwnedFd> {
        self.fd.clone()
    }
}

/// The root descriptor and the cached levels below it.
pub(super) struct DirCache {
    root: Arc<OwnedFd>,
    root_inherit: Inherit,
    stack: Vec<Level>,
    pub(super) creator: Creator,
}

impl DirCache {
    pub(super) fn new(root: OwnedFd) -> DirCache {
        let creator = Creator::current();
        let root_inherit = Inherit::probe(root.as_raw_fd(), &creator).unwrap_or(Inherit {
            gid: creator.egid,
            plain_mode: false,
        });
        DirCache {
            root: Arc::new(root),
            root_inherit,
            stack: Vec::new(),
            creator,
        }
    }

    pub(super) fn root(&self) -> &OwnedFd {
        &self.root
    }

    /// The directory `comps`, reached from the deepest cached directory it shares. With
    /// `create`, missing directories are made (0755, as docker does for parents a layer does not
    /// list); without, a missing one is refused, its message prefixed with `what`.
    pub(super) fn parent(
        &mut self,
        comps: &[OsString],
        create: bool,
        entry: &str,
        what: &str,
    ) -> Result<Parent> {
        let shared = self
            .stack
            .iter()
            .zip(comps)
            .take_while(|(level, c)| &level.name == *c)
            .count();
        self.stack.truncate(shared);
        let mut own: Option<(Arc<OwnedFd>, Inherit)> = None;
        for i in shared..comps.len() {
            let (at, inherit) = match (&own, self.stack.last()) {
                (Some((fd, inh)), _) => (fd.as_raw_fd(), *inh),
                (None, Some(top)) => (top.fd.as_raw_fd(), top.inherit),
                (None, None) => (self.root.as_raw_fd(), self.root_inherit),
            };
            let fd = Arc::new(step(
                at,
                &comps[..=i],
                create,
                inherit,
                &self.creator,
                entry,
                what,
            )?);
            let inherit = Inherit::probe(fd.as_raw_fd(), &self.creator)
                .map_err(|e| sys(entry, format_args!("inspecting {}", shown(&comps[..=i])), e))?;
            if own.is_none() && self.stack.len() < MAX_CACHED {
                self.stack.push(Level {
                    name: comps[i].clone(),
                    fd,
                    inherit,
                });
            } else {
                own = Some((fd, inherit));
            }
        }
        Ok(match own {
            Some((fd, inherit)) => Parent {
                fd,
                inherit,
                at_top: false,
            },
            None => {
                let (fd, inherit) = match self.stack.last() {
                    Some(top) => (top.fd.clone(), top.inherit),
                    None => (self.root.clone(), self.root_inherit),
                };
                Parent {
                    fd,
                    inherit,
                    at_top: true,
                }
            }
        })
    }

    /// Caches `fd`, the directory `name` just made inside `parent`, as the next level, when the
    /// cache ends at `parent`.
    pub(super) fn push(&mut self, parent: &Parent, name: &OsStr, fd: OwnedFd, inherit: Inherit) {
        if parent.at_top && self.stack.len() < MAX_CACHED {
            self.stack.push(Level {
                name: name.to_os_string(),
                fd: Arc::new(fd),
                inherit,
            });
        }
    }
}

/// Opens the last of `comps` inside `at` without following a symlink, creating it (0755) when
/// missing and `create`.
fn step(
    at: RawFd,
    comps: &[OsString],
    create: bool,
    inherit: Inherit,
    creator: &Creator,
    entry: &str,
    what: &str,
) -> Result<OwnedFd> {
    let c = comps.last().expect("step needs a component").as_os_str();
    let here = || shown(comps);
    match fsops::open_dir_at(at, c) {
        Ok(fd) => Ok(fd),
        Err(Errno::ENOENT) if create => {
            match fsops::mkdir_at(at, c, 0o755) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(sys(entry, format_args!("creating {}", here()), e)),
            }
            let fd = fsops::open_dir_at(at, c)
                .map_err(|e| sys(entry, format_args!("opening {}", here()), e))?;
            // Exactly 0755 whatever the umask, a setgid parent or a default ACL would make it.
            if !inherit.plain_mode || creator.umask & 0o755 != 0 {
                fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(0o755))
                    .map_err(|e| sys(entry, format_args!("setting mode of {}", here()), e))?;
            }
            Ok(fd)
        }
        Err(Errno::ENOENT) => Err(refuse(
            entry,
            format_args!("{what}{} does not exist in the layer", here()),
        )),
        Err(Errno::ELOOP | Errno::ENOTDIR) => {
            let is_link = matches!(lstat_at(at, c), Ok(Some(st)) if kind(&st) == SFlag::S_IFLNK);
            let kind = if is_link {
                "is a symlink, and writing through a symlink is refused"
            } else {
                "is not a directory"
            };
            Err(refuse(
                entry,
                format_args!("{what}parent {} {kind}", here()),
            ))
        }
        Err(e) => Err(sys(entry, format_args!("opening {}", here()), e)),
    }
}

/// Walks `comps` from `root` without the cache (for hard link targets, which must not disturb
/// it): every component must exist.
pub(super) fn walk_existing(
    root: &OwnedFd,
    comps: &[OsString],
    entry: &str,
    what: &str,
) -> Result<Option<OwnedFd>> {
    let mut cur: Option<OwnedFd> = None;
    let unused = Inherit {
        gid: 0,
        plain_mode: false,
    };
    let creator = Creator {
        euid: 0,
        egid: 0,
        umask: 0o7777,
    };
    for i in 0..comps.len() {
        let at = cur.as_ref().unwrap_or(root).as_raw_fd();
        cur = Some(step(
            at,
            &comps[..=i],
            false,
            unused,
            &creator,
            entry,
            what,
        )?);
    }
    Ok(cur)
}
