//! Driving netavark (podman's network tool) through its JSON plugin interface: `netavark
//! --config DIR [--aardvark-binary A] setup|teardown NETNS` with the network options on stdin;
//! `setup` answers one status block per network (interfaces, addresses, MACs, DNS servers).
//! The shapes are netavark's `NetworkOptions`/`Network`/`StatusBlock` (1.4); the fields berth
//! does not use are left out.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::ports::Published;
use super::record::{Endpoint, NetworkRecord};
use crate::engine::container::cleanup;
use crate::engine::error::{EngineError, Result};
use crate::engine::lock::FileLock;
use crate::engine::Layout;

#[derive(Serialize)]
struct Subnet {
    subnet: String,
    gateway: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    lease_range: Option<LeaseRange>,
}

#[derive(Serialize)]
struct LeaseRange {
    start_ip: String,
    end_ip: String,
}

#[derive(Serialize)]
struct Network {
    name: String,
    id: String,
    driver: String,
    network_interface: String,
    subnets: Vec<Subnet>,
    ipv6_enabled: bool,
    internal: bool,
    dns_enabled: bool,
    ipam_options: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct PerNetwork {
    interface_name: String,
    static_ips: Vec<String>,
    aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    static_mac: Option<String>,
}

#[derive(Serialize)]
struct PortMapping {
    host_ip: String,
    container_port: u16,
    host_port: u16,
    range: u16,
    protocol: String,
}

#[derive(Serialize)]
struct Options {
    container_id: String,
    container_name: String,
    port_mappings: Vec<PortMapping>,
    networks: BTreeMap<String, PerNetwork>,
    network_info: BTreeMap<String, Network>,
}

#[derive(Debug, Deserialize)]
pub struct Address {
    pub ipnet: String,
    #[serde(default)]
    pub gateway: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Interface {
    pub mac_address: String,
    #[serde(default)]
    pub subnets: Option<Vec<Address>>,
}

/// What `setup` reports for one network.
#[derive(Debug, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub dns_server_ips: Option<Vec<String>>,
    #[serde(default)]
    pub interfaces: Option<BTreeMap<String, Interface>>,
}

/// One container's place on one network, as netavark needs it.
pub struct Attachment<'a> {
    pub network: &'a NetworkRecord,
    pub endpoint: &'a Endpoint,
    pub mac: Option<String>,
}

