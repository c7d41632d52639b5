//! `--mount type=volume|bind|tmpfs,src=…,dst=…[,readonly][,…]` and the tmpfs options shared with
//! `--tmpfs`.

use std::collections::BTreeMap;

use super::parse::{bad, clean_destination, host_path, volume_name, MountRequest, MountSource};
use crate::engine::error::Result;

const TMPFS_FLAGS: [&str; 20] = [
    "exec",
    "noexec",
    "suid",
    "nosuid",
    "dev",
    "nodev",
    "atime",
    "noatime",
    "diratime",
    "nodiratime",
    "relatime",
    "norelatime",
    "strictatime",
    "nostrictatime",
    "sync",
    "async",
    "dirsync",
    "mand",
    "nomand",
    "lazytime",
];

fn digits_with_suffix(v: &str, suffixes: &str) -> bool {
    let body = v.strip_suffix(|c| suffixes.contains(c)).unwrap_or(v);
    !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit())
}

/// Checks one tmpfs option (other than `ro`/`rw`) the kernel's tmpfs understands.
pub fn check_tmpfs_option(flag: &str, opt: &str) -> Result<()> {
    if TMPFS_FLAGS.contains(&opt) {
        return Ok(());
    }
    let ok = match opt.split_once('=') {
        Some(("size", v)) => digits_with_suffix(v, "kKmMgG%"),
        Some(("nr_inodes" | "nr_blocks", v)) => digits_with_suffix(v, "kKmMgG"),
        Some(("mode", v)) => {
            !v.is_empty() && v.len() <= 4 && v.bytes().all(|b| (b'0'..=b'7').contains(&b))
        }
        Some(("uid" | "gid", v)) => !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()),
        _ => {
            return Err(bad(
                flag,
                format!(
                    "unknown tmpfs option {opt:?}; use size=, mode=, uid=, gid=, nr_inodes=, \
                     nr_blocks=, ro, rw or {}",
                    TMPFS_FLAGS.join(", ")
                ),
            ))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(bad(flag, format!("bad value in tmpfs option {opt:?}")))
    }
}

/// Splits CSV fields: commas separate, a field in double quotes may hold commas (`""` is a quote).
fn csv_fields(flag: &str, s: &str) -> Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(bad(flag, "a double quote is not closed"));
    }
    fields.push(cur);
    Ok(fields)
}

fn parse_bool(flag: &str, key: &str, v: Option<&str>) -> Result<bool> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(other) => Err(bad(
            flag,
            format!("{key} takes true or false, not {other:?}"),
        )),
    }
}

/// `tmpfs-size` in bytes: a number with an optional binary unit (`64m`, `1g`, `512k`, `100`).
fn ram_bytes(flag: &str, v: &str) -> Result<u64> {
    let lower = v.to_ascii_lowercase();
    let trimmed = lower.trim_end_matches('b').trim_end_matches('i');
    let (num, mult) = match trimmed.char_indices().last() {
        Some((i, 'k')) => (&trimmed[..i], 1u64 << 10),
        Some((i, 'm')) => (&trimmed[..i], 1 << 20),
        Some((i, 'g')) => (&trimmed[..i], 1 << 30),
        Some((i, 't')) => (&trimmed[..i], 1 << 40),
        _ => (trimmed, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            bad(
                flag,
                format!("tmpfs-size {v:?} is not a size (e.g. 64m, 1g, 65536)"),
            )
        })
}

