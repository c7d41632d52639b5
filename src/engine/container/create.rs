//! `create`: a new container record with its directory, rootfs layers and merged configuration.

use chrono::Utc;
use rand::RngCore;

use super::etc_files;
use super::image_source::{self, ResolvedImage};
use super::names;
use super::network_mode::NetworkMode;
use super::record::{Config, ContainerRecord, HostConfig, State};
use super::store;
use super::store::ContainerStore;
use crate::engine::error::{EngineError, IoContext, Result};
use crate::engine::logs::LogConfig;
use crate::engine::mounts;
use crate::engine::runtime::caps;
use crate::engine::snapshot::Snapshot;
use crate::engine::volume::NewDirs;
use crate::engine::{Engine, EngineEvent};

/// Everything `create`/`run` accept (Docker's flags).
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub name: Option<String>,
    /// Image reference, or a directory with `rootfs`.
    pub image: String,
    pub rootfs: bool,
    /// Command and arguments after the image (replace the image's Cmd).
    pub cmd: Vec<String>,
    /// `--entrypoint` (`Some("")` clears the image's).
    pub entrypoint: Option<String>,
    /// `-e`/`--env-file` entries: `K=V`, or `K` to copy the caller's value.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    /// `--network`: `bridge` (default, see [`crate::engine::network::default_mode`]), `none`,
    /// `host`, `container:NAME` or a network's name.
    pub network: Option<String>,
    /// `-p [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]`.
    pub publish: Vec<String>,
    /// `-P`.
    pub publish_all: bool,
    /// `--expose PORT[/PROTO]`.
    pub expose: Vec<String>,
    /// `--network-alias`.
    pub network_aliases: Vec<String>,
    /// `--ip`.
    pub ip: Option<String>,
    /// `--mac-address`.
    pub mac_address: Option<String>,
    /// `--link NAME[:ALIAS]`.
    pub links: Vec<String>,
    /// Bytes.
    pub memory: Option<i64>,
    pub cpus: Option<f64>,
    pub pids_limit: Option<i64>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub privileged: bool,
    pub security_opt: Vec<String>,
    pub auto_remove: bool,
    /// `--init`.
    pub init: bool,
    /// `-v`, `--mount`, `--tmpfs`, `--volumes-from`.
    pub mounts: crate::engine::mounts::MountOptions,
    /// `-t`: allocate a pty.
    pub tty: bool,
    /// `-i`: keep stdin open.
    pub interactive: bool,
    /// Close stdin when the first attached client's stdin ends (Docker's `StdinOnce`: `-i`
    /// except with `run -d`).
    pub stdin_once: bool,
    /// `--log-driver` (default json-file).
    pub log_driver: Option<String>,
    /// `--log-opt KEY=VALUE`.
    pub log_opts: Vec<String>,
    /// `--label`/`-l` and `--label-file` entries: `KEY=VALUE` or `KEY`.
    pub labels: Vec<String>,
    /// `--read-only`.
    pub read_only: bool,
    /// `--add-host HOST:IP`.
    pub add_hosts: Vec<String>,
    /// `--dns IP`.
    pub dns: Vec<String>,
    /// `--dns-search DOMAIN`.
    pub dns_search: Vec<String>,
    /// `--dns-option OPT`.
    pub dns_options: Vec<String>,
    /// `--stop-signal` (name or number).
    pub stop_signal: Option<String>,
    /// `--stop-timeout` seconds (-1: without a limit).
    pub stop_timeout: Option<i64>,
    /// `--shm-size` in bytes.
    pub shm_size: Option<i64>,
    /// `--ulimit NAME=SOFT[:HARD]`.
    pub ulimits: Vec<String>,
    /// `--group-add GROUP` (name or gid).
    pub group_add: Vec<String>,
    /// `--pid`, `--ipc`, `--uts` modes.
    pub pid: Option<String>,
    pub ipc: Option<String>,
    pub uts: Option<String>,
    /// `--device HOST[:CONTAINER][:PERMISSIONS]`.
    pub devices: Vec<String>,
    /// `-a` (stdin, stdout, stderr); default: stdin with `-i`, and the output streams.
    pub attach: Option<[bool; 3]>,
    /// `--restart`.
    pub restart: Option<String>,
    /// `--health-*`, `--no-healthcheck`.
    pub health: crate::engine::health::HealthOptions,
}

