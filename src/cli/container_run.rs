//! `create`, `run` and `start`: Docker's run flags, and relaying an attached container's output.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};

use clap::Args;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::block_on;
use super::relay::{finish, relay, require_tty_stdin, ClientOptions};
use crate::engine::attach::client;
use crate::engine::container::{self, CreateOptions};
use crate::engine::monitor::spawn::MonitorChild;
use crate::engine::{Engine, EngineError};

/// Flags shared by `create` and `run`.
#[derive(Debug, Args, Clone)]
pub struct CreateArgs {
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables (KEY=VALUE, or KEY to copy it from here)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Read environment variables from a file (KEY=VALUE lines; # comments)
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<std::path::PathBuf>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Container host name
    #[arg(long)]
    pub hostname: Option<String>,
    /// Connect to a network: bridge (the default), none, host, container:NAME or a network's name
    #[arg(long = "network", alias = "net")]
    pub network: Option<String>,
    /// Publish a container's port(s) to the host ([IP:][HOSTPORT:]PORT[/PROTO])
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports
    #[arg(long)]
    pub expose: Vec<String>,
    /// Add a network-scoped alias for the container
    #[arg(long = "network-alias", alias = "net-alias")]
    pub network_alias: Vec<String>,
    /// IPv4 address (e.g. 172.30.100.104)
    #[arg(long)]
    pub ip: Option<String>,
    /// Container MAC address (e.g. 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address")]
    pub mac_address: Option<String>,
    /// Add link to another container (NAME[:ALIAS])
    #[arg(long)]
    pub link: Vec<String>,
    /// Memory limit (e.g. 64m, 1g; at least 6m)
    #[arg(short = 'm', long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Number of CPUs (e.g. 0.5; from 0.01 to the CPUs available)
    #[arg(long, allow_hyphen_values = true, value_parser = parse_cpus)]
    pub cpus: Option<f64>,
    /// Tune the container's pids limit (-1 for unlimited)
    #[arg(long = "pids-limit", allow_negative_numbers = true)]
    pub pids_limit: Option<i64>,
    /// Add Linux capabilities
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Run an init (tini) as pid 1 that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Security options (no-new-privileges)
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Restart policy to apply when a container exits (no, on-failure[:max-retries], always,
    /// unless-stopped)
    #[arg(long)]
    pub restart: Option<String>,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// When pulling a missing image: verify TLS certificates; =false also allows plain http
    #[arg(long, action = clap::ArgAction::Set, default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub tls_verify: bool,
    /// Pull the image before running: always, missing (when not stored; the default) or never
    #[arg(long, value_name = "POLICY", default_value = "missing",
          value_parser = ["always", "missing", "never"])]
    pub pull: String,
    /// Logging driver for the container: json-file (default), local or none
    #[arg(long = "log-driver", value_name = "DRIVER")]
    pub log_driver: Option<String>,
    /// Log driver options: max-size=SIZE (default 20m), max-file=N (default 5), compress=BOOL
    #[arg(long = "log-opt", value_name = "KEY=VALUE")]
    pub log_opt: Vec<String>,
    /// The IMAGE argument is a directory holding a root filesystem (as in podman)
    #[arg(long)]
    pub rootfs: bool,
    /// Set metadata on the container (KEY=VALUE, or KEY for an empty value)
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// Read labels from a file (KEY=VALUE lines; # comments)
    #[arg(long = "label-file", value_name = "FILE")]
    pub label_file: Vec<std::path::PathBuf>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Add a custom host-to-IP mapping (HOST:IP) to /etc/hosts
    #[arg(long = "add-host", value_name = "HOST:IP")]
    pub add_host: Vec<String>,
    /// Set custom DNS servers (written to /etc/resolv.conf)
    #[arg(long = "dns", value_name = "IP")]
    pub dns: Vec<String>,
    /// Set custom DNS search domains ("." for none)
    #[arg(long = "dns-search", value_name = "DOMAIN")]
    pub dns_search: Vec<String>,
    /// Signal to stop the container (e.g. SIGUSR1; default the image's, else SIGTERM)
    #[arg(long = "stop-signal", value_name = "SIGNAL")]
    pub stop_signal: Option<String>,
    /// Seconds to wait for the container to stop before killing it (-1: without a limit)
    #[arg(
        long = "stop-timeout",
        allow_negative_numbers = true,
        value_name = "SECONDS"
    )]
    pub stop_timeout: Option<i64>,
    /// Size of /dev/shm (e.g. 128m; default 64m)
    #[arg(long = "shm-size", value_name = "SIZE")]
    pub shm_size: Option<String>,
    /// Ulimit options (NAME=SOFT[:HARD], e.g. nofile=1024:2048)
    #[arg(long = "ulimit", value_name = "NAME=SOFT[:HARD]")]
    pub ulimit: Vec<String>,
    /// Add additional groups to join (name or gid)
    #[arg(long = "group-add", value_name = "GROUP")]
    pub group_add: Vec<String>,
    /// PID namespace to use: host (default: the container's own)
    #[arg(long = "pid", value_name = "MODE")]
    pub pid: Option<String>,
    /// IPC mode: private (default), shareable or host
    #[arg(long = "ipc", value_name = "MODE")]
    pub ipc: Option<String>,
    /// UTS namespace to use: host (default: the container's own)
    #[arg(long = "uts", value_name = "MODE")]
    pub uts: Option<String>,
    /// Add a host device to the container (HOST[:CONTAINER][:PERMISSIONS], e.g. /dev/fuse)
    #[arg(long = "device", value_name = "DEVICE")]
    pub device: Vec<String>,
    /// Write the container ID to the file (which must not exist yet)
    #[arg(long = "cidfile", value_name = "FILE")]
    pub cidfile: Option<std::path::PathBuf>,
    /// Set DNS resolver options (e.g. ndots:2)
    #[arg(long = "dns-option", alias = "dns-opt", value_name = "OPTION")]
    pub dns_option: Vec<String>,
    #[command(flatten)]
    pub mount_args: super::mount_args::MountArgs,
    #[command(flatten)]
    pub health_args: super::health_args::HealthArgs,
    /// The image to run (or root filesystem directory with --rootfs), then the command and its
    /// arguments. Everything after IMAGE belongs to the container, as in docker: flags there are
    /// the command's, not berth's.
    #[arg(required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true,
          value_names = ["IMAGE", "COMMAND"])]
    pub args: Vec<String>,
}

