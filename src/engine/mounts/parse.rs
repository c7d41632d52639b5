//! Parsing of the mount flags of `create`/`run`: `-v`, `--mount`, `--tmpfs`, `--volumes-from`.
//! Pure: nothing touches the filesystem; every error names the flag and what to write instead.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::engine::error::{EngineError, Result};
use crate::engine::volume::name;

/// The mount flags as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct MountOptions {
    /// `-v`/`--volume` values.
    pub volumes: Vec<String>,
    /// `--mount` values.
    pub mounts: Vec<String>,
    /// `--tmpfs` values.
    pub tmpfs: Vec<String>,
    /// `--volumes-from` values.
    pub volumes_from: Vec<String>,
}

/// Where a requested mount comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSource {
    /// A named volume (`Some`, created when missing) or a new anonymous one (`None`). `labels`
    /// apply to a volume this creates (`--mount volume-label=…`).
    Volume {
        name: Option<String>,
        labels: BTreeMap<String, String>,
    },
    /// An absolute host path. `create`: a missing directory is made (`-v`); otherwise a missing
    /// path is an error (`--mount type=bind`), as in docker.
    Bind { path: PathBuf, create: bool },
    /// A new tmpfs with these options (`ro`/`rw` removed, see `read_only`).
    Tmpfs { options: Vec<String> },
}

/// One mount the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountRequest {
    pub source: MountSource,
    /// Absolute, lexically cleaned path inside the container.
    pub destination: String,
    pub read_only: bool,
    /// `nocopy`/`volume-nocopy`: leave a new volume empty.
    pub no_copy: bool,
    /// Bind propagation (`rprivate` when not given); empty for others.
    pub propagation: String,
    /// The mode text shown by inspect.
    pub mode: String,
    /// The flag as written, for error messages (`-v data:/d`).
    pub flag: String,
}

/// `--volumes-from CONTAINER[:ro|:rw]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumesFrom {
    /// Container name or id (prefix), as given.
    pub container: String,
    /// `Some(true)` for `:ro`, `Some(false)` for `:rw`, `None` to keep each mount's own mode.
    pub read_only: Option<bool>,
}

/// Every mount flag, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedMounts {
    /// `-v`, `--mount` and `--tmpfs` requests, in that order.
    pub requests: Vec<MountRequest>,
    pub volumes_from: Vec<VolumesFrom>,
}

const PROPAGATIONS: [&str; 6] = [
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];

pub(super) fn bad(flag: &str, why: impl std::fmt::Display) -> EngineError {
    EngineError::InvalidInput(format!("invalid {flag}: {why}"))
}

/// Parses every mount flag; the first bad one is reported.
pub fn parse(opts: &MountOptions) -> Result<ParsedMounts> {
    let mut out = ParsedMounts::default();
    for v in &opts.volumes {
        out.requests.push(parse_volume_flag(v)?);
    }
    for m in &opts.mounts {
        out.requests.push(parse_mount_flag(m)?);
    }
    for t in &opts.tmpfs {
        out.requests.push(parse_tmpfs_flag(t)?);
    }
    for f in &opts.volumes_from {
        out.volumes_from.push(parse_volumes_from(f)?);
    }
    Ok(out)
}

/// Checks that `dest` is absolute, not `/` and not on `/proc` or `/sys` ([`super::kernel_fs`]),
/// and cleans it lexically (`.`, `..`, `//`, a
/// trailing `/`).
pub fn clean_destination(flag: &str, dest: &str) -> Result<String> {
    if dest.is_empty() {
        return Err(bad(flag, "the destination inside the container is missing"));
    }
    if !dest.starts_with('/') {
        return Err(bad(
            flag,
            format!("the destination {dest:?} must be an absolute path inside the container (e.g. /data)"),
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in dest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(bad(flag, "cannot mount over the container's root `/`"));
    }
    let dest = format!("/{}", parts.join("/"));
    super::kernel_fs::check_user_destination(&dest).map_err(|why| bad(flag, why))?;
    Ok(dest)
}

/// Cleans an absolute host path; refuses relative ones.
pub(super) fn host_path(flag: &str, src: &str) -> Result<PathBuf> {
    if !src.starts_with('/') {
        return Err(bad(
            flag,
            format!("host path {src:?} is relative; give an absolute path (e.g. $PWD/{src})"),
        ));
    }
    let mut p = PathBuf::from("/");
    for part in src.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            p.pop();
        } else {
            p.push(part);
        }
    }
    Ok(p)
}

pub(super) fn volume_name(flag: &str, src: &str) -> Result<String> {
    if src.contains('/') || src.starts_with('.') || src.starts_with('~') {
        return Err(bad(
            flag,
            format!("host path {src:?} is relative; give an absolute path (e.g. $PWD/{src})"),
        ));
    }
    name::validate(src).map_err(|e| bad(flag, e))?;
    Ok(src.to_owned())
}

#[derive(Default)]
struct Mode {
    read_only: Option<bool>,
    no_copy: bool,
    propagation: Option<String>,
}

