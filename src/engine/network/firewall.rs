//! berth's firewall rules, all in its own nftables table `ip berth`: static chains whose rules
//! only look things up in sets and maps, and elements in those sets and maps for each network
//! (its bridge, its subnet) and each published port. A container's elements are added in one
//! atomic `nft -f -` batch with the table's definition (idempotent: `add` of what exists is a
//! no-op, the static chains are flushed and filled again) and removed in one batch that adds
//! then deletes each element, so a teardown succeeds whether or not they are still there.
//!
//! ```text
//! table ip berth
//!   set bridges   ifname              every berth bridge
//!   set internal  ifname              bridges of --internal networks (nothing forwarded)
//!   set own       ifname . ifname     each bridge paired with itself (hairpin through the host)
//!   set nets      ipv4_addr interval  subnets with outbound access (masqueraded)
//!   map anyports  proto . port          : container ip . port   (-p on every address)
//!   map addrports host ip . proto . port : container ip . port  (-p IP:…)
//!   chain prerouting/output (nat)  local destination -> jump ports (DNAT through the maps)
//!   chain postrouting (nat)        masquerade: DNAT from loopback, hairpin, outbound of @nets
//!   chain forward (filter)         drop in/out of @internal; drop from one berth bridge to
//!                                  another unless DNAT made it (a published port); accept
//!                                  replies and berth's bridges
//! ```
//!
//! Networks are isolated from each other as docker's are: a container reaches another network
//! only through a port published on the host, not by the other container's address. Traffic
//! within one bridge never reaches this hook (it is switched), except a hairpin through the
//! host's address, which leaves by the bridge it came in on (`@own`).

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use super::ports::Published;
use super::record::NetworkRecord;
use crate::engine::error::{EngineError, Result};

/// The table's name (family `ip`).
pub const TABLE: &str = "berth";