fn read_env_file(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        EngineError::InvalidInput(format!("cannot read env file {}: {e}", path.display()))
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// `--cpus`: a decimal number, refused while the command line is parsed, before anything is
/// pulled or created (docker's message when it is not one; the range is the engine's).
fn parse_cpus(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|c| c.is_finite() && !s.contains(['e', 'E', 'x', 'X']))
        .ok_or_else(|| {
            format!(
                "failed to parse {s} as a rational number; use a decimal number of CPUs such as \
                 0.5 or 2"
            )
        })
}

impl CreateArgs {
    /// IMAGE: the first positional argument (clap requires one).
    pub fn image(&self) -> &str {
        self.args.first().map(String::as_str).unwrap_or_default()
    }

    /// The command and its arguments: everything after IMAGE.
    pub fn command(&self) -> &[String] {
        self.args.get(1..).unwrap_or_default()
    }

    /// The engine's options.
    pub fn options(&self) -> anyhow::Result<CreateOptions> {
        let mut env = Vec::new();
        for f in &self.env_file {
            env.extend(read_env_file(f)?);
        }
        env.extend(self.env.iter().cloned());
        let mut labels = Vec::new();
        for f in &self.label_file {
            let text = std::fs::read_to_string(f).map_err(|e| {
                EngineError::InvalidInput(format!(
                    "cannot read label file {}: {e}; give a readable file of KEY=VALUE lines",
                    f.display()
                ))
            })?;
            labels.extend(container::labels::file_entries(&text));
        }
        labels.extend(self.label.iter().cloned());
        Ok(CreateOptions {
            name: self.name.clone(),
            image: self.image().to_string(),
            rootfs: self.rootfs,
            cmd: self.command().to_vec(),
            entrypoint: self.entrypoint.clone(),
            env,
            workdir: self.workdir.clone(),
            user: self.user.clone(),
            hostname: self.hostname.clone(),
            network: self.network.clone(),
            publish: self.publish.clone(),
            publish_all: self.publish_all,
            expose: self.expose.clone(),
            network_aliases: self.network_alias.clone(),
            ip: self.ip.clone(),
            mac_address: self.mac_address.clone(),
            links: self.link.clone(),
            memory: self
                .memory
                .as_deref()
                .map(container::parse_size)
                .transpose()?,
            cpus: self.cpus,
            pids_limit: self.pids_limit,
            cap_add: self.cap_add.clone(),
            cap_drop: self.cap_drop.clone(),
            privileged: self.privileged,
            init: self.init,
            security_opt: self.security_opt.clone(),
            auto_remove: self.rm,
            restart: self.restart.clone(),
            health: self.health_args.options()?,
            mounts: self.mount_args.options(),
            tty: self.tty,
            interactive: self.interactive,
            stdin_once: self.interactive,
            log_driver: self.log_driver.clone(),
            log_opts: self.log_opt.clone(),
            labels,
            read_only: self.read_only,
            add_hosts: self.add_host.clone(),
            dns: self.dns.clone(),
            dns_search: self.dns_search.clone(),
            dns_options: self.dns_option.clone(),
            stop_signal: self.stop_signal.clone(),
            stop_timeout: self.stop_timeout,
            ulimits: self.ulimit.clone(),
            group_add: self.group_add.clone(),
            pid: self.pid.clone(),
            ipc: self.ipc.clone(),
            uts: self.uts.clone(),
            devices: self.device.clone(),
            attach: None,
            shm_size: self
                .shm_size
                .as_deref()
                .map(container::parse_size)
                .transpose()?,
        })
    }
}

