//! The few rtnetlink requests berth's network driver needs, over a raw `NETLINK_ROUTE` socket:
//! make a bridge, a veth pair whose peer is born in a container's namespace (named, addressed,
//! attached and up in one request), addresses, a default route, delete a link. A socket works
//! in the network namespace it was opened in ([`Netlink::open_in`] opens one in another).

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::engine::error::{EngineError, Result};

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_METRICS: u16 = 8;
const RTAX_MTU: u16 = 2;
const NLA_F_NESTED: u16 = 0x8000;
const IFF_UP: u32 = 1;

/// A request under construction: header, fixed part, attributes (nested ones by offset).
pub(super) struct Msg {
    buf: Vec<u8>,
}

impl Msg {
    pub(super) fn new(ty: u16, flags: u16) -> Msg {
        let mut buf = vec![0u8; 16];
        buf[4..6].copy_from_slice(&ty.to_ne_bytes());
        buf[6..8].copy_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        Msg { buf }
    }

    fn align(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    pub(super) fn raw(&mut self, bytes: &[u8]) -> &mut Msg {
        self.buf.extend_from_slice(bytes);
        self.align();
        self
    }

    /// `struct ifinfomsg` (AF_UNSPEC) with `flags` set in `change`.
    fn ifinfo(&mut self, index: i32, flags: u32) -> &mut Msg {
        let mut b = [0u8; 16];
        b[4..8].copy_from_slice(&index.to_ne_bytes());
        b[8..12].copy_from_slice(&flags.to_ne_bytes());
        b[12..16].copy_from_slice(&flags.to_ne_bytes());
        self.raw(&b)
    }

    pub(super) fn attr(&mut self, ty: u16, data: &[u8]) -> &mut Msg {
        let len = (4 + data.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.align();
        self
    }

    fn str_attr(&mut self, ty: u16, s: &str) -> &mut Msg {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.attr(ty, &v)
    }

    pub(super) fn begin(&mut self, ty: u16) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        at
    }

    pub(super) fn end(&mut self, at: usize) {
        let len = (self.buf.len() - at) as u16;
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
    }
}

/// An rtnetlink socket in one network namespace.
pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

fn nl_err(what: &str, e: std::io::Error) -> EngineError {
    EngineError::Runtime(format!("{what}: {e}"))
}

impl Netlink {
    /// A socket in the caller's network namespace.
    pub fn open() -> Result<Netlink> {
        Netlink::open_protocol(libc::NETLINK_ROUTE)
    }

