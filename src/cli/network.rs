//! Network commands: `network create | ls | inspect | rm | prune | connect | disconnect`, and
//! `port`.

use std::io::Write;

use clap::{Args, Subcommand};

use super::format::Format;
use super::Cli;
use crate::engine::compat::network::{NetworkRow, NETWORK_HEADERS};
use crate::engine::network::ops::CreateNetwork;
use crate::engine::network::{EndpointConfig, NetworkRecord};
use crate::engine::{Engine, EngineError};

/// Network commands (flattened into the top level as `network …`).
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Manage networks
    #[command(subcommand)]
    Network(NetworkSub),
}

/// `berth network …`.
#[derive(Debug, Subcommand)]
pub enum NetworkSub {
    /// Create a network
    Create(CreateArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove all unused networks
    Prune(PruneArgs),
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Driver to manage the network (only bridge)
    #[arg(short = 'd', long, default_value = "bridge")]
    pub driver: String,
    /// Subnet in CIDR format, e.g. 172.30.0.0/16
    #[arg(long)]
    pub subnet: Option<String>,
    /// IPv4 gateway for the subnet
    #[arg(long)]
    pub gateway: Option<String>,
    /// Allocate container addresses from a sub-range (CIDR)
    #[arg(long = "ip-range")]
    pub ip_range: Option<String>,
    /// Restrict external access to the network
    #[arg(long)]
    pub internal: bool,
    /// Set metadata on a network (KEY=VALUE)
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Network name
    pub name: String,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display network IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Format: table (default), json, or a Go template ('{{.Name}}')
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Filter: name=, id=, driver=, label=KEY[=VALUE], type=custom|builtin
    #[arg(short, long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format the output: json (default) or a Go template
    #[arg(short, long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Networks (names or ids)
    #[arg(required = true)]
    pub networks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Do not error if the network does not exist
    #[arg(short, long)]
    pub force: bool,
    /// Networks (names or ids)
    #[arg(required = true)]
    pub networks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long = "alias")]
    pub aliases: Vec<String>,
    /// IPv4 address (e.g. 172.30.100.104)
    #[arg(long)]
    pub ip: Option<String>,
    /// Network (name or id)
    pub network: String,
    /// Container (name or id)
    pub container: String,
}

#[derive(Debug, Args)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short, long)]
    pub force: bool,
    /// Network (name or id)
    pub network: String,
    /// Container (name or id)
    pub container: String,
}

/// `port CONTAINER [PRIVATE_PORT[/PROTO]]`.
#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    /// Container name or id
    pub container: String,
    /// Only this container port (`80`, `53/udp`)
    pub port: Option<String>,
}

pub async fn run(cli: &Cli, cmd: &NetworkCommand) -> anyhow::Result<i32> {
    let engine = cli.engine()?;
    let NetworkCommand::Network(sub) = cmd;
    match sub {
        NetworkSub::Create(a) => {
            let n = engine
                .network_create(CreateNetwork {
                    name: a.name.clone(),
                    driver: Some(a.driver.clone()),
                    subnet: a.subnet.clone(),
                    gateway: a.gateway.clone(),
                    ip_range: a.ip_range.clone(),
                    internal: a.internal,
                    labels: a.labels.clone(),
                })
                .await?;
            println!("{}", n.id);
            Ok(0)
        }
        NetworkSub::Ls(a) => ls(&engine, a).await,
        NetworkSub::Inspect(a) => {
            let format = Format::parse(a.format.as_deref())?;
            let mut found = Vec::new();
            let mut code = 0;
            for n in &a.networks {
                match engine.network_inspect(n.clone()).await {
                    Ok(v) => found.push(serde_json::to_value(v)?),
                    Err(e) => {
                        eprintln!("Error: {e}");
                        code = 1;
                    }
                }
            }
            print!("{}", super::inspect::print(&format, &found)?);
            Ok(code)
        }
        NetworkSub::Rm(a) => {
            let mut code = 0;
            for n in &a.networks {
                match engine.network_remove(n.clone()).await {
                    Ok(_) => println!("{n}"),
                    Err(EngineError::NotFound(_)) if a.force => {}
                    Err(e) => {
                        eprintln!("Error: {e}");
                        code = 1;
                    }
                }
            }
            Ok(code)
        }
        NetworkSub::Prune(a) => {
            if !a.force
                && !super::prompt::confirm(
                    "WARNING! This will remove all custom networks not used by at least one \
                     container.\nAre you sure you want to continue?",
                )?
            {
                eprintln!("Cancelled; no network was removed.");
                return Ok(0);
            }
            let removed = engine.network_prune().await?;
            if !removed.is_empty() {
                println!("Deleted Networks:");
                for n in removed {
                    println!("{n}");
                }
            }
            Ok(0)
        }
        NetworkSub::Connect(a) => {
            let ip =
                a.ip.as_deref()
                    .map(|s| {
                        s.parse().map_err(|_| {
                            EngineError::InvalidInput(format!(
                                "invalid --ip {s:?}: give an IPv4 address"
                            ))
                        })
                    })
                    .transpose()?;
            let cfg = EndpointConfig {
                aliases: a.aliases.clone(),
                ipv4_address: ip,
                mac_address: None,
            };
            engine
                .network_connect(a.network.clone(), a.container.clone(), cfg)
                .await?;
            Ok(0)
        }
        NetworkSub::Disconnect(a) => {
            let _ = a.force;
            engine
                .network_disconnect(a.network.clone(), a.container.clone())
                .await?;
            Ok(0)
        }
    }
}