/// `berth run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Run in the background and print the container id
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Attach to STDIN, STDOUT or STDERR only (repeatable; default: the output streams)
    #[arg(short = 'a', long = "attach", value_name = "STREAM")]
    pub attach: Vec<String>,
    /// Forward SIGINT and SIGTERM to the container (=false: they end only this client)
    #[arg(long = "sig-proxy", action = clap::ArgAction::Set, default_value_t = true,
          num_args = 0..=1, default_missing_value = "true", require_equals = true,
          value_name = "BOOL")]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching from a -t container (e.g. ctrl-x,x)
    #[arg(long = "detach-keys", value_name = "KEYS")]
    pub detach_keys: Option<String>,
    #[command(flatten)]
    pub create: CreateArgs,
}

/// Copies an attached container's output to our stdout/stderr, then returns its exit code.
pub fn relay_attached(child: MonitorChild) -> anyhow::Result<i32> {
    relay_streams(child, [true, true])
}

/// `run -a`: which of stdin, stdout, stderr are attached (docker's names, any case).
fn attach_streams(args: &RunArgs) -> anyhow::Result<[bool; 3]> {
    if args.attach.is_empty() {
        return Ok([args.create.interactive, true, true]);
    }
    if args.detach {
        return Err(EngineError::InvalidInput(
            "conflicting options: -a and -d; attach to the streams or run detached".into(),
        )
        .into());
    }
    let mut on = [false; 3];
    for a in &args.attach {
        match a.to_ascii_lowercase().as_str() {
            "stdin" => on[0] = true,
            "stdout" => on[1] = true,
            "stderr" => on[2] = true,
            _ => {
                return Err(EngineError::InvalidInput(format!(
                    "invalid argument {a:?} for \"-a, --attach\" flag: use stdin, stdout or stderr"
                ))
                .into())
            }
        }
    }
    Ok(on)
}

/// Copies the container's output streams marked in `shown` (stdout, stderr) to ours, reading
/// the others to their end unseen, then returns its exit code.
fn relay_streams(mut child: MonitorChild, shown: [bool; 2]) -> anyhow::Result<i32> {
    if let Some((mut out, mut err)) = child.output.take() {
        let mut open = [true, true];
        let mut buf = vec![0u8; 64 * 1024];
        while open[0] || open[1] {
            let mut fds = Vec::new();
            let mut idx = Vec::new();
            if open[0] {
                fds.push(PollFd::new(out.as_fd(), PollFlags::POLLIN));
                idx.push(0);
            }
            if open[1] {
                fds.push(PollFd::new(err.as_fd(), PollFlags::POLLIN));
                idx.push(1);
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(EngineError::Runtime(format!("poll: {e}")).into()),
            }
            let ready: Vec<bool> = fds
                .iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            drop(fds);
            for (k, &i) in idx.iter().enumerate() {
                if !ready[k] {
                    continue;
                }
                let src: &mut std::fs::File = if i == 0 { &mut out } else { &mut err };
                match src.read(&mut buf) {
                    Ok(0) | Err(_) => open[i] = false,
                    Ok(_) if !shown[i] => {}
                    Ok(n) => {
                        if i == 0 {
                            let mut o = std::io::stdout().lock();
                            let _ = o.write_all(&buf[..n]);
                            let _ = o.flush();
                        } else {
                            let _ = std::io::stderr().write_all(&buf[..n]);
                        }
                    }
                }
            }
        }
    }
    crate::engine::trace::phase("cli: output ended");
    match child.wait_exited() {
        Some(code) => Ok(code),
        None => Err(EngineError::Runtime(
            "the container monitor exited without reporting the container's exit".into(),
        )
        .into()),
    }
}