    /// A netlink socket of `protocol` (`NETLINK_ROUTE`, `NETLINK_NETFILTER`…) in the caller's
    /// network namespace.
    pub(super) fn open_protocol(protocol: i32) -> Result<Netlink> {
        // SAFETY: plain socket(2); the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if fd < 0 {
            return Err(nl_err(
                "cannot open a netlink socket",
                std::io::Error::last_os_error(),
            ));
        }
        // SAFETY: `fd` is a new descriptor this function owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain data; all-zero is "the kernel".
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as u16;
        let len = std::mem::size_of::<libc::sockaddr_nl>() as u32;
        // SAFETY: binds and connects the socket to valid addresses of the right length.
        let ok = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&kernel as *const libc::sockaddr_nl).cast(),
                len,
            ) == 0
                && libc::connect(
                    fd.as_raw_fd(),
                    (&kernel as *const libc::sockaddr_nl).cast(),
                    len,
                ) == 0
        };
        if !ok {
            return Err(nl_err(
                "cannot bind a netlink socket",
                std::io::Error::last_os_error(),
            ));
        }
        Ok(Netlink { fd, seq: 0 })
    }

    /// A socket in the network namespace mounted at `netns` (opened on a thread that enters
    /// it, so the caller's namespace does not change).
    pub fn open_in(netns: &Path) -> Result<Netlink> {
        let ns = File::open(netns).map_err(|e| EngineError::io_path("cannot open", netns, e))?;
        std::thread::spawn(move || {
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
                EngineError::Runtime(format!("cannot enter the container's network: {e}"))
            })?;
            Netlink::open()
        })
        .join()
        .map_err(|_| EngineError::Runtime("the netlink thread panicked".into()))?
    }

    /// Sends `msg` and reads the answers up to the acknowledgement; `Err(errno)` on a refusal.
    pub(super) fn request(&mut self, mut msg: Msg) -> std::result::Result<Vec<Vec<u8>>, i32> {
        self.seq += 1;
        let len = msg.buf.len() as u32;
        msg.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        msg.buf[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        // SAFETY: the buffer is valid for its length; the socket is open.
        let sent = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                msg.buf.as_ptr().cast(),
                msg.buf.len(),
                0,
            )
        };
        if sent < 0 {
            return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(5));
        }
        let mut out = Vec::new();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            // SAFETY: receives into a buffer valid for its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e.raw_os_error().unwrap_or(5));
            }
            let mut off = 0usize;
            let n = n as usize;
            while off + 16 <= n {
                let mlen = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
                let ty = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
                let seq = u32::from_ne_bytes(buf[off + 8..off + 12].try_into().unwrap());
                if mlen < 16 || off + mlen > n {
                    return Err(libc::EPROTO);
                }
                let body = &buf[off + 16..off + mlen];
                off += (mlen + 3) & !3;
                if seq != self.seq {
                    continue;
                }
                match ty {
                    NLMSG_ERROR => {
                        let code = i32::from_ne_bytes(body[0..4].try_into().unwrap());
                        return if code == 0 { Ok(out) } else { Err(-code) };
                    }
                    NLMSG_DONE => return Ok(out),
                    _ => out.push(body.to_vec()),
                }
            }
        }
    }

    fn check(&mut self, what: &str, msg: Msg) -> Result<()> {
        self.request(msg)
            .map(|_| ())
            .map_err(|e| nl_err(what, std::io::Error::from_raw_os_error(e)))
    }

    /// The index of link `name`, `None` when there is none.
    pub fn index(&mut self, name: &str) -> Result<Option<i32>> {
        let mut m = Msg::new(RTM_GETLINK, 0);
        m.ifinfo(0, 0).str_attr(IFLA_IFNAME, name);
        match self.request(m) {
            Ok(answers) => Ok(answers
                .first()
                .filter(|a| a.len() >= 8)
                .map(|a| i32::from_ne_bytes(a[4..8].try_into().unwrap()))),
            Err(libc::ENODEV) => Ok(None),
            Err(e) => Err(nl_err(
                &format!("cannot look up interface {name}"),
                std::io::Error::from_raw_os_error(e),
            )),
        }
    }

    /// Makes bridge `name` (up) unless it exists; returns its index.
    pub fn ensure_bridge(&mut self, name: &str, mtu: u32) -> Result<i32> {
        if let Some(i) = self.index(name)? {
            return Ok(i);
        }
        let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        m.ifinfo(0, IFF_UP)
            .str_attr(IFLA_IFNAME, name)
            .attr(IFLA_MTU, &mtu.to_ne_bytes());
        let info = m.begin(IFLA_LINKINFO);
        m.str_attr(IFLA_INFO_KIND, "bridge");
        m.end(info);
        match self.request(m) {
            Ok(_) | Err(libc::EEXIST) => {}
            Err(e) => {
                return Err(nl_err(
                    &format!("cannot create bridge {name}"),
                    std::io::Error::from_raw_os_error(e),
                ))
            }
        }
        self.index(name)?
            .ok_or_else(|| EngineError::Runtime(format!("bridge {name} vanished as it was made")))
    }

    /// Makes veth pair `host` (attached to bridge `master`, up) and `peer`, born in the
    /// namespace `peer_ns` with MAC `mac` (down: see [`Netlink::set_up`]).
    pub fn add_veth(
        &mut self,
        host: &str,
        master: i32,
        mtu: u32,
        peer: &str,
        peer_ns: &File,
        mac: [u8; 6],
    ) -> Result<()> {
        let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        m.ifinfo(0, IFF_UP)
            .str_attr(IFLA_IFNAME, host)
            .attr(IFLA_MTU, &mtu.to_ne_bytes())
            .attr(IFLA_MASTER, &(master as u32).to_ne_bytes());
        let info = m.begin(IFLA_LINKINFO);
        m.str_attr(IFLA_INFO_KIND, "veth");
        let data = m.begin(IFLA_INFO_DATA);
        let p = m.begin(VETH_INFO_PEER);
        // Not up here: the kernel opens a peer before the pair is joined (ENOTCONN).
        m.ifinfo(0, 0)
            .str_attr(IFLA_IFNAME, peer)
            .attr(IFLA_MTU, &mtu.to_ne_bytes())
            .attr(IFLA_ADDRESS, &mac)
            .attr(IFLA_NET_NS_FD, &(peer_ns.as_raw_fd() as u32).to_ne_bytes());
        m.end(p);
        m.end(data);
        m.end(info);
        self.check(&format!("cannot create the veth pair {host}"), m)
    }

    /// Brings link `index` up.
    pub fn set_up(&mut self, index: i32) -> Result<()> {
        let mut m = Msg::new(RTM_NEWLINK, 0);
        m.ifinfo(index, IFF_UP);
        self.check("cannot bring an interface up", m)
    }

    /// Adds `ip/prefix` to link `index` (present already: fine).
    pub fn add_address(&mut self, index: i32, ip: Ipv4Addr, prefix: u8) -> Result<()> {
        let mut m = Msg::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        let mut head = [0u8; 8];
        head[0] = libc::AF_INET as u8;
        head[1] = prefix;
        head[4..8].copy_from_slice(&(index as u32).to_ne_bytes());
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        let bcast = Ipv4Addr::from(u32::from(ip) | !mask);
        m.raw(&head)
            .attr(IFA_LOCAL, &ip.octets())
            .attr(IFA_ADDRESS, &ip.octets())
            .attr(IFA_BROADCAST, &bcast.octets());
        match self.request(m) {
            Ok(_) | Err(libc::EEXIST) => Ok(()),
            Err(e) => Err(nl_err(
                &format!("cannot add address {ip}/{prefix}"),
                std::io::Error::from_raw_os_error(e),
            )),
        }
    }

    /// Adds a default route through `gateway` on link `index` with path MTU `mtu` (one there
    /// already stays).
    pub fn add_default_route(&mut self, index: i32, gateway: Ipv4Addr, mtu: u32) -> Result<()> {
        let mut m = Msg::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
        // family, dst_len, src_len, tos, table (main), protocol (boot), scope, type (unicast).
        let mut head = [0u8; 12];
        head[0] = libc::AF_INET as u8;
        head[4] = 254;
        head[5] = 3;
        head[7] = 1;
        m.raw(&head)
            .attr(RTA_GATEWAY, &gateway.octets())
            .attr(RTA_OIF, &(index as u32).to_ne_bytes());
        let metrics = m.begin(RTA_METRICS);
        m.attr(RTAX_MTU, &mtu.to_ne_bytes());
        m.end(metrics);
        match self.request(m) {
            Ok(_) | Err(libc::EEXIST) => Ok(()),
            Err(e) => Err(nl_err(
                &format!("cannot add a default route via {gateway}"),
                std::io::Error::from_raw_os_error(e),
            )),
        }
    }

    /// Deletes link `name`; a missing link is not an error.
    pub fn delete_link(&mut self, name: &str) -> Result<()> {
        let mut m = Msg::new(RTM_DELLINK, 0);
        m.ifinfo(0, 0).str_attr(IFLA_IFNAME, name);
        match self.request(m) {
            Ok(_) | Err(libc::ENODEV) => Ok(()),
            Err(e) => Err(nl_err(
                &format!("cannot delete interface {name}"),
                std::io::Error::from_raw_os_error(e),
            )),
        }
    }
}
