//! The container's `/etc/hosts` and `/etc/resolv.conf`: `--add-host`, `--dns`, `--dns-search`
//! and `--dns-option`, checked at create (docker's wording) and written by the monitor before
//! each start.

use std::net::IpAddr;

use super::record::ContainerRecord;
use super::NetworkMode;
use crate::engine::error::{EngineError, Result};
use crate::engine::network::attach::EtcView;

fn invalid(flag: &str, value: &str, why: &str) -> EngineError {
    EngineError::InvalidInput(format!(
        "invalid argument {value:?} for \"--{flag}\" flag: {why}"
    ))
}

/// docker's special `--add-host` address: the host as the container reaches it.
pub const HOST_GATEWAY: &str = "host-gateway";

/// `--add-host HOST:IP` (or `HOST=IP`; an IPv6 address may be in brackets, or `host-gateway`);
/// returns `HOST:IP`.
pub fn parse_extra_host(value: &str) -> Result<String> {
    let (host, ip) = value
        .split_once('=')
        .or_else(|| value.split_once(':'))
        .ok_or_else(|| invalid("add-host", value, "use HOST:IP, e.g. db:127.0.0.1"))?;
    let ip_text = ip.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '#') {
        return Err(invalid(
            "add-host",
            value,
            "the host name is empty or invalid",
        ));
    }
    if ip_text == HOST_GATEWAY {
        // Resolved when the files are written: the gateway of the container's network.
        return Ok(format!("{host}:{HOST_GATEWAY}"));
    }
    let ip: IpAddr = ip_text.parse().map_err(|_| {
        invalid(
            "add-host",
            value,
            &format!("invalid IP address {ip_text:?}; use HOST:IP"),
        )
    })?;
    Ok(format!("{host}:{ip}"))
}

/// `--dns IP`.
pub fn check_dns(value: &str) -> Result<()> {
    value
        .parse::<IpAddr>()
        .map(|_| ())
        .map_err(|_| invalid("dns", value, &format!("{value} is not an ip address")))
}

/// `--dns-search DOMAIN` (`.` alone: no search domains).
pub fn check_dns_search(value: &str) -> Result<()> {
    if value == "." {
        return Ok(());
    }
    let d = value.strip_suffix('.').unwrap_or(value);
    let ok = !d.is_empty()
        && d.len() <= 255
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "dns-search",
            value,
            &format!("{value} is not a valid domain"),
        ))
    }
}

/// `--dns-option OPT` (as resolv.conf's `options`: one word, e.g. `ndots:2`).
pub fn check_dns_option(value: &str) -> Result<()> {
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        return Err(invalid(
            "dns-option",
            value,
            "an option is one word, e.g. ndots:2",
        ));
    }
    Ok(())
}

/// Refuses `--add-host NAME:host-gateway` with `--network none`: such a container has no way to
/// the host, so there is no address to write (docker writes its daemon's bridge address, which
/// the container cannot reach either).
pub fn check_host_gateway(extra_hosts: &[String], mode: &NetworkMode) -> Result<()> {
    let wanted = extra_hosts
        .iter()
        .find(|e| e.split_once(':').is_some_and(|(_, ip)| ip == HOST_GATEWAY));
    match (wanted, mode) {
        (Some(e), NetworkMode::None) => Err(EngineError::InvalidInput(format!(
            "invalid --add-host {e}: a container with --network none has no way to the host, \
             so host-gateway has no address; use another network mode or give the address \
             (NAME:IP)"
        ))),
        _ => Ok(()),
    }
}