/// Docker's default size of `/dev/shm`.
pub const DEFAULT_SHM_SIZE: i64 = 64 << 20;

/// `path` lexically cleaned as Go's `filepath.Clean` does for an absolute path (docker cleans
/// `-w` so): no `.`, no empty components, `..` applied (and dropped at the top).
fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn new_id() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `base` with `extra` applied as docker applies `-e`: `K=V` sets, a bare `K` takes the caller's
/// value (or removes K when the caller has none); later entries win.
pub(crate) fn merge_env(image: &[String], user: &[String]) -> Result<Vec<String>> {
    let mut env: Vec<String> = image.to_vec();
    for e in user {
        let (k, v) = match e.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (e.clone(), std::env::var(e).ok()),
        };
        if k.is_empty() {
            return Err(EngineError::InvalidInput(format!(
                "invalid environment variable {e:?}: use KEY=VALUE"
            )));
        }
        env.retain(|x| x.split('=').next() != Some(k.as_str()));
        if let Some(v) = v {
            env.push(format!("{k}={v}"));
        }
    }
    Ok(env)
}

/// Builds the container's record from the options and the image (no I/O).
pub fn build_record(
    id: &str,
    name: String,
    opts: &CreateOptions,
    img: &ResolvedImage,
) -> Result<ContainerRecord> {
    let net = super::create_net::plan(opts, img)?;
    if let Some(w) = &opts.workdir {
        if !w.starts_with('/') {
            return Err(EngineError::InvalidInput(format!(
                "the working directory {w:?} is invalid: it needs to be an absolute path"
            )));
        }
    }
    if let Some(h) = &opts.hostname {
        if h.is_empty()
            || h.len() > 63
            || !h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(EngineError::InvalidInput(format!(
                "invalid hostname {h:?}: use letters, digits, '-' and '.', at most 63 characters"
            )));
        }
    }
    super::limits::check(opts.memory, opts.cpus)?;
    for o in &opts.security_opt {
        if !matches!(
            o.as_str(),
            "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges:false"
        ) {
            return Err(EngineError::InvalidInput(format!(
                "unsupported --security-opt {o:?}: berth supports no-new-privileges"
            )));
        }
    }
    // Validates capability names now rather than at start.
    caps::effective(&opts.cap_add, &opts.cap_drop, opts.privileged)?;
    if opts.init {
        crate::engine::runtime::init_binary::find()?;
    }
    let log_config = LogConfig::parse(opts.log_driver.as_deref(), &opts.log_opts)?;
    let restart_policy = match &opts.restart {
        Some(r) => super::restart_policy::RestartPolicy::parse(r)?,
        None => Default::default(),
    };
    if opts.auto_remove && !restart_policy.is_none() {
        return Err(EngineError::InvalidInput(
            "conflicting options: --restart and --rm: a container removed when it exits cannot \
             be restarted; drop one of them"
                .into(),
        ));
    }
    let ic = &img.config;
    let healthcheck = opts.health.resolve(ic.healthcheck.as_ref())?;
    let labels = super::labels::merge(ic.labels.as_ref(), &opts.labels)?;
    if let Some(s) = &opts.stop_signal {
        super::signal::parse(s).map_err(|_| {
            EngineError::InvalidInput(format!(
                "invalid --stop-signal {s:?}: use a name like TERM or SIGUSR1, or a number"
            ))
        })?;
    }
    if let Some(t) = opts.stop_timeout.filter(|t| *t < -1) {
        return Err(EngineError::InvalidInput(format!(
            "invalid --stop-timeout {t}: give seconds, or -1 to wait without a limit"
        )));
    }
    let (pid_mode, ipc_mode, uts_mode) = crate::engine::runtime::namespaces::modes(
        opts.pid.as_deref(),
        opts.ipc.as_deref(),
        opts.uts.as_deref(),
    )?;
    if opts.hostname.is_some() && matches!(net.mode, NetworkMode::Container(_)) {
        return Err(EngineError::InvalidInput(
            "conflicting options: --hostname and the network mode container:… (the other \
             container's name is used); give one of them"
                .into(),
        ));
    }
    if uts_mode == "host" && opts.hostname.is_some() {
        return Err(EngineError::InvalidInput(
            "conflicting options: --hostname and --uts host (the host's name is used); give \
             one of them"
                .into(),
        ));
    }
    let hostname = match (&opts.hostname, uts_mode.as_str()) {
        (Some(h), _) => h.clone(),
        (None, "host") => nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_else(|_| id[..12].to_string()),
        (None, _) => id[..12].to_string(),
    };
    let devices = opts
        .devices
        .iter()
        .map(|d| crate::engine::runtime::user_devices::parse(d))
        .collect::<Result<Vec<_>>>()?;
    let attach = opts.attach.unwrap_or([opts.interactive, true, true]);
    let ulimits = opts
        .ulimits
        .iter()
        .map(|u| crate::engine::runtime::ulimits::parse(u))
        .collect::<Result<Vec<_>>>()?;
    for g in &opts.group_add {
        if g.is_empty() || g.contains(':') || g.chars().any(char::is_whitespace) {
            return Err(EngineError::InvalidInput(format!(
                "invalid --group-add {g:?}: give a group name or a number"
            )));
        }
    }
    if let Some(s) = opts.shm_size.filter(|s| *s <= 0) {
        return Err(EngineError::InvalidInput(format!(
            "invalid --shm-size {s}: give a size above 0, e.g. 128m"
        )));
    }
    let extra_hosts = opts
        .add_hosts
        .iter()
        .map(|h| etc_files::parse_extra_host(h))
        .collect::<Result<Vec<_>>>()?;
    etc_files::check_host_gateway(&extra_hosts, &net.mode)?;
    opts.dns.iter().try_for_each(|d| etc_files::check_dns(d))?;
    opts.dns_search
        .iter()
        .try_for_each(|d| etc_files::check_dns_search(d))?;
    opts.dns_options
        .iter()
        .try_for_each(|d| etc_files::check_dns_option(d))?;
    let (entrypoint, cmd) = match &opts.entrypoint {
        Some(ep) => (
            if ep.is_empty() {
                vec![]
            } else {
                vec![ep.clone()]
            },
            opts.cmd.clone(),
        ),
        None => (
            ic.entrypoint.clone().unwrap_or_default(),
            if opts.cmd.is_empty() {
                ic.cmd.clone().unwrap_or_default()
            } else {
                opts.cmd.clone()
            },
        ),
    };
    if entrypoint.is_empty() && cmd.is_empty() {
        return Err(EngineError::InvalidInput(
            "no command specified: the image has no Entrypoint or Cmd; give a command after the image"
                .into(),
        ));
    }
    Ok(ContainerRecord {
        id: id.to_string(),
        name,
        image: img.name.clone(),
        image_id: img.id.clone(),
        lowers: img.lowers.clone(),
        created: Utc::now(),
        config: Config {
            hostname,
            user: opts
                .user
                .clone()
                .or_else(|| ic.user.clone())
                .unwrap_or_default(),
            env: merge_env(ic.env.as_deref().unwrap_or_default(), &opts.env)?,
            cmd,
            entrypoint,
            working_dir: opts
                .workdir
                .as_deref()
                .map(clean_path)
                .or_else(|| ic.working_dir.clone())
                .unwrap_or_default(),
            image: img.name.clone(),
            stop_signal: opts.stop_signal.clone().or_else(|| ic.stop_signal.clone()),
            stop_timeout: opts.stop_timeout,
            tty: opts.tty,
            open_stdin: opts.interactive,
            stdin_once: opts.interactive && opts.stdin_once,
            labels,
            attach_stdin: attach[0],
            attach_stdout: attach[1],
            attach_stderr: attach[2],
            exposed_ports: net.exposed,
            healthcheck,
            shell: ic.shell.clone().unwrap_or_default(),
        },
        host_config: HostConfig {
            network_mode: net.mode,
            port_bindings: net.bindings,
            publish_all_ports: opts.publish_all,
            links: net.links,
            memory: opts.memory.unwrap_or(0),
            nano_cpus: opts.cpus.map(|c| (c * 1e9) as i64).unwrap_or(0),
            pids_limit: opts.pids_limit,
            cap_add: opts.cap_add.clone(),
            cap_drop: opts.cap_drop.clone(),
            privileged: opts.privileged,
            security_opt: opts.security_opt.clone(),
            auto_remove: opts.auto_remove,
            restart_policy,
            init: opts.init,
            log_config,
            readonly_rootfs: opts.read_only,
            extra_hosts,
            dns: opts.dns.clone(),
            dns_search: opts.dns_search.clone(),
            dns_options: opts.dns_options.clone(),
            shm_size: opts.shm_size.unwrap_or(DEFAULT_SHM_SIZE),
            ulimits,
            group_add: opts.group_add.clone(),
            pid_mode,
            ipc_mode,
            uts_mode,
            devices,
        },
        state: State::default(),
        restart_count: 0,
        mounts: Vec::new(),
        networks: net.networks,
        health: None,
    })
}

