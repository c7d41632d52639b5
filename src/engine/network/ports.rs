//! Published ports: `-p [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]` with ranges, `--expose`, `-P`,
//! and the host ports a running container holds. The forwarding itself is the driver's (DNAT in nftables);
//! the monitor also binds every published host port and keeps the socket for the container's
//! life, as docker's proxy and podman's conmon do: a port that is taken is refused before
//! anything is set up, and nothing else can take it while the container runs.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::OwnedFd;

use nix::sys::socket::{bind, getsockname, socket, AddressFamily, SockFlag, SockType, SockaddrIn};
use serde::{Deserialize, Serialize};

use crate::engine::error::{EngineError, Result};

/// Docker's `{}` in `ExposedPorts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// One host side of a published port (docker's `PortBinding`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    /// Empty: every address.
    pub host_ip: String,
    /// Empty: a free port chosen at start.
    pub host_port: String,
}

/// `HostConfig.PortBindings`: `80/tcp` → where it is published.
pub type PortBindings = BTreeMap<String, Vec<PortBinding>>;

/// A port published by a running container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// `0.0.0.0` for every address.
    pub host_ip: String,
    pub host_port: u16,
    pub proto: String,
    pub container_port: u16,
}

impl Published {
    /// `0.0.0.0:8000->80/tcp`, as `ps` shows it.
    pub fn display(&self) -> String {
        format!(
            "{}:{}->{}/{}",
            self.host_ip, self.host_port, self.container_port, self.proto
        )
    }
}

fn bad(spec: &str, why: &str) -> EngineError {
    EngineError::InvalidInput(format!(
        "invalid port specification {spec:?}: {why}; use [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp], \
         e.g. 8000:80 or 127.0.0.1:5353:53/udp"
    ))
}

fn range(spec: &str, s: &str) -> Result<(u16, u16)> {
    let num = |x: &str| -> Result<u16> {
        x.parse::<u16>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad(spec, &format!("{x:?} is not a port number (1-65535)")))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (num(a)?, num(b)?);
            if b < a {
                return Err(bad(spec, "a range must go from low to high"));
            }
            Ok((a, b))
        }
        None => num(s).map(|n| (n, n)),
    }
}

fn proto(spec: &str, p: Option<&str>) -> Result<String> {
    match p.unwrap_or("tcp") {
        p @ ("tcp" | "udp") => Ok(p.to_string()),
        p => Err(bad(spec, &format!("unsupported protocol {p:?}"))),
    }
}

/// Parses one `-p` value into `80/tcp` keys and bindings (a range becomes one per port).
pub fn parse_publish(spec: &str) -> Result<Vec<(String, PortBinding)>> {
    let (rest, p) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, Some(p)),
        None => (spec, None),
    };
    let proto = proto(spec, p)?;
    // An IPv6 host address is given in brackets.
    let (ip, rest) = if let Some(r) = rest.strip_prefix('[') {
        let (ip, r) = r
            .split_once("]:")
            .ok_or_else(|| bad(spec, "an IPv6 address in brackets needs a port after it"))?;
        (Some(ip.to_string()), r.to_string())
    } else {
        let parts: Vec<&str> = rest.split(':').collect();
        match parts.len() {
            1 | 2 => (None, rest.to_string()),
            3 => (
                Some(parts[0].to_string()),
                format!("{}:{}", parts[1], parts[2]),
            ),
            _ => return Err(bad(spec, "too many colons")),
        }
    };
    if let Some(ip) = &ip {
        if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
            return Err(bad(spec, &format!("{ip:?} is not an IP address")));
        }
        if ip.parse::<IpAddr>().is_ok_and(|a| a.is_ipv6()) {
            return Err(bad(spec, "IPv6 host addresses are not supported yet"));
        }
    }
    let (host, container) = match rest.split_once(':') {
        Some((h, c)) => (Some(h), c),
        None => (None, rest.as_str()),
    };
    let (c_lo, c_hi) = range(spec, container)?;
    let host = match host.filter(|h| !h.is_empty()) {
        Some(h) => Some(range(spec, h)?),
        None => None,
    };
    if let Some((h_lo, h_hi)) = host {
        if h_hi - h_lo != c_hi - c_lo && h_lo != h_hi {
            return Err(bad(spec, "the host and container ranges differ in length"));
        }
    }
    let mut out = Vec::new();
    for (i, c) in (c_lo..=c_hi).enumerate() {
        let host_port = match host {
            Some((lo, hi)) if lo == hi => lo.to_string(),
            Some((lo, _)) => (lo + i as u16).to_string(),
            None => String::new(),
        };
        out.push((
            format!("{c}/{proto}"),
            PortBinding {
                host_ip: ip.clone().unwrap_or_default(),
                host_port,
            },
        ));
    }
    Ok(out)
}

/// Parses one `--expose` value (`80`, `80/udp`, `8000-8002`) into `80/tcp` keys.
pub fn parse_expose(spec: &str) -> Result<Vec<String>> {
    let (rest, p) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, Some(p)),
        None => (spec, None),
    };
    let proto = proto(spec, p)?;
    let (lo, hi) = range(spec, rest)?;
    Ok((lo..=hi).map(|c| format!("{c}/{proto}")).collect())
}