/// `--mount KEY=VALUE,…`.
pub fn parse_mount_flag(spec: &str) -> Result<MountRequest> {
    let flag = format!("--mount {spec}");
    let mut kind = "volume".to_owned();
    let (mut src, mut dst) = (None::<String>, None::<String>);
    let (mut read_only, mut no_copy) = (false, false);
    let mut propagation = None::<String>;
    let mut labels = BTreeMap::new();
    let mut tmpfs = Vec::new();
    let mut type_specific: Vec<(&'static str, String)> = Vec::new();
    for field in csv_fields(&flag, spec)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.to_owned())),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        let need = |v: Option<String>| {
            v.filter(|v| !v.is_empty())
                .ok_or_else(|| bad(&flag, format!("{key} needs a value ({key}=…)")))
        };
        match key.as_str() {
            "" => {}
            "type" => kind = need(value)?,
            "source" | "src" => src = Some(need(value)?),
            "destination" | "dst" | "target" => dst = Some(need(value)?),
            "readonly" | "ro" => read_only = parse_bool(&flag, &key, value.as_deref())?,
            "consistency" => {}
            "volume-nocopy" => {
                no_copy = parse_bool(&flag, &key, value.as_deref())?;
                type_specific.push(("volume", key.clone()));
            }
            "volume-label" => {
                let v = need(value)?;
                let (k, val) = v.split_once('=').unwrap_or((&v, ""));
                labels.insert(k.to_owned(), val.to_owned());
                type_specific.push(("volume", key.clone()));
            }
            "volume-driver" => {
                let v = need(value)?;
                if v != "local" {
                    return Err(bad(
                        &flag,
                        format!("volume driver {v:?} is not available; berth has only `local`"),
                    ));
                }
                type_specific.push(("volume", key.clone()));
            }
            "volume-opt" => {
                return Err(bad(
                    &flag,
                    "volume-opt is not supported by berth's local driver",
                ))
            }
            "bind-propagation" => {
                let v = need(value)?;
                if ![
                    "private", "rprivate", "shared", "rshared", "slave", "rslave",
                ]
                .contains(&v.as_str())
                {
                    return Err(bad(&flag, format!("unknown bind-propagation {v:?}; use rprivate, private, rshared, shared, rslave or slave")));
                }
                propagation = Some(v);
                type_specific.push(("bind", key.clone()));
            }
            "tmpfs-size" => {
                let v = need(value)?;
                tmpfs.push(format!("size={}", ram_bytes(&flag, &v)?));
                type_specific.push(("tmpfs", key.clone()));
            }
            "tmpfs-mode" => {
                let v = need(value)?;
                let opt = format!("mode={}", v.trim_start_matches("0o"));
                check_tmpfs_option(&flag, &opt)?;
                tmpfs.push(opt);
                type_specific.push(("tmpfs", key.clone()));
            }
            other => {
                return Err(bad(
                    &flag,
                    format!(
                        "unknown key {other:?}; keys are type, source/src, destination/dst/target, \
                         readonly, volume-nocopy, volume-label, volume-driver, bind-propagation, \
                         tmpfs-size, tmpfs-mode"
                    ),
                ))
            }
        }
    }
    if let Some((want, key)) = type_specific.iter().find(|(t, _)| *t != kind) {
        return Err(bad(
            &flag,
            format!("{key} applies to type={want}, not type={kind}"),
        ));
    }
    let destination = clean_destination(&flag, dst.as_deref().unwrap_or(""))?;
    let source = match kind.as_str() {
        "volume" => MountSource::Volume {
            name: src.map(|s| volume_name(&flag, &s)).transpose()?,
            labels,
        },
        "bind" => {
            let Some(s) = src else {
                return Err(bad(&flag, "type=bind needs source=/host/path"));
            };
            MountSource::Bind {
                path: host_path(&flag, &s)?,
                create: false,
            }
        }
        "tmpfs" => {
            if src.is_some() {
                return Err(bad(&flag, "type=tmpfs takes no source"));
            }
            MountSource::Tmpfs { options: tmpfs }
        }
        other => {
            return Err(bad(
                &flag,
                format!("unknown mount type {other:?}; use volume, bind or tmpfs"),
            ))
        }
    };
    let is_bind = matches!(source, MountSource::Bind { .. });
    Ok(MountRequest {
        source,
        destination,
        read_only,
        no_copy,
        propagation: if is_bind {
            propagation.unwrap_or_else(|| "rprivate".to_owned())
        } else {
            String::new()
        },
        mode: String::new(),
        flag,
    })
}
