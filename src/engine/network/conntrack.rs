//! Forgetting a container's connections in the kernel's connection tracking table when its
//! network goes down, as docker does: a flow that is still tracked keeps the address it was
//! first translated to, so a client that goes on sending UDP to a published port (a DNS or
//! syslog client, whose entry each packet refreshes) would otherwise reach the old container's
//! address for as long as it sends, never the container that publishes the port next; and a
//! container that later gets the same address would receive replies meant for the old one.
//!
//! Over a `NETLINK_NETFILTER` socket in the caller's namespace (where the NAT happened): a dump
//! of the table (`IPCTNL_MSG_CT_GET`), then one `IPCTNL_MSG_CT_DELETE` per entry whose original
//! source or reply source is the address, naming it by its original tuple (and zone).

use std::net::Ipv4Addr;

use super::netlink::{Msg, Netlink};
use crate::engine::error::Result;

const NFNL_SUBSYS_CTNETLINK: u16 = 1;
const IPCTNL_MSG_CT_GET: u16 = 1;
const IPCTNL_MSG_CT_DELETE: u16 = 2;
const NLM_F_DUMP: u16 = 0x300;
const CTA_TUPLE_ORIG: u16 = 1;
const CTA_TUPLE_REPLY: u16 = 2;
const CTA_ZONE: u16 = 18;
const CTA_TUPLE_IP: u16 = 1;
const CTA_IP_V4_SRC: u16 = 1;
/// The type bits of an attribute (without the nested and byte-order flags).
const NLA_TYPE_MASK: u16 = 0x3fff;

/// `struct nfgenmsg` for IPv4: family, version 0, resource id 0.
const NFGEN_INET: [u8; 4] = [libc::AF_INET as u8, 0, 0, 0];

/// The attributes in `buf`: (type, the whole attribute, its payload).
fn attrs(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8], &[u8])> {
    let mut off = 0usize;
    std::iter::from_fn(move || {
        if off + 4 > buf.len() {
            return None;
        }
        let len = u16::from_ne_bytes([buf[off], buf[off + 1]]) as usize;
        let ty = u16::from_ne_bytes([buf[off + 2], buf[off + 3]]) & NLA_TYPE_MASK;
        if len < 4 || off + len > buf.len() {
            return None;
        }
        let item = (ty, &buf[off..off + len], &buf[off + 4..off + len]);
        off += (len + 3) & !3;
        Some(item)
    })
}

fn find(buf: &[u8], ty: u16) -> Option<(&[u8], &[u8])> {
    attrs(buf)
        .find(|(t, _, _)| *t == ty)
        .map(|(_, whole, payload)| (whole, payload))
}

/// The IPv4 source address of a tuple attribute's payload.
fn tuple_source(tuple: &[u8]) -> Option<Ipv4Addr> {
    let (_, ip) = find(tuple, CTA_TUPLE_IP)?;
    let (_, src) = find(ip, CTA_IP_V4_SRC)?;
    <[u8; 4]>::try_from(src).ok().map(Ipv4Addr::from)
}

/// What names one entry of a dump for a delete (its original tuple and zone, as attributes),
/// when its original or reply source is `ip`.
fn matching(entry: &[u8], ip: Ipv4Addr) -> Option<Vec<u8>> {
    let body = entry.get(NFGEN_INET.len()..)?;
    let (orig_whole, orig) = find(body, CTA_TUPLE_ORIG)?;
    let reply_src = find(body, CTA_TUPLE_REPLY).and_then(|(_, r)| tuple_source(r));
    if tuple_source(orig) != Some(ip) && reply_src != Some(ip) {
        return None;
    }
    let mut key = Vec::new();
    let zone = find(body, CTA_ZONE).map(|(whole, _)| whole);
    for attr in std::iter::once(orig_whole).chain(zone) {
        key.extend_from_slice(attr);
        // Attributes start at 4-byte boundaries.
        key.resize(key.len().next_multiple_of(4), 0);
    }
    Some(key)
}

/// Deletes every tracked IPv4 connection from or to `ip` in the caller's namespace; returns
/// how many. An entry that expired between the dump and its delete is no error.
pub fn forget(ip: Ipv4Addr) -> Result<usize> {
    let mut nl = Netlink::open_protocol(libc::NETLINK_NETFILTER)?;
    let mut dump = Msg::new((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET, NLM_F_DUMP);
    dump.raw(&NFGEN_INET);
    let entries = nl.request(dump).map_err(|e| {
        crate::engine::EngineError::io(
            "cannot read the connection tracking table",
            std::io::Error::from_raw_os_error(e),
        )
    })?;
    let keys: Vec<Vec<u8>> = entries.iter().filter_map(|e| matching(e, ip)).collect();
    let mut done = 0;
    for key in keys {
        let mut del = Msg::new((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE, 0);
        del.raw(&NFGEN_INET).raw(&key);
        match nl.request(del) {
            Ok(_) => done += 1,
            Err(libc::ENOENT) => {}
            Err(e) => {
                return Err(crate::engine::EngineError::io(
                    "cannot delete a connection tracking entry",
                    std::io::Error::from_raw_os_error(e),
                ))
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = ((4 + payload.len()) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(payload);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
        v
    }

    fn tuple(ty: u16, src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let ip = [attr(1, &src), attr(2, &dst)].concat();
        // The proto part, opaque here: carried over as it came.
        let proto = [attr(1, &[17]), attr(2, &41000u16.to_be_bytes())].concat();
        attr(
            ty | 0x8000,
            &[attr(1 | 0x8000, &ip), attr(2 | 0x8000, &proto)].concat(),
        )
    }

    #[test]
    fn entries_from_or_to_the_address_are_named_by_their_original_tuple() {
        let container = Ipv4Addr::new(10, 83, 0, 10);
        // A client's flow to a published port, DNATed: the reply comes from the container.
        let orig = tuple(CTA_TUPLE_ORIG, [192, 0, 2, 2], [192, 0, 2, 1]);
        let zone = attr(CTA_ZONE, &0u16.to_be_bytes());
        let entry = [
            NFGEN_INET.to_vec(),
            orig.clone(),
            tuple(CTA_TUPLE_REPLY, [10, 83, 0, 10], [192, 0, 2, 2]),
            zone.clone(),
        ]
        .concat();
        assert_eq!(
            matching(&entry, container),
            Some([orig, zone].concat()),
            "the DNATed flow"
        );
        // The container's own outbound flow.
        let out = [
            NFGEN_INET.to_vec(),
            tuple(CTA_TUPLE_ORIG, [10, 83, 0, 10], [192, 0, 2, 2]),
            tuple(CTA_TUPLE_REPLY, [192, 0, 2, 2], [192, 0, 2, 1]),
        ]
        .concat();
        assert!(matching(&out, container).is_some());
        // Another container's flow, and garbage.
        assert_eq!(matching(&entry, Ipv4Addr::new(10, 83, 0, 11)), None);
        assert_eq!(matching(&[2, 0, 0, 0, 255, 255], container), None);
        assert_eq!(matching(&[], container), None);
    }
}