/// Whether network `n` passes filter `f` (`key=value`).
fn passes(n: &NetworkRecord, f: &str) -> Result<bool, EngineError> {
    let (k, v) = f.split_once('=').ok_or_else(|| {
        EngineError::InvalidInput(format!(
            "invalid filter {f:?}: use KEY=VALUE (name, id, driver, label, type)"
        ))
    })?;
    Ok(match k {
        "name" => n.name.contains(v),
        "id" => n.id.starts_with(v),
        "driver" => n.driver == v,
        "label" => match v.split_once('=') {
            Some((lk, lv)) => n.labels.get(lk).is_some_and(|x| x == lv),
            None => n.labels.contains_key(v),
        },
        "type" => match v {
            "custom" => !n.is_default(),
            "builtin" => n.is_default(),
            _ => {
                return Err(EngineError::InvalidInput(format!(
                    "invalid filter 'type={v}': use type=custom or type=builtin"
                )))
            }
        },
        _ => {
            return Err(EngineError::InvalidInput(format!(
                "invalid filter {k:?}: use name, id, driver, label or type"
            )))
        }
    })
}

async fn ls(engine: &Engine, a: &LsArgs) -> anyhow::Result<i32> {
    let format = Format::parse(a.format.as_deref())?;
    let mut nets = Vec::new();
    for n in engine.networks().await? {
        let mut ok = true;
        for f in &a.filters {
            ok &= passes(&n, f)?;
        }
        if ok {
            nets.push(n);
        }
    }
    let mut out = std::io::stdout().lock();
    let rows: Vec<NetworkRow> = nets
        .iter()
        .map(|n| NetworkRow::new(n, a.no_trunc))
        .collect();
    if a.quiet {
        for r in &rows {
            writeln!(out, "{}", r.id)?;
        }
    } else if format.is_default() {
        let mut table = vec![["NETWORK ID", "NAME", "DRIVER", "SCOPE"]
            .map(String::from)
            .to_vec()];
        for r in &rows {
            table.push(vec![
                r.id.clone(),
                r.name.clone(),
                r.driver.clone(),
                r.scope.clone(),
            ]);
        }
        write!(
            out,
            "{}",
            super::table::render(&table, super::table::LIST_MIN_WIDTH)
        )?;
    } else {
        write!(out, "{}", format.list(&rows, NETWORK_HEADERS)?)?;
    }
    Ok(0)
}

/// `port`: `80/tcp -> 0.0.0.0:8000` lines (only the host side with a port given).
pub fn port(engine: &Engine, a: &PortArgs) -> anyhow::Result<i32> {
    let published = super::block_on(engine.container_ports(a.container.clone()))?;
    let want = match &a.port {
        Some(p) => {
            let key = if p.contains('/') {
                p.clone()
            } else {
                format!("{p}/tcp")
            };
            let parsed = crate::engine::network::ports::split_key(&key).ok_or_else(|| {
                EngineError::InvalidInput(format!(
                    "invalid port {p:?}: give PORT or PORT/PROTO, e.g. 80/tcp"
                ))
            })?;
            Some((parsed.0, parsed.1.to_string()))
        }
        None => None,
    };
    let mut shown = 0;
    for p in &published {
        match &want {
            Some((port, proto)) if (p.container_port, &p.proto) != (*port, proto) => continue,
            Some(_) => println!("{}:{}", p.host_ip, p.host_port),
            None => println!(
                "{}/{} -> {}:{}",
                p.container_port, p.proto, p.host_ip, p.host_port
            ),
        }
        shown += 1;
    }
    if let (Some(p), 0) = (&a.port, shown) {
        return Err(EngineError::NotFound(format!(
            "no public port '{p}' published for {}",
            a.container
        ))
        .into());
    }
    Ok(0)
}
