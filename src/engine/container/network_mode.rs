//! A container's network mode (`--network`, Docker's `HostConfig.NetworkMode`), stored in the
//! record as docker's plain string (`none`, `host`, `bridge`, `container:NAME`, a network name).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::engine::error::EngineError;

/// Which network namespace a container gets and what it is connected to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum NetworkMode {
    /// A private namespace with only loopback (berth's default).
    #[default]
    None,
    /// The host's own namespace.
    Host,
    /// The default bridge network (`bridge`, or docker's alias `default`).
    Bridge,
    /// Another container's namespace (`container:NAME|ID`), as the user named it.
    Container(String),
    /// A user-defined network, by name.
    Named(String),
}

impl NetworkMode {
    /// Whether the container shares the host's namespace.
    pub fn is_host(&self) -> bool {
        matches!(self, NetworkMode::Host)
    }

    /// Whether `s` is a valid network name (docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]*`).
    pub fn valid_network_name(s: &str) -> bool {
        valid_name(s)
    }
}

/// Docker's rule for network and container names, `[a-zA-Z0-9][a-zA-Z0-9_.-]*` (a container
/// may also be named by a short ID prefix, so one character is enough here).
fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl FromStr for NetworkMode {
    type Err = EngineError;

    /// Parses docker's spellings of `--network`.
    fn from_str(s: &str) -> Result<NetworkMode, EngineError> {
        Ok(match s {
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
            "bridge" | "default" => NetworkMode::Bridge,
            _ => {
                if let Some(c) = s.strip_prefix("container:") {
                    let c = c.strip_prefix('/').unwrap_or(c);
                    if !valid_name(c) {
                        return Err(EngineError::InvalidInput(format!(
                            "invalid network mode {s:?}: give the container as container:NAME \
                             or container:ID"
                        )));
                    }
                    NetworkMode::Container(c.to_string())
                } else if valid_name(s) {
                    NetworkMode::Named(s.to_string())
                } else {
                    return Err(EngineError::InvalidInput(format!(
                        "invalid network mode {s:?}: use none, host, bridge, container:NAME or a \
                         network name made of [a-zA-Z0-9][a-zA-Z0-9_.-]"
                    )));
                }
            }
        })
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkMode::None => f.write_str("none"),
            NetworkMode::Host => f.write_str("host"),
            NetworkMode::Bridge => f.write_str("bridge"),
            NetworkMode::Container(c) => write!(f, "container:{c}"),
            NetworkMode::Named(n) => f.write_str(n),
        }
    }
}

impl Serialize for NetworkMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for NetworkMode {
    /// Reads the stored string; an empty one (what `HostConfig::default()` held before this type)
    /// is berth's default, `none`, which is how such a record was run.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<NetworkMode, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Ok(NetworkMode::None);
        }
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dockers_spellings() {
        let p = |s: &str| s.parse::<NetworkMode>().unwrap();
        assert_eq!(p("none"), NetworkMode::None);
        assert_eq!(p("host"), NetworkMode::Host);
        assert_eq!(p("bridge"), NetworkMode::Bridge);
        assert_eq!(p("default"), NetworkMode::Bridge);
        assert_eq!(p("container:web"), NetworkMode::Container("web".into()));
        assert_eq!(p("container:/web"), NetworkMode::Container("web".into()));
        assert_eq!(p("container:3f"), NetworkMode::Container("3f".into()));
        assert_eq!(p("my-net.1_x"), NetworkMode::Named("my-net.1_x".into()));
    }

    #[test]
    fn bad_spellings_say_what_to_use() {
        for bad in [
            "",
            "a b",
            "-net",
            "net/x",
            "container:",
            "container:a b",
            "container:/",
        ] {
            let e = bad.parse::<NetworkMode>().unwrap_err();
            assert!(matches!(e, EngineError::InvalidInput(_)), "{bad:?}: {e}");
            let msg = e.to_string();
            assert!(msg.contains(&format!("{bad:?}")), "{msg}");
            assert!(msg.contains("container:NAME"), "{msg}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["none", "host", "bridge", "container:web", "backend"] {
            assert_eq!(s.parse::<NetworkMode>().unwrap().to_string(), s);
        }
        assert_eq!(
            "default".parse::<NetworkMode>().unwrap().to_string(),
            "bridge"
        );
    }

    #[test]
    fn serde_is_the_plain_string() {
        for (mode, s) in [
            (NetworkMode::None, "\"none\""),
            (NetworkMode::Host, "\"host\""),
            (NetworkMode::Bridge, "\"bridge\""),
            (NetworkMode::Container("web".into()), "\"container:web\""),
            (NetworkMode::Named("backend".into()), "\"backend\""),
        ] {
            assert_eq!(serde_json::to_string(&mode).unwrap(), s);
            assert_eq!(serde_json::from_str::<NetworkMode>(s).unwrap(), mode);
        }
        assert_eq!(
            serde_json::from_str::<NetworkMode>("\"\"").unwrap(),
            NetworkMode::None
        );
        assert!(serde_json::from_str::<NetworkMode>("\"a b\"").is_err());
    }

    #[test]
    fn records_keep_the_string_field() {
        use crate::engine::container::record::HostConfig;
        // A host config as today's records hold it: `NetworkMode` is a plain string.
        let mut v = serde_json::to_value(HostConfig::default()).unwrap();
        assert_eq!(v["NetworkMode"], "none");
        for (stored, mode) in [("none", NetworkMode::None), ("host", NetworkMode::Host)] {
            v["NetworkMode"] = serde_json::Value::String(stored.into());
            let hc: HostConfig = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(hc.network_mode, mode);
            assert_eq!(serde_json::to_value(&hc).unwrap(), v);
        }
    }
}