/// Splits a `80/tcp` key.
pub fn split_key(key: &str) -> Option<(u16, &str)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.parse().ok()?, proto))
}

/// What to publish at start: the `-p` bindings, and with `-P` every exposed port not bound yet
/// on a free port.
pub fn wanted(
    bindings: &PortBindings,
    exposed: &BTreeMap<String, Empty>,
    publish_all: bool,
) -> Vec<(String, PortBinding)> {
    let mut out: Vec<(String, PortBinding)> = bindings
        .iter()
        .flat_map(|(k, v)| v.iter().map(move |b| (k.clone(), b.clone())))
        .collect();
    if publish_all {
        for k in exposed.keys() {
            if !bindings.contains_key(k) {
                out.push((k.clone(), PortBinding::default()));
            }
        }
    }
    out
}

/// Binds every wanted host port (port 0: the kernel picks a free one) and returns what is
/// published with the sockets that hold the ports. Fails, holding nothing, on the first port
/// that is taken.
pub fn reserve(wanted: &[(String, PortBinding)]) -> Result<(Vec<Published>, Vec<OwnedFd>)> {
    let mut published = Vec::new();
    let mut held = Vec::new();
    for (key, b) in wanted {
        let Some((container_port, proto)) = split_key(key) else {
            continue;
        };
        let ip: Ipv4Addr = if b.host_ip.is_empty() {
            Ipv4Addr::UNSPECIFIED
        } else {
            b.host_ip.parse().map_err(|_| {
                EngineError::InvalidInput(format!("invalid host address {:?}", b.host_ip))
            })?
        };
        let port: u16 = if b.host_port.is_empty() {
            0
        } else {
            b.host_port.parse().map_err(|_| {
                EngineError::InvalidInput(format!("invalid host port {:?}", b.host_port))
            })?
        };
        let ty = if proto == "udp" {
            SockType::Datagram
        } else {
            SockType::Stream
        };
        let sock = socket(AddressFamily::Inet, ty, SockFlag::SOCK_CLOEXEC, None).map_err(|e| {
            EngineError::Runtime(format!("cannot open a socket to reserve a port: {e}"))
        })?;
        let addr = SockaddrIn::from(std::net::SocketAddrV4::new(ip, port));
        use std::os::fd::AsRawFd;
        if let Err(e) = bind(sock.as_raw_fd(), &addr) {
            let why = if e == nix::errno::Errno::EADDRINUSE {
                "port is already allocated".to_string()
            } else {
                e.to_string()
            };
            return Err(EngineError::Conflict(format!(
                "driver failed programming external connectivity: Bind for {ip}:{port}/{proto} \
                 failed: {why}; stop what listens there or publish on another host port"
            )));
        }
        let bound: SockaddrIn = getsockname(sock.as_raw_fd())
            .map_err(|e| EngineError::Runtime(format!("cannot read a reserved port: {e}")))?;
        let bound = SocketAddr::from(std::net::SocketAddrV4::from(bound));
        published.push(Published {
            host_ip: ip.to_string(),
            host_port: bound.port(),
            proto: proto.to_string(),
            container_port,
        });
        held.push(sock);
    }
    Ok((published, held))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> (String, String, String) {
        let v = parse_publish(spec).unwrap();
        assert_eq!(v.len(), 1, "{spec}");
        let (k, b) = &v[0];
        (k.clone(), b.host_ip.clone(), b.host_port.clone())
    }

    #[test]
    fn publish_specs_parse_as_docker() {
        assert_eq!(one("80"), ("80/tcp".into(), "".into(), "".into()));
        assert_eq!(one("8000:80"), ("80/tcp".into(), "".into(), "8000".into()));
        assert_eq!(
            one("127.0.0.1:8000:80/udp"),
            ("80/udp".into(), "127.0.0.1".into(), "8000".into())
        );
        assert_eq!(
            one("127.0.0.1::80"),
            ("80/tcp".into(), "127.0.0.1".into(), "".into())
        );
        let r = parse_publish("8000-8002:80-82").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[2].0, "82/tcp");
        assert_eq!(r[2].1.host_port, "8002");
        for bad in [
            "",
            "x",
            "0",
            "70000",
            "80/sctp",
            "1:2:3:4",
            "9-8",
            "a.b:80:80",
            "8000-8001:80",
        ] {
            assert!(parse_publish(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_expose("53/udp").unwrap(), vec!["53/udp"]);
        assert_eq!(parse_expose("7-8").unwrap(), vec!["7/tcp", "8/tcp"]);
    }

    #[test]
    fn reserved_ports_conflict_and_free_ones_are_chosen() {
        let (p, held) = reserve(&[(
            "80/tcp".into(),
            PortBinding {
                host_ip: "127.0.0.1".into(),
                host_port: String::new(),
            },
        )])
        .unwrap();
        assert_eq!(held.len(), 1);
        assert!(p[0].host_port > 0);
        let again = reserve(&[(
            "81/tcp".into(),
            PortBinding {
                host_ip: "127.0.0.1".into(),
                host_port: p[0].host_port.to_string(),
            },
        )])
        .unwrap_err();
        assert!(matches!(again, EngineError::Conflict(_)));
        assert!(again.to_string().contains("already allocated"), "{again}");
    }
}
