//! berth's bridge driver: what a container's place on its networks is in the kernel. For each
//! network: the bridge (made with its first running container, the gateway address on it,
//! `route_localnet` so that `-p` answers on 127.0.0.1), a veth pair (`veth<10 hex>` on the
//! bridge, the container's side born in its namespace with its name, MAC and address), the
//! default route, `ip_forward`; the firewall elements ([`super::firewall`]) of a new bridge and
//! of the published ports in one batch (none when there are neither), and the DNS entries of
//! user networks ([`super::dns`]). [`teardown`] undoes exactly the container's part. A bridge
//! and its firewall elements stay while the network exists, as docker's do (`docker0` for
//! ever): [`remove_network`] takes them with `network rm`. Setups and teardowns of one engine
//! root take turns (a lock file).

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::Path;

use super::dns;
use super::firewall;
use super::netlink::Netlink;
use super::ports::Published;
use super::record::{Endpoint, NetworkRecord};
use super::store::NetworkStore;
use crate::engine::error::{EngineError, Result};
use crate::engine::lock::FileLock;
use crate::engine::state::StateStore;
use crate::engine::trace::phase;
use crate::engine::Layout;

/// The MTU of bridges and veths: what loopback has, so that the host and the containers of a
/// network (and `-p` from the host's loopback) talk in 64 KiB packets, not 1500-byte ones
/// (`-p` bulk throughput went from about 0.8× to about 1.0× host networking).
const MTU: u32 = 65520;

/// The path MTU of the default route, towards other hosts: an Ethernet's.
const ROUTE_MTU: u32 = 1500;

/// One container's place on one network.
pub struct Attachment<'a> {
    pub network: &'a NetworkRecord,
    pub endpoint: &'a Endpoint,
    /// `--mac-address`.
    pub mac: Option<String>,
}

/// The host side of the container's veth on a network: stable for the pair.
pub fn host_veth(ep: &Endpoint) -> String {
    format!("veth{}", &ep.endpoint_id()[..10])
}

/// Docker's MAC for an address (`02:42:` and the address), or the one asked for.
fn mac_for(ip: Ipv4Addr, asked: Option<&str>) -> Result<[u8; 6]> {
    let Some(s) = asked else {
        let o = ip.octets();
        return Ok([0x02, 0x42, o[0], o[1], o[2], o[3]]);
    };
    let bad = || {
        EngineError::InvalidInput(format!(
            "invalid MAC address {s:?}: give six hex pairs, e.g. 02:42:ac:11:00:02"
        ))
    };
    let parts: Vec<u8> = s
        .split(':')
        .map(|p| {
            (p.len() == 2)
                .then(|| u8::from_str_radix(p, 16).ok())
                .flatten()
        })
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    parts.try_into().map_err(|_| bad())
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

fn sysctl(path: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|v| v.trim() == "1") {
        return Ok(());
    }
    std::fs::write(path, "1").map_err(|e| EngineError::io_path("cannot set", Path::new(path), e))
}

/// The root's network lock: setups and teardowns take turns.
fn lock(layout: &Layout) -> Result<FileLock> {
    FileLock::acquire_within(
        &layout.locks_dir().join("network.lock"),
        "the networks of this engine root",
        crate::engine::lock::default_wait(),
    )
}

/// The bridge of `net`, made (with its address and sysctls) when missing; its index.
fn bridge(host: &mut Netlink, net: &NetworkRecord) -> Result<i32> {
    let index = host.ensure_bridge(&net.interface, MTU)?;
    host.add_address(index, net.gateway, net.subnet.prefix)?;
    sysctl(&format!(
        "/proc/sys/net/ipv4/conf/{}/route_localnet",
        net.interface
    ))?;
    Ok(index)
}