/// The container a foreground `run`/`start -a` relays; signals to berth are forwarded to it.
pub static FOREGROUND: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Creates the container and prints nothing; returns the record's id.
pub fn create(engine: &Engine, args: &CreateArgs) -> anyhow::Result<String> {
    create_with(engine, args, &args.options()?)
}

/// Creates the container from `opts`, with `--cidfile`: the file is claimed first (docker
/// refuses one that exists), holds the id after, and is removed when the create fails.
pub fn create_with(
    engine: &Engine,
    args: &CreateArgs,
    opts: &CreateOptions,
) -> anyhow::Result<String> {
    let Some(path) = &args.cidfile else {
        return Ok(block_on(engine.create_container(opts.clone()))?.id);
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            EngineError::InvalidInput(if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "container ID file found, make sure the other container isn't running or \
                     delete {}",
                    path.display()
                )
            } else {
                format!(
                    "cannot create the container ID file {}: {e}",
                    path.display()
                )
            })
        })?;
    let created = block_on(engine.create_container(opts.clone())).map_err(anyhow::Error::from);
    let written = created.and_then(|rec| {
        file.write_all(rec.id.as_bytes())
            .map(|_| rec.id.clone())
            .map_err(|e| {
                let _ = block_on(engine.remove_container(rec.id.clone(), true, false));
                EngineError::InvalidInput(format!(
                    "cannot write the container ID file {}: {e}",
                    path.display()
                ))
                .into()
            })
    });
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// `run`: create, start, and in the foreground relay output and return the exit code.
pub fn run(engine: &Engine, args: &RunArgs) -> anyhow::Result<i32> {
    if let Some(k) = &args.detach_keys {
        super::terminal::parse_detach_keys(k)?;
    }
    let streams = attach_streams(args)?;
    if !args.detach && (args.create.tty || args.create.interactive) {
        return run_interactive(engine, args, streams);
    }
    let mut opts = args.create.options()?;
    opts.attach = Some(if args.detach { [false; 3] } else { streams });
    // A detached container's stdin stays open for later attach clients.
    opts.stdin_once &= !args.detach;
    let id = create_with(engine, &args.create, &opts)?;
    crate::engine::trace::phase("cli: created");
    if !args.detach {
        let _ = FOREGROUND.set(id.clone());
    }
    // A `--rm` container whose start fails is removed by the engine.
    match block_on(engine.start_container_with(id.clone(), !args.detach, None, true))? {
        Some(child) => relay_streams(child, [streams[1], streams[2]]),
        None => {
            println!("{id}");
            Ok(0)
        }
    }
}

/// `run -i`/`run -t` in the foreground: create, connect a client before the start, relay.
pub fn run_interactive(engine: &Engine, args: &RunArgs, streams: [bool; 3]) -> anyhow::Result<i32> {
    let create = &args.create;
    if create.tty && create.interactive {
        require_tty_stdin()?;
    }
    let mut opts = create.options()?;
    opts.attach = Some(streams);
    let id = create_with(engine, create, &opts)?;
    let (ours, theirs) = client::pair()?;
    // A `--rm` container whose start fails is removed by the engine.
    block_on(engine.start_container_with(id, false, Some(OwnedFd::from(theirs)), true))?;
    let outcome = relay(
        ours,
        &ClientOptions {
            // `-i` with `-a` naming other streams keeps stdin open but not forwarded.
            stdin: create.interactive && streams[0],
            tty: create.tty,
            detach_keys: args.detach_keys.clone(),
            output: [streams[1], streams[2]],
        },
    )?;
    Ok(finish(outcome))
}