fn find_binary(env: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let mut dirs: Vec<PathBuf> = [
        "/usr/libexec/podman",
        "/usr/lib/podman",
        "/usr/local/libexec/podman",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// netavark's binary (`$BERTH_NETAVARK`, podman's libexec directories, `PATH`).
pub fn binary() -> Result<PathBuf> {
    find_binary("BERTH_NETAVARK", "netavark").ok_or_else(|| {
        EngineError::Runtime(
            "netavark is not installed: bridge networking needs it (Debian: apt-get install \
             netavark aardvark-dns), or run the container with --network none or host"
                .into(),
        )
    })
}

/// netavark's state directory for an engine root (aardvark-dns's configuration lives there).
pub fn config_dir(layout: &Layout) -> PathBuf {
    cleanup::runtime_root(layout, "").join("netavark")
}

fn options(id: &str, name: &str, attachments: &[Attachment<'_>], ports: &[Published]) -> Options {
    let mut networks = BTreeMap::new();
    let mut network_info = BTreeMap::new();
    for a in attachments {
        let n = a.network;
        networks.insert(
            n.name.clone(),
            PerNetwork {
                interface_name: a.endpoint.interface.clone(),
                static_ips: vec![a.endpoint.ip.to_string()],
                aliases: if n.dns {
                    a.endpoint.aliases.clone()
                } else {
                    vec![]
                },
                static_mac: a.mac.clone(),
            },
        );
        let lease_range = n.ip_range.map(|r| LeaseRange {
            start_ip: Ipv4Addr::from(r.first().max(n.subnet.first() + 1)).to_string(),
            end_ip: Ipv4Addr::from(r.last().min(n.subnet.last() - 1)).to_string(),
        });
        network_info.insert(
            n.name.clone(),
            Network {
                name: n.name.clone(),
                id: n.id.clone(),
                driver: "bridge".into(),
                network_interface: n.interface.clone(),
                subnets: vec![Subnet {
                    subnet: n.subnet.to_string(),
                    gateway: n.gateway.to_string(),
                    lease_range,
                }],
                ipv6_enabled: false,
                internal: n.internal,
                dns_enabled: n.dns,
                ipam_options: BTreeMap::from([("driver".into(), "host-local".into())]),
            },
        );
    }
    Options {
        container_id: id.to_string(),
        container_name: name.to_string(),
        port_mappings: ports
            .iter()
            .map(|p| PortMapping {
                host_ip: if p.host_ip == "0.0.0.0" {
                    String::new()
                } else {
                    p.host_ip.clone()
                },
                container_port: p.container_port,
                host_port: p.host_port,
                range: 1,
                protocol: p.proto.clone(),
            })
            .collect(),
        networks,
        network_info,
    }
}

fn run(layout: &Layout, verb: &str, id: &str, netns: &Path, opts: &Options) -> Result<String> {
    let bin = binary()?;
    let config = config_dir(layout);
    cleanup::create_runtime_root(layout, "")?;
    crate::engine::layout::create_private_dir(&config)
        .map_err(|e| EngineError::io_path("cannot create", &config, e))?;
    // One netavark run at a time per container. And netavark dies with the process that runs
    // it: a setup left running by a monitor killed by `rm -f` would otherwise finish after that
    // `rm -f`'s teardown, and its DNS entry (and the aardvark-dns serving it) would outlive the
    // container.
    let _lock = FileLock::acquire_within(
        &layout.locks_dir().join(format!("{id}.net")),
        &format!("the network of container {id}"),
        crate::engine::lock::default_wait(),
    )?;
    let mut cmd = Command::new(&bin);
    die_with_parent(&mut cmd);
    cmd.arg("--config").arg(&config);
    if let Some(a) = find_binary("BERTH_AARDVARK", "aardvark-dns") {
        cmd.arg("--aardvark-binary").arg(a);
    }
    cmd.arg(verb)
        .arg(netns)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| EngineError::io_path("cannot run", &bin, e))?;
    let input = serde_json::to_vec(opts)?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&input);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| EngineError::io_path("cannot run", &bin, e))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        return Ok(stdout);
    }
    // netavark reports `{"error": "..."}` on stdout; syslog noise goes to stderr.
    let message = serde_json::from_str::<serde_json::Value>(&stdout)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or_else(|| {
            let stderr = String::from_utf8_lossy(&out.stderr);
            format!("{} {}", stdout.trim(), stderr.trim())
                .trim()
                .to_string()
        });
    Err(EngineError::Runtime(format!(
        "network {verb} failed (netavark): {message}"
    )))
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

/// Sets up the interfaces, routes, firewall rules, DNS entries and port forwarding of
/// `attachments` in namespace `netns`; returns netavark's status per network name.
pub fn setup(
    layout: &Layout,
    netns: &Path,
    id: &str,
    name: &str,
    attachments: &[Attachment<'_>],
    ports: &[Published],
) -> Result<BTreeMap<String, Status>> {
    let out = run(
        layout,
        "setup",
        id,
        netns,
        &options(id, name, attachments, ports),
    )?;
    serde_json::from_str(&out).map_err(|e| {
        EngineError::Runtime(format!(
            "netavark answered what berth cannot read ({e}): {out}"
        ))
    })
}

/// Undoes [`setup`] for `attachments` (and the port forwarding of `ports`).
pub fn teardown(
    layout: &Layout,
    netns: &Path,
    id: &str,
    name: &str,
    attachments: &[Attachment<'_>],
    ports: &[Published],
) -> Result<()> {
    run(
        layout,
        "teardown",
        id,
        netns,
        &options(id, name, attachments, ports),
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child started through `die_with_parent` is killed when the thread that started it
    /// ends, as a netavark setup is when its monitor is killed.
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
