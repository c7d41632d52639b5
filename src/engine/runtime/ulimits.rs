//! `--ulimit NAME=SOFT[:HARD]`: resource limits of the container's process, docker's names and
//! shape (`HostConfig.Ulimits`). A limit above berth's own hard limit is refused: raising it
//! needs CAP_SYS_RESOURCE, which a runtime cannot count on.

use nix::sys::resource::{getrlimit, Resource};
use serde::{Deserialize, Serialize};

use crate::engine::error::{EngineError, Result};

/// One limit as docker's inspect shows it (-1: unlimited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ulimit {
    pub name: String,
    pub hard: i64,
    pub soft: i64,
}

const NAMES: [(&str, Resource); 16] = [
    ("as", Resource::RLIMIT_AS),
    ("core", Resource::RLIMIT_CORE),
    ("cpu", Resource::RLIMIT_CPU),
    ("data", Resource::RLIMIT_DATA),
    ("fsize", Resource::RLIMIT_FSIZE),
    ("locks", Resource::RLIMIT_LOCKS),
    ("memlock", Resource::RLIMIT_MEMLOCK),
    ("msgqueue", Resource::RLIMIT_MSGQUEUE),
    ("nice", Resource::RLIMIT_NICE),
    ("nofile", Resource::RLIMIT_NOFILE),
    ("nproc", Resource::RLIMIT_NPROC),
    ("rss", Resource::RLIMIT_RSS),
    ("rtprio", Resource::RLIMIT_RTPRIO),
    ("rttime", Resource::RLIMIT_RTTIME),
    ("sigpending", Resource::RLIMIT_SIGPENDING),
    ("stack", Resource::RLIMIT_STACK),
];

fn resource(name: &str) -> Option<Resource> {
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
}

fn bad(value: &str, why: &str) -> EngineError {
    EngineError::InvalidInput(format!(
        "invalid argument {value:?} for \"--ulimit\" flag: {why}"
    ))
}

fn number(value: &str, part: &str) -> Result<i64> {
    match part.parse::<i64>() {
        Ok(n) if n >= -1 => Ok(n),
        _ => Err(bad(
            value,
            &format!("{part:?} is not a limit; give a number (-1 for unlimited)"),
        )),
    }
}

/// Parses `NAME=SOFT[:HARD]` and checks it against berth's own hard limit.
pub fn parse(value: &str) -> Result<Ulimit> {
    let (name, limits) = value
        .split_once('=')
        .ok_or_else(|| bad(value, "use NAME=SOFT[:HARD], e.g. nofile=1024:2048"))?;
    let res = resource(name).ok_or_else(|| {
        let names: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
        bad(
            value,
            &format!("unknown limit {name:?}; use one of {}", names.join(", ")),
        )
    })?;
    let (soft, hard) = match limits.split_once(':') {
        Some((s, h)) => (number(value, s)?, number(value, h)?),
        None => {
            let n = number(value, limits)?;
            (n, n)
        }
    };
    let as_u64 = |n: i64| if n < 0 { u64::MAX } else { n as u64 };
    if as_u64(soft) > as_u64(hard) {
        return Err(bad(
            value,
            &format!("the soft limit {soft} is above the hard limit {hard}"),
        ));
    }
    if let Ok((_, own_hard)) = getrlimit(res) {
        if as_u64(hard) > own_hard {
            return Err(bad(
                value,
                &format!(
                    "the hard limit is above berth's own ({own_hard}), which it cannot raise \
                     without CAP_SYS_RESOURCE; use at most {own_hard}"
                ),
            ));
        }
    }
    Ok(Ulimit {
        name: name.to_string(),
        hard,
        soft,
    })
}

/// The spec's `rlimits` entry for `u`.
pub fn spec_entry(u: &Ulimit) -> serde_json::Value {
    let v = |n: i64| if n < 0 { u64::MAX } else { n as u64 };
    serde_json::json!({
        "type": format!("RLIMIT_{}", u.name.to_ascii_uppercase()),
        "soft": v(u.soft),
        "hard": v(u.hard),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_bad_ones_are_explained() {
        let u = parse("nofile=100:200").unwrap();
        assert_eq!((u.soft, u.hard), (100, 200));
        assert_eq!(parse("core=0").unwrap().hard, 0);
        for (v, why) in [
            ("nofile", "NAME=SOFT"),
            ("bogus=1", "unknown limit"),
            ("nofile=x", "not a limit"),
            ("nofile=20:10", "above the hard limit"),
            ("nofile=-1", "above berth's own"),
        ] {
            let e = parse(v).unwrap_err().to_string();
            assert!(e.contains(why), "{v}: {e}");
        }
        let e = spec_entry(&parse("nproc=5:6").unwrap());
        assert_eq!(e["type"], "RLIMIT_NPROC");
    }
}