/// The container's `/etc/hosts`: the host's with host networking, else localhost and the
/// container's own name (on its address when it has one), the `--link` entries; then the
/// `--add-host` entries. `host-gateway` is the gateway of the container's (first) network, the
/// host's address on that bridge, as in docker; with host networking the host is 127.0.0.1;
/// with `--network none` create refused it ([`check_host_gateway`]).
pub fn hosts(rec: &ContainerRecord, host_hosts: &str, net: &EtcView) -> String {
    let mut text = if rec.host_config.network_mode.is_host() {
        host_hosts.to_string()
    } else {
        let own = net
            .addresses
            .first()
            .map(|a| a.to_string())
            .unwrap_or_else(|| "127.0.1.1".into());
        format!(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{own}\t{}\n",
            rec.config.hostname
        )
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for (ip, names) in &net.links {
        text.push_str(&format!("{ip}\t{}\n", names.join(" ")));
    }
    for e in &rec.host_config.extra_hosts {
        // Stored as HOST:IP; the IP may hold colons, the host name cannot.
        if let Some((host, ip)) = e.split_once(':') {
            if ip != HOST_GATEWAY {
                text.push_str(&format!("{ip}\t{host}\n"));
            } else if rec.host_config.network_mode.is_host() {
                text.push_str(&format!("127.0.0.1\t{host}\n"));
            } else if let Some(gw) = net.gateway {
                text.push_str(&format!("{gw}\t{host}\n"));
            }
        }
    }
    text
}

/// Whether a `nameserver` line names a loopback address (useless in a namespace of its own).
fn loopback_server(l: &str) -> bool {
    let mut w = l.split_whitespace();
    w.next() == Some("nameserver")
        && w.next()
            .and_then(|a| a.parse::<IpAddr>().ok())
            .is_some_and(|a| a.is_loopback())
}

/// The container's `/etc/resolv.conf`: the host's, with its name servers, search domains and
/// options replaced by those given. On a bridge network, as docker: a user-defined network's
/// embedded DNS server replaces the host's name servers; on the default bridge the host's
/// loopback servers are dropped (Google's public ones when none is left).
pub fn resolv_conf(rec: &ContainerRecord, host_resolv: &str, net: &EtcView) -> String {
    let hc = &rec.host_config;
    let bridged = !net.addresses.is_empty();
    let embedded = bridged && !net.nameservers.is_empty() && hc.dns.is_empty();
    let replaced =
        |l: &str, key: &str, given: bool| given && l.split_whitespace().next() == Some(key);
    let mut out: Vec<String> = host_resolv
        .lines()
        .filter(|l| {
            let dropped = (bridged && loopback_server(l))
                || replaced(l, "nameserver", !hc.dns.is_empty() || embedded)
                || replaced(l, "search", !hc.dns_search.is_empty())
                || replaced(l, "domain", !hc.dns_search.is_empty())
                || replaced(l, "options", !hc.dns_options.is_empty());
            !dropped
        })
        .map(str::to_string)
        .collect();
    out.extend(hc.dns.iter().map(|d| format!("nameserver {d}")));
    if embedded {
        out.extend(net.nameservers.iter().map(|d| format!("nameserver {d}")));
    }
    if bridged && !out.iter().any(|l| l.starts_with("nameserver")) {
        out.push("nameserver 8.8.8.8".into());
        out.push("nameserver 8.8.4.4".into());
    }
    let search: Vec<&str> = hc
        .dns_search
        .iter()
        .map(String::as_str)
        .filter(|s| *s != ".")
        .collect();
    if !search.is_empty() {
        out.push(format!("search {}", search.join(" ")));
    }
    if !hc.dns_options.is_empty() {
        out.push(format!("options {}", hc.dns_options.join(" ")));
    }
    let mut text = out.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_checked_with_docker_words() {
        assert_eq!(parse_extra_host("db:127.0.0.2").unwrap(), "db:127.0.0.2");
        assert_eq!(parse_extra_host("v6=[::1]").unwrap(), "v6:::1");
        assert_eq!(
            parse_extra_host("gw:host-gateway").unwrap(),
            "gw:host-gateway"
        );
        for bad in ["db", "db:nope", ":127.0.0.1"] {
            assert!(parse_extra_host(bad).is_err(), "{bad}");
        }
        assert!(check_dns("1.2.3.4").is_ok());
        assert!(check_dns("resolver")
            .unwrap_err()
            .to_string()
            .contains("is not an ip address"));
        assert!(check_dns_search("example.com").is_ok() && check_dns_search(".").is_ok());
        assert!(check_dns_search("bad_domain!").is_err());
        assert!(check_dns_option("ndots:2").is_ok() && check_dns_option("a b").is_err());
    }

    #[test]
    fn bridged_containers_get_their_address_and_a_usable_resolver() {
        use std::net::Ipv4Addr;
        let mut rec: ContainerRecord = serde_json::from_value(serde_json::json!({
            "id": "a".repeat(64), "name": "web", "image": "i", "image_id": "", "lowers": [],
            "created": "2026-01-01T00:00:00Z",
            "config": {"Hostname": "web1", "User": "", "Env": [], "Cmd": ["x"],
                       "Entrypoint": [], "WorkingDir": "", "Image": "i"},
            "host_config": {"NetworkMode": "bridge", "Memory": 0, "NanoCpus": 0,
                            "PidsLimit": null, "CapAdd": [], "CapDrop": [],
                            "Privileged": false, "SecurityOpt": [], "AutoRemove": false},
            "state": {"status": "created", "pid": 0, "exit_code": 0, "started_at": null,
                      "finished_at": null, "oom_killed": false, "error": "",
                      "monitor_pid": 0, "monitor_start": 0}
        }))
        .unwrap();
        let host = "nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch lan\n";
        let none = EtcView::default();
        // Not bridged: the host's file as it is.
        assert_eq!(resolv_conf(&rec, host, &none), host);
        let bridge = EtcView {
            addresses: vec![Ipv4Addr::new(172, 17, 0, 2)],
            links: vec![(Ipv4Addr::new(172, 17, 0, 3), vec!["db".into(), "x".into()])],
            nameservers: vec![],
            gateway: Some(Ipv4Addr::new(172, 17, 0, 1)),
        };
        // The default bridge: loopback servers dropped.
        assert_eq!(
            resolv_conf(&rec, host, &bridge),
            "nameserver 10.0.0.2\nsearch lan\n"
        );
        // Only loopback servers: docker's public fallbacks.
        let only_lo = resolv_conf(&rec, "nameserver 127.0.0.1\n", &bridge);
        assert_eq!(only_lo, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        // A user network: its embedded server, unless --dns.
        let user = EtcView {
            nameservers: vec![Ipv4Addr::new(172, 18, 0, 1)],
            ..bridge.clone()
        };
        assert_eq!(
            resolv_conf(&rec, host, &user),
            "search lan\nnameserver 172.18.0.1\n"
        );
        rec.host_config.dns = vec!["9.9.9.9".into()];
        assert!(resolv_conf(&rec, host, &user).contains("nameserver 9.9.9.9"));
        assert!(!resolv_conf(&rec, host, &user).contains("172.18.0.1"));
        // host-gateway: the network's gateway; nothing without a network.
        rec.host_config.extra_hosts = vec!["gw:host-gateway".into(), "db:10.1.1.1".into()];
        let hosts_bridged = hosts(&rec, "", &bridge);
        assert!(hosts_bridged.ends_with("10.1.1.1\tdb\n"), "{hosts_bridged}");
        assert!(
            hosts_bridged.contains("172.17.0.1\tgw\n"),
            "{hosts_bridged}"
        );
        assert!(!hosts(&rec, "", &none).contains("gw"));
        let hosts = hosts(&rec, "", &bridge);
        assert!(hosts.contains("172.17.0.2\tweb1\n"), "{hosts}");
        assert!(hosts.contains("172.17.0.3\tdb x\n"), "{hosts}");
    }
}