fn parse_mode(flag: &str, text: &str, is_bind: bool) -> Result<Mode> {
    let mut m = Mode::default();
    for opt in text.split(',') {
        match opt {
            "ro" | "rw" => {
                let ro = opt == "ro";
                if m.read_only.is_some_and(|have| have != ro) {
                    return Err(bad(flag, "both `ro` and `rw` given; choose one"));
                }
                m.read_only = Some(ro);
            }
            // SELinux relabelling: berth does not use SELinux labels, so nothing to do.
            "z" | "Z" => {}
            "nocopy" if !is_bind => m.no_copy = true,
            "nocopy" => return Err(bad(flag, "`nocopy` applies to volumes, not host paths")),
            p if PROPAGATIONS.contains(&p) => {
                if !is_bind {
                    return Err(bad(
                        flag,
                        format!("propagation `{p}` applies to host paths, not volumes"),
                    ));
                }
                m.propagation = Some(p.to_owned());
            }
            other => {
                return Err(bad(
                    flag,
                    format!(
                        "unknown mode {other:?}; modes are ro, rw, z, Z, nocopy and the bind \
                         propagations {}",
                        PROPAGATIONS.join(", ")
                    ),
                ))
            }
        }
    }
    Ok(m)
}

fn is_mode_text(text: &str) -> bool {
    text.split(',')
        .all(|o| matches!(o, "ro" | "rw" | "z" | "Z" | "nocopy") || PROPAGATIONS.contains(&o))
}

/// `-v [SOURCE:]DEST[:MODE]`.
pub fn parse_volume_flag(spec: &str) -> Result<MountRequest> {
    let flag = format!("-v {spec}");
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dest, mode) = match parts.as_slice() {
        [dest] => (None, *dest, ""),
        [a, b] if a.starts_with('/') && is_mode_text(b) => {
            return Err(bad(
                &flag,
                format!(
                    "an anonymous volume takes no mode; name the volume (-v NAME:{a}:{b}) or use \
                     --mount type=volume,dst={a}"
                ),
            ))
        }
        [src, dest] => (Some(*src), *dest, ""),
        [src, dest, mode] => (Some(*src), *dest, *mode),
        _ => {
            return Err(bad(
                &flag,
                "too many `:`; the form is [NAME|/HOST/PATH:]/CONTAINER/PATH[:MODE]",
            ))
        }
    };
    let destination = clean_destination(&flag, dest)?;
    let source = match src {
        None => MountSource::Volume {
            name: None,
            labels: BTreeMap::new(),
        },
        Some("") => {
            return Err(bad(
                &flag,
                "the source before `:` is empty; give a volume name or an absolute host path",
            ))
        }
        Some(s) if s.starts_with('/') => MountSource::Bind {
            path: host_path(&flag, s)?,
            create: true,
        },
        Some(s) => MountSource::Volume {
            name: Some(volume_name(&flag, s)?),
            labels: BTreeMap::new(),
        },
    };
    let is_bind = matches!(source, MountSource::Bind { .. });
    let m = parse_mode(&flag, if mode.is_empty() { "rw" } else { mode }, is_bind)?;
    Ok(MountRequest {
        propagation: if is_bind {
            m.propagation.unwrap_or_else(|| "rprivate".to_owned())
        } else {
            String::new()
        },
        source,
        destination,
        read_only: m.read_only.unwrap_or(false),
        no_copy: m.no_copy,
        mode: mode.to_owned(),
        flag,
    })
}

/// `--tmpfs DEST[:OPTIONS]`.
pub fn parse_tmpfs_flag(spec: &str) -> Result<MountRequest> {
    let flag = format!("--tmpfs {spec}");
    let (dest, opts) = spec.split_once(':').unwrap_or((spec, ""));
    let destination = clean_destination(&flag, dest)?;
    let mut read_only = false;
    let mut options = Vec::new();
    for opt in opts.split(',').filter(|o| !o.is_empty()) {
        match opt {
            "ro" => read_only = true,
            "rw" => read_only = false,
            o => {
                super::mount_flag::check_tmpfs_option(&flag, o)?;
                options.push(o.to_owned());
            }
        }
    }
    Ok(MountRequest {
        source: MountSource::Tmpfs { options },
        destination,
        read_only,
        no_copy: false,
        propagation: String::new(),
        mode: String::new(),
        flag,
    })
}

/// `--volumes-from CONTAINER[:ro|:rw]`.
pub fn parse_volumes_from(spec: &str) -> Result<VolumesFrom> {
    let flag = format!("--volumes-from {spec}");
    let (container, read_only) = match spec.rsplit_once(':') {
        Some((c, "ro")) => (c, Some(true)),
        Some((c, "rw")) => (c, Some(false)),
        Some((_, m)) => {
            return Err(bad(&flag, format!("unknown mode {m:?}; use :ro or :rw")));
        }
        None => (spec, None),
    };
    if container.is_empty() {
        return Err(bad(&flag, "the container name is missing"));
    }
    Ok(VolumesFrom {
        container: container.to_owned(),
        read_only,
    })
}

pub use super::mount_flag::parse_mount_flag;
