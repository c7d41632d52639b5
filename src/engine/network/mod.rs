//! Container networking: the default `bridge` network and user-defined bridge networks, each
//! container's network namespace, addresses (IPAM in `state.db`), published ports, names.
//!
//! The kernel side is berth's own driver ([`driver`]): bridges, veth pairs, addresses and
//! routes over rtnetlink ([`netlink`]), NAT, port forwarding and isolation in nftables table
//! `ip berth` ([`firewall`]); names on user networks are answered by aardvark-dns ([`dns`]).
//! See docs/ARCHITECTURE.md.

pub mod api;
pub mod attach;
pub mod conntrack;
pub mod dns;
pub mod driver;
pub mod firewall;
pub mod ipam;
pub mod links;
pub mod netlink;
pub mod netns;
pub mod ops;
pub mod orphans;
pub mod ports;
pub mod record;
#[cfg(test)]
mod remove_tests;
pub(crate) mod store;
pub mod summary;

pub use record::{Endpoint, EndpointConfig, NetworkRecord};

/// The name of the default network.
pub const DEFAULT_BRIDGE: &str = "bridge";

/// The network a container joins when `--network` is not given: `bridge`, unless the engine
/// setting `BERTH_DEFAULT_NETWORK` names another mode (the test suite pins it to `none`, so
/// that tests outside a network namespace of their own never touch the host's network).
pub fn default_mode() -> String {
    std::env::var("BERTH_DEFAULT_NETWORK")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_BRIDGE.to_string())
}