const DEFINITION: &str = "\
add table ip berth
add set ip berth bridges { type ifname; }
add set ip berth internal { type ifname; }
add set ip berth own { type ifname . ifname; }
add set ip berth nets { type ipv4_addr; flags interval; }
add map ip berth anyports { type inet_proto . inet_service : ipv4_addr . inet_service; }
add map ip berth addrports { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
add chain ip berth ports
add chain ip berth prerouting { type nat hook prerouting priority dstnat; policy accept; }
add chain ip berth output { type nat hook output priority -100; policy accept; }
add chain ip berth postrouting { type nat hook postrouting priority srcnat; policy accept; }
add chain ip berth forward { type filter hook forward priority filter; policy accept; }
flush chain ip berth ports
flush chain ip berth prerouting
flush chain ip berth output
flush chain ip berth postrouting
flush chain ip berth forward
add rule ip berth ports dnat ip to ip daddr . meta l4proto . th dport map @addrports
add rule ip berth ports dnat ip to meta l4proto . th dport map @anyports
add rule ip berth prerouting fib daddr type local jump ports
add rule ip berth output fib daddr type local jump ports
add rule ip berth postrouting ct status dnat ip saddr 127.0.0.0/8 masquerade
add rule ip berth postrouting ct status dnat iifname @bridges oifname @bridges masquerade
add rule ip berth postrouting ip saddr @nets oifname != @bridges masquerade
add rule ip berth forward iifname @internal drop
add rule ip berth forward oifname @internal drop
add rule ip berth forward iifname @bridges oifname @bridges iifname . oifname != @own ct status & dnat == 0 drop
add rule ip berth forward oifname @bridges ct state established,related accept
add rule ip berth forward iifname @bridges accept
";

/// One element of the table's sets and maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element(String);

impl Element {
    fn new(set: &str, value: String) -> Element {
        Element(format!("element ip {TABLE} {set} {{ {value} }}"))
    }
}

/// The elements of network `net` (while a container is on it).
pub fn network_elements(net: &NetworkRecord) -> Vec<Element> {
    let br = format!("\"{}\"", net.interface);
    let mut out = vec![
        Element::new("bridges", br.clone()),
        Element::new("own", format!("{br} . {br}")),
    ];
    if net.internal {
        out.push(Element::new("internal", br));
    } else {
        out.push(Element::new("nets", net.subnet.to_string()));
    }
    out
}

/// The elements forwarding `ports` to a container at `ip`.
pub fn port_elements(ip: Ipv4Addr, ports: &[Published]) -> Vec<Element> {
    ports
        .iter()
        .map(|p| {
            let target = format!("{ip} . {}", p.container_port);
            if p.host_ip == "0.0.0.0" || p.host_ip.is_empty() {
                Element::new(
                    "anyports",
                    format!("{} . {} : {target}", p.proto, p.host_port),
                )
            } else {
                Element::new(
                    "addrports",
                    format!("{} . {} . {} : {target}", p.host_ip, p.proto, p.host_port),
                )
            }
        })
        .collect()
}

fn nft(script: &str) -> Result<()> {
    let mut cmd = Command::new("nft");
    // A batch started by a monitor that is killed must not land after the teardown `rm -f`
    // runs: nft dies with its monitor.
    die_with_parent(&mut cmd);
    let mut child = cmd
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            EngineError::Runtime(format!(
                "cannot run nft ({e}): bridge networking needs nftables (Debian: apt-get install \
                 nftables), or run the container with --network none or host"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(script.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| EngineError::Runtime(format!("cannot run nft: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(EngineError::Runtime(format!(
        "cannot program berth's firewall table: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// The table (made or refreshed) and `elements`, in one atomic batch.
pub fn add(elements: &[Element]) -> Result<()> {
    let mut script = String::from(DEFINITION);
    for e in elements {
        script.push_str(&format!("add {}\n", e.0));
    }
    nft(&script)
}

fn removal(elements: &[Element]) -> String {
    // The definition first, so that the batch holds even where the table is gone.
    let mut script = String::from(DEFINITION);
    for e in elements {
        script.push_str(&format!("add {0}\ndelete {0}\n", e.0));
    }
    script
}

/// Removes `elements` in one batch; when that fails (an element of the same key now maps
/// elsewhere: another container took the port), each one on its own. Best effort.
pub fn remove(elements: &[Element]) {
    if elements.is_empty() || nft(&removal(elements)).is_ok() {
        return;
    }
    for e in elements {
        if let Err(err) = nft(&removal(std::slice::from_ref(e))) {
            tracing::warn!("{err}");
        }
    }
}

/// Makes the child `cmd` starts get SIGKILL when the thread that started it ends.
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: runs in the forked child before exec and calls only prctl and getppid, which are
    // async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent died before the prctl: do not run an orphan setup.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_become_map_elements() {
        let p = |host_ip: &str, proto: &str| Published {
            host_ip: host_ip.into(),
            host_port: 8000,
            proto: proto.into(),
            container_port: 80,
        };
        let els = port_elements(
            Ipv4Addr::new(172, 17, 0, 2),
            &[p("0.0.0.0", "tcp"), p("127.0.0.1", "udp")],
        );
        assert_eq!(
            els[0].0,
            "element ip berth anyports { tcp . 8000 : 172.17.0.2 . 80 }"
        );
        assert_eq!(
            els[1].0,
            "element ip berth addrports { 127.0.0.1 . udp . 8000 : 172.17.0.2 . 80 }"
        );
        let r = removal(&els[..1]);
        assert!(r.starts_with("add table ip berth\n"), "{r}");
        assert!(
            r.ends_with(&format!("add {0}\ndelete {0}\n", els[0].0)),
            "{r}"
        );
    }

    /// A child started through `die_with_parent` is killed when the thread that started it
    /// ends, as an nft batch is when its monitor is killed.
    #[test]
    fn a_child_dies_with_the_thread_that_started_it() {
        let pid = std::thread::spawn(|| {
            let mut cmd = Command::new("sleep");
            cmd.arg("30");
            die_with_parent(&mut cmd);
            let child = cmd.spawn().expect("sleep");
            let pid = child.id();
            // Not waited for: the thread ends with the child still running.
            std::mem::forget(child);
            pid
        })
        .join()
        .unwrap();
        let pid = nix::unistd::Pid::from_raw(pid as i32);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let status = loop {
            match nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
                Ok(nix::sys::wait::WaitStatus::StillAlive) => {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "the child outlived its thread"
                    );
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other.unwrap(),
            }
        };
        assert_eq!(
            status,
            nix::sys::wait::WaitStatus::Signaled(pid, nix::sys::signal::Signal::SIGKILL, false)
        );
    }
}