/// Creates a container from `opts.image`; returns its record.
pub fn create(engine: &Engine, opts: &CreateOptions) -> Result<ContainerRecord> {
    // A start usually follows: its cgroup joins find the kernel's lock warm (`cgroup_warm`).
    crate::engine::monitor::cgroup_warm::keep_for(std::time::Duration::from_millis(500));
    if let Some(n) = &opts.name {
        names::validate(n)?;
    }
    // Image gc must not remove the layers between reading the image and recording the
    // container that uses them.
    let _images = if opts.rootfs {
        None
    } else {
        Some(engine.lock_images_shared()?)
    };
    let img = image_source::resolve(engine, &opts.image, opts.rootfs)?;
    create_from(engine, opts, img)
}

/// Creates a container from an already resolved image (`opts.image` is not looked at).
pub fn create_from(
    engine: &Engine,
    opts: &CreateOptions,
    img: ResolvedImage,
) -> Result<ContainerRecord> {
    if let Some(n) = &opts.name {
        names::validate(n)?;
    }
    let id = new_id();
    let mut rec = build_record(&id, String::new(), opts, &img)?;
    super::create_net::check_refs(engine, &rec)?;
    let parsed_mounts = mounts::parse(&opts.mounts)?;
    let image_volumes: Vec<String> = img
        .config
        .volumes
        .as_ref()
        .map(|v| v.keys().cloned().collect())
        .unwrap_or_default();
    let layout = engine.layout();
    let dir = layout.container_dir(&id);
    // Held until the record exists: `container prune` leaves a directory alone while its
    // container's lock is taken, and collects it when a killed create left it behind.
    let lock = store::lock(layout, &id)?;
    std::fs::create_dir_all(&dir).ctx("cannot create", &dir)?;
    let result = Snapshot::new(&dir).prepare(&rec.lowers).and_then(|_| {
        engine.state().write(|tx| {
            rec.name = match &opts.name {
                Some(n) => n.clone(),
                None => names::generate(tx)?,
            };
            let mut dirs = NewDirs::default();
            rec.mounts = mounts::prepare(tx, layout, &parsed_mounts, &image_volumes, &mut dirs)?;
            ContainerStore::of(tx).insert(&rec)?;
            let event = crate::engine::journal::Event::container(&rec, "create");
            crate::engine::journal::record(tx, &event)?;
            Ok(dirs)
        })
    });
    match result {
        Ok(dirs) => dirs.keep(),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            let _ = std::fs::remove_file(layout.locks_dir().join(format!("{id}.lock")));
            return Err(e);
        }
    }
    drop(lock);
    if rec
        .mounts
        .iter()
        .any(|m| m.kind == mounts::MountType::Volume)
    {
        engine.emit(EngineEvent::VolumesChanged);
    }
    engine.emit(EngineEvent::ContainersChanged);
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::container::image_source::ImageRunConfig;

    fn img() -> ResolvedImage {
        ResolvedImage {
            name: "img".into(),
            id: "sha256:x".into(),
            config: ImageRunConfig {
                entrypoint: Some(vec!["/entry".into()]),
                cmd: Some(vec!["serve".into()]),
                env: Some(vec!["PATH=/bin".into(), "A=1".into()]),
                working_dir: Some("/srv".into()),
                user: Some("www".into()),
                ..Default::default()
            },
            lowers: vec!["/l".into()],
        }
    }

    #[test]
    fn image_config_merges_with_options() {
        let id = "0123456789ab".repeat(5) + "cdef";
        let r = build_record(&id, "n".into(), &CreateOptions::default(), &img()).unwrap();
        assert_eq!(r.command_line(), "/entry serve");
        assert_eq!(r.config.hostname, "0123456789ab");
        assert_eq!(r.config.user, "www");
        let opts = CreateOptions {
            cmd: vec!["x".into()],
            env: vec!["A=2".into(), "B=3".into()],
            entrypoint: Some(String::new()),
            workdir: Some("/w".into()),
            ..Default::default()
        };
        let r = build_record(&id, "n".into(), &opts, &img()).unwrap();
        assert_eq!(r.command_line(), "x");
        assert_eq!(r.config.env, vec!["PATH=/bin", "A=2", "B=3"]);
        assert_eq!(r.config.working_dir, "/w");
        assert_eq!(clean_path("/a/./b/../c//d/"), "/a/c/d");
        assert_eq!(clean_path("/../x"), "/x");
    }

    #[test]
    fn bad_options_are_explained() {
        let id = "a".repeat(64);
        let bad = |o: CreateOptions| {
            build_record(&id, "n".into(), &o, &img())
                .unwrap_err()
                .to_string()
        };
        for net in ["a b", ""] {
            let msg = bad(CreateOptions {
                network: Some(net.into()),
                ..Default::default()
            });
            assert!(
                msg.contains(&format!("invalid network mode {net:?}")),
                "{msg}"
            );
        }
        for net in ["none", "container:web"] {
            let msg = bad(CreateOptions {
                network: Some(net.into()),
                publish: vec!["80".into()],
                ..Default::default()
            });
            assert!(
                msg.contains("conflicting options: port publishing"),
                "{msg}"
            );
        }
        assert!(bad(CreateOptions {
            network: Some("bridge".into()),
            ip: Some("172.17.0.9".into()),
            ..Default::default()
        })
        .contains("user defined networks only"));
        assert!(bad(CreateOptions {
            workdir: Some("rel".into()),
            ..Default::default()
        })
        .contains("absolute"));
        assert!(bad(CreateOptions {
            cap_add: vec!["BOGUS".into()],
            ..Default::default()
        })
        .contains("unknown capability"));
        assert!(bad(CreateOptions {
            security_opt: vec!["apparmor=x".into()],
            ..Default::default()
        })
        .contains("unsupported"));
        assert!(bad(CreateOptions {
            memory: Some(4 << 20),
            ..Default::default()
        })
        .contains("Minimum memory limit allowed is 6MB"));
        assert!(bad(CreateOptions {
            cpus: Some(0.001),
            ..Default::default()
        })
        .contains("range of CPUs is from 0.01 to"));
    }
}