/// Attaches the container whose namespace is mounted at `netns` to each network of `atts`,
/// forwards `ports` to its first address; returns the endpoints with their MAC and name
/// server. On failure the caller tears down.
pub fn setup(
    state: &StateStore,
    layout: &Layout,
    netns: &Path,
    atts: &[Attachment<'_>],
    ports: &[Published],
) -> Result<Vec<Endpoint>> {
    let _lock = lock(layout)?;
    let ns = File::open(netns).map_err(|e| EngineError::io_path("cannot open", netns, e))?;
    let mut host = Netlink::open()?;
    let mut inside = Netlink::open_in(netns)?;
    // The firewall first (one batch, only when there is something to add): the elements of a
    // network whose bridge is still to be made, and the published ports.
    let mut elements = Vec::new();
    for a in atts {
        if host.index(&a.network.interface)?.is_none() {
            elements.extend(firewall::network_elements(a.network));
        }
    }
    if let Some(first) = atts.first() {
        elements.extend(firewall::port_elements(first.endpoint.ip, ports));
    }
    if !elements.is_empty() {
        firewall::add(&elements)?;
        phase("net: firewall elements added");
    }
    let mut out = Vec::new();
    let mut routed = false;
    for a in atts {
        let (net, ep) = (a.network, a.endpoint);
        let br = bridge(&mut host, net)?;
        let veth = host_veth(ep);
        host.delete_link(&veth)?;
        let mac = mac_for(ep.ip, a.mac.as_deref())?;
        host.add_veth(&veth, br, MTU, &ep.interface, &ns, mac)?;
        phase("net: veth made");
        let index = inside.index(&ep.interface)?.ok_or_else(|| {
            EngineError::Runtime(format!("{} did not appear in the container", ep.interface))
        })?;
        inside.add_address(index, ep.ip, ep.prefix)?;
        inside.set_up(index)?;
        if let (Some(gw), false) = (ep.gateway, routed) {
            inside.add_default_route(index, gw, ROUTE_MTU)?;
            routed = true;
        }
        phase("net: address and route set");
        if !net.internal {
            sysctl("/proc/sys/net/ipv4/ip_forward")?;
        }
        let mut done = ep.clone();
        done.mac = mac_text(mac);
        done.dns_server = net.dns.then_some(net.gateway);
        out.push(done);
    }
    for a in atts.iter().filter(|a| a.network.dns) {
        let on = state.read(|tx| NetworkStore::of(tx).endpoints_on(&a.network.id))?;
        dns::update(layout, a.network, &on)?;
    }
    Ok(out)
}

/// Undoes [`setup`] for `atts` (and the forwarding of `ports` to the first one's address).
/// The bridges stay while their networks exist ([`remove_network`]). With `ns_dies` (the
/// container is gone and nothing else is in its namespace) the veths are left to the kernel,
/// which deletes each pair with the namespace, off the caller's time. Best effort: every step
/// runs.
pub fn teardown(
    state: &StateStore,
    layout: &Layout,
    id: &str,
    atts: &[Attachment<'_>],
    ports: &[Published],
    ns_dies: bool,
) {
    let _lock = match lock(layout) {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!("container {id}: {e}");
            None
        }
    };
    if let (Some(first), false) = (atts.first(), ports.is_empty()) {
        firewall::remove(&firewall::port_elements(first.endpoint.ip, ports));
        phase("net: firewall elements removed");
    }
    // With nothing forwarding to it any more, the flows translated to the published ports'
    // address go, so that the next holder of a port gets the clients that go on sending. Only
    // then: the dump costs in proportion to the host's whole table (tens of milliseconds with
    // tens of thousands of entries), too much for every container's exit.
    if let (Some(first), false) = (atts.first(), ports.is_empty()) {
        if let Err(e) = super::conntrack::forget(first.endpoint.ip) {
            tracing::warn!("container {id}: {e}");
        }
        phase("net: tracked connections forgotten");
    }
    let mut host = if ns_dies {
        Err(EngineError::Runtime(String::new()))
    } else {
        Netlink::open()
    };
    for a in atts {
        let net = a.network;
        if let (Ok(h), false) = (host.as_mut(), ns_dies) {
            if let Err(e) = h.delete_link(&host_veth(a.endpoint)) {
                tracing::warn!("container {id}: {e}");
            }
            phase("net: veth deleted");
        }
        if net.dns {
            let others: Vec<Endpoint> = state
                .read(|tx| NetworkStore::of(tx).endpoints_on(&net.id))
                .unwrap_or_default()
                .into_iter()
                .filter(|e| e.container_id != id)
                .collect();
            if let Err(e) = dns::update(layout, net, &others) {
                tracing::warn!("network {}: {e}", net.name);
            }
        }
    }
}

/// Removes what network `net` has in the kernel (its bridge, its firewall elements, its DNS
/// file), when the network is removed. No container is on it.
pub fn remove_network(layout: &Layout, net: &NetworkRecord) -> Result<()> {
    let _lock = lock(layout)?;
    let mut host = Netlink::open()?;
    // Never used in this namespace: nothing to remove, and no table to make here.
    if host.index(&net.interface)?.is_some() {
        host.delete_link(&net.interface)?;
        firewall::remove(&firewall::network_elements(net));
    }
    if net.dns {
        dns::update(layout, net, &[])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_dockers_or_the_ones_asked_for() {
        let ip = Ipv4Addr::new(172, 17, 0, 2);
        assert_eq!(mac_text(mac_for(ip, None).unwrap()), "02:42:ac:11:00:02");
        let asked = mac_for(ip, Some("92:d0:c6:0a:29:33")).unwrap();
        assert_eq!(mac_text(asked), "92:d0:c6:0a:29:33");
        for bad in [
            "",
            "92:d0:c6:0a:29",
            "92:d0:c6:0a:29:33:00",
            "zz:d0:c6:0a:29:33",
        ] {
            assert!(mac_for(ip, Some(bad)).is_err(), "{bad}");
        }
    }
}
