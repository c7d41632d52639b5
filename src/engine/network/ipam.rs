//! IPv4 subnets and address allocation. Leases live in the `endpoints` table (one address per
//! container per network, unique within the network); this file only computes.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::engine::error::{EngineError, Result};

/// An IPv4 network in CIDR form, stored as `a.b.c.d/n` with the host bits zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subnet {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    /// The network address (first) as a number.
    pub fn first(&self) -> u32 {
        u32::from(self.addr) & self.mask()
    }

    /// The broadcast address (last) as a number.
    pub fn last(&self) -> u32 {
        self.first() | !self.mask()
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == self.first()
    }

    /// Whether the two subnets share an address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.first() <= other.last() && other.first() <= self.last()
    }

    /// The usual gateway: the first host address.
    pub fn first_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.first() + 1)
    }
}

impl FromStr for Subnet {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Subnet> {
        let bad = || {
            EngineError::InvalidInput(format!(
                "invalid subnet {s:?}: give an IPv4 network in CIDR form, e.g. 172.20.0.0/16"
            ))
        };
        let (a, p) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = a.parse().map_err(|_| bad())?;
        let prefix: u8 = p.parse().map_err(|_| bad())?;
        if !(8..=30).contains(&prefix) {
            return Err(EngineError::InvalidInput(format!(
                "invalid subnet {s:?}: the prefix length must be between 8 and 30"
            )));
        }
        let sub = Subnet { addr, prefix };
        if u32::from(addr) != sub.first() {
            return Err(EngineError::InvalidInput(format!(
                "invalid subnet {s:?}: the address has host bits set; did you mean {}/{prefix}?",
                Ipv4Addr::from(sub.first())
            )));
        }
        Ok(sub)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for Subnet {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subnet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Subnet, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The subnets berth picks from when `network create` names none (docker's pools): 172.18–31
/// /16, then 192.168.x.0/20.
pub fn candidate_subnets() -> impl Iterator<Item = Subnet> {
    (18..=31u8)
        .map(|b| Subnet {
            addr: Ipv4Addr::new(172, b, 0, 0),
            prefix: 16,
        })
        .chain((0..16u8).map(|i| Subnet {
            addr: Ipv4Addr::new(192, 168, i * 16, 0),
            prefix: 20,
        }))
}

/// The next free address of `range` (within `subnet`), skipping the network and broadcast
/// addresses, the gateway and `taken`.
pub fn allocate(
    subnet: &Subnet,
    range: Option<&Subnet>,
    gateway: Ipv4Addr,
    taken: &[Ipv4Addr],
) -> Option<Ipv4Addr> {
    let r = range.unwrap_or(subnet);
    let lo = r.first().max(subnet.first() + 1);
    let hi = r.last().min(subnet.last() - 1);
    (lo..=hi)
        .map(Ipv4Addr::from)
        .find(|ip| *ip != gateway && !taken.contains(ip))
}

/// Checks an address asked for with `--ip`: inside the subnet, not its network, broadcast or
/// gateway address, and not taken.
pub fn check_static(
    net_name: &str,
    subnet: &Subnet,
    gateway: Ipv4Addr,
    ip: Ipv4Addr,
    taken: &[Ipv4Addr],
) -> Result<()> {
    let n = u32::from(ip);
    if !subnet.contains(ip) || n == subnet.first() || n == subnet.last() || ip == gateway {
        return Err(EngineError::InvalidInput(format!(
            "invalid address {ip} for network {net_name}: use a host address of {subnet} other \
             than the gateway {gateway}"
        )));
    }
    if taken.contains(&ip) {
        return Err(EngineError::Conflict(format!(
            "address {ip} is already in use on network {net_name}: choose another --ip or stop \
             the container holding it"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_parse_and_allocate() {
        let s: Subnet = "10.1.0.0/29".parse().unwrap();
        assert_eq!(s.to_string(), "10.1.0.0/29");
        let gw = s.first_host();
        assert_eq!(gw, Ipv4Addr::new(10, 1, 0, 1));
        let mut taken = vec![];
        for _ in 0..5 {
            let ip = allocate(&s, None, gw, &taken).unwrap();
            taken.push(ip);
        }
        assert_eq!(taken[0], Ipv4Addr::new(10, 1, 0, 2));
        assert_eq!(taken[4], Ipv4Addr::new(10, 1, 0, 6));
        assert_eq!(allocate(&s, None, gw, &taken), None);
        let range: Subnet = "10.1.0.4/30".parse().unwrap();
        assert_eq!(
            allocate(&s, Some(&range), gw, &[]),
            Some(Ipv4Addr::new(10, 1, 0, 4))
        );
        for bad in [
            "10.1.0.1/29",
            "10.1.0.0",
            "10.1.0.0/31",
            "x/16",
            "10.0.0.0/4",
        ] {
            assert!(bad.parse::<Subnet>().is_err(), "{bad}");
        }
        assert!(check_static("n", &s, gw, gw, &[]).is_err());
        assert!(check_static("n", &s, gw, Ipv4Addr::new(10, 1, 0, 7), &[]).is_err());
        assert!(check_static("n", &s, gw, Ipv4Addr::new(10, 1, 0, 3), &[]).is_ok());
        let a: Subnet = "172.18.0.0/16".parse().unwrap();
        let b: Subnet = "172.18.5.0/24".parse().unwrap();
        assert!(a.overlaps(&b) && !a.overlaps(&s));
    }
}
