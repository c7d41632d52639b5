//! The container record stored in the `containers` table, and its lifecycle state machine.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::error::{EngineError, Result};

/// Where a container is in its life. Transitions are checked by the guards below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created (or failed to start); no process.
    Created,
    /// The process runs under its monitor.
    Running,
    /// Frozen through the freezer cgroup.
    Paused,
    /// The process ended; the exit code is recorded.
    Exited,
    /// Being removed; nothing else may touch it.
    Removing,
}

impl Status {
    /// Docker's word for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Exited => "exited",
            Status::Removing => "removing",
        }
    }

    /// Parses Docker's word (for `--filter status=`).
    pub fn parse(s: &str) -> Result<Status> {
        Ok(match s {
            "created" => Status::Created,
            "running" => Status::Running,
            "paused" => Status::Paused,
            "exited" => Status::Exited,
            "removing" => Status::Removing,
            _ => {
                return Err(EngineError::InvalidInput(format!(
                    "invalid status {s:?}: use created, running, paused, exited or removing"
                )))
            }
        })
    }

    /// Whether `start` may run now.
    pub fn can_start(self) -> bool {
        matches!(self, Status::Created | Status::Exited)
    }

    /// Whether signals may be sent (`kill`, `stop`).
    pub fn can_kill(self) -> bool {
        matches!(self, Status::Running | Status::Paused)
    }

    /// Whether `pause` may run now.
    pub fn can_pause(self) -> bool {
        self == Status::Running
    }

    /// Whether `unpause` may run now.
    pub fn can_unpause(self) -> bool {
        self == Status::Paused
    }

    /// Whether `rm` without `-f` may run now.
    pub fn can_remove(self) -> bool {
        matches!(self, Status::Created | Status::Exited)
    }
}

/// The process configuration (Docker's `Config`), final after merging image config and options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    pub hostname: String,
    pub user: String,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub working_dir: String,
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// `--stop-timeout`: seconds `stop` waits before SIGKILL (-1: without a limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    /// The process gets a pty (`-t`).
    #[serde(default)]
    pub tty: bool,
    /// Stdin stays open for attached clients (`-i`).
    #[serde(default)]
    pub open_stdin: bool,
    /// The process's stdin closes when the attached client's stdin ends (`run -i`).
    #[serde(default)]
    pub stdin_once: bool,
    /// The image's labels with `--label`/`--label-file` applied.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// The streams a client attached at the start (`-a`; none with `run -d`).
    #[serde(default)]
    pub attach_stdin: bool,
    #[serde(default)]
    pub attach_stdout: bool,
    #[serde(default)]
    pub attach_stderr: bool,
    /// `--expose` ports with the image's (`"80/tcp": {}`), the ports `-P` publishes.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub exposed_ports: std::collections::BTreeMap<String, crate::engine::network::ports::Empty>,
    /// The health check: the image's with `--health-*` applied, `NONE` after
    /// `--no-healthcheck`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<crate::engine::health::Healthcheck>,
    /// The image's `SHELL` (a `CMD-SHELL` health check runs through it; `/bin/sh -c` without).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shell: Vec<String>,
}

/// How the container is run (Docker's `HostConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    /// `none` (private loopback-only namespace) or `host`; stored as docker's string.
    pub network_mode: super::NetworkMode,
    /// Memory limit in bytes; 0 = unlimited.
    pub memory: i64,
    /// CPU limit in billionths of a CPU; 0 = unlimited.
    pub nano_cpus: i64,
    /// Pids limit; `None` = unlimited.
    pub pids_limit: Option<i64>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub privileged: bool,
    pub security_opt: Vec<String>,
    pub auto_remove: bool,
    /// `--init`: a static init (tini) runs as pid 1 in front of the command.
    #[serde(default)]
    pub init: bool,
    /// `--log-driver` and `--log-opt` (defaults filled in).
    #[serde(default)]
    pub log_config: crate::engine::logs::LogConfig,
    /// `--read-only`: the root filesystem is mounted read-only.
    #[serde(default, rename = "ReadonlyRootfs")]
    pub readonly_rootfs: bool,
    /// `--add-host HOST:IP`, as `HOST:IP`, added to `/etc/hosts`.
    #[serde(default)]
    pub extra_hosts: Vec<String>,
    /// `--dns`: name servers replacing the host's in `/etc/resolv.conf`.
    #[serde(default)]
    pub dns: Vec<String>,
    /// `--dns-search`: search domains replacing the host's (`.` alone: none).
    #[serde(default)]
    pub dns_search: Vec<String>,
    /// `--dns-option`: resolver options replacing the host's.
    #[serde(default)]
    pub dns_options: Vec<String>,
    /// `--shm-size` in bytes (0 in a record from before: the default 64 MiB).
    #[serde(default)]
    pub shm_size: i64,
    /// `--ulimit`: resource limits replacing the defaults of the same name.
    #[serde(default)]
    pub ulimits: Vec<crate::engine::runtime::ulimits::Ulimit>,
    /// `--group-add`: more groups (names resolved in the container's /etc/group at start).
    #[serde(default)]
    pub group_add: Vec<String>,
    /// `--pid`: "" (own namespace) or `host`.
    #[serde(default)]
    pub pid_mode: String,
    /// `--ipc`: `private` (the default), `shareable` or `host` ("" in a record from before).
    #[serde(default)]
    pub ipc_mode: String,
    /// `--uts`: "" (own namespace) or `host`.
    #[serde(default, rename = "UTSMode")]
    pub uts_mode: String,
    /// `--device`: host device nodes made in the container.
    #[serde(default)]
    pub devices: Vec<crate::engine::runtime::user_devices::DeviceMapping>,
    /// `-p`: container port (`80/tcp`) to the host addresses and ports it is published on (an
    /// empty host port: any free one, chosen at each start).
    #[serde(default)]
    pub port_bindings: crate::engine::network::ports::PortBindings,
    /// `-P`: every exposed port on a free host port.
    #[serde(default)]
    pub publish_all_ports: bool,
    /// `--link NAME:ALIAS` (docker stores `/NAME:/ME/ALIAS`; berth keeps `NAME:ALIAS`).
    #[serde(default)]
    pub links: Vec<String>,
    /// `--restart`: applied by the container's monitor.
    #[serde(default)]
    pub restart_policy: super::restart_policy::RestartPolicy,
}

impl HostConfig {
    /// Whether `--security-opt no-new-privileges` was given.
    pub fn no_new_privileges(&self) -> bool {
        self.security_opt
            .iter()
            .any(|o| o == "no-new-privileges" || o == "no-new-privileges:true")
    }
}

/// The runtime state (Docker's `State` plus what berth needs to find the monitor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    /// Host pid of the container's process while it runs.
    pub pid: i32,
    pub exit_code: i32,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub oom_killed: bool,
    /// Why the last start failed, or what happened to a lost monitor.
    pub error: String,
    /// The monitor's pid and its start time (clock ticks since boot), while it runs.
    pub monitor_pid: i32,
    pub monitor_start: u64,
    /// The monitor waits to restart the container (its restart policy).
    #[serde(default)]
    pub restarting: bool,
    /// A user stopped it (`stop`, `rm -f`): no restart by policy until the next start.
    #[serde(default)]
    pub manually_stopped: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            started_at: None,
            finished_at: None,
            oom_killed: false,
            error: String::new(),
            monitor_pid: 0,
            monitor_start: 0,
            restarting: false,
            manually_stopped: false,
        }
    }
}

/// One container, as stored in `containers.record`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// 64 lowercase hex digits.
    pub id: String,
    /// Unique name, without Docker's leading `/`.
    pub name: String,
    /// The image as the user named it (or the rootfs path with `--rootfs`).
    pub image: String,
    /// The image id (`sha256:…`), empty with `--rootfs`.
    pub image_id: String,
    /// Read-only lower directories of the rootfs, top layer first (overlay order).
    pub lowers: Vec<PathBuf>,
    pub created: DateTime<Utc>,
    pub config: Config,
    pub host_config: HostConfig,
    pub state: State,
    #[serde(default)]
    pub restart_count: u32,
    /// Volumes, binds and tmpfs mounts (Docker's inspect `Mounts` shape; see engine::mounts).
    #[serde(default)]
    pub mounts: Vec<crate::engine::mounts::MountPoint>,
    /// The networks the container joins at start (bridge or user-defined modes), by name, with
    /// what was asked for on each (docker's `NetworkingConfig.EndpointsConfig`).
    #[serde(default)]
    pub networks: std::collections::BTreeMap<String, crate::engine::network::EndpointConfig>,
    /// Docker's `State.Health`, from the `health` table (filled in when the record is loaded,
    /// never saved with it).
    #[serde(skip)]
    pub health: Option<crate::engine::compat::health::Health>,
}

impl ContainerRecord {
    /// A record of a `busybox` container in `status` with nothing else set, for unit tests.
    #[cfg(test)]
    pub fn for_tests(id: &str, name: &str, status: Status) -> ContainerRecord {
        ContainerRecord {
            id: id.into(),
            name: name.into(),
            image: "busybox".into(),
            image_id: String::new(),
            lowers: Vec::new(),
            created: Utc::now(),
            config: Config::default(),
            host_config: HostConfig::default(),
            state: State {
                status,
                ..State::default()
            },
            restart_count: 0,
            mounts: Vec::new(),
            networks: Default::default(),
            health: None,
        }
    }

    /// The first 12 hex digits, Docker's short id (and default hostname).
    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }

    /// The command line as `ps` shows it.
    pub fn command_line(&self) -> String {
        let mut all = self.config.entrypoint.clone();
        all.extend(self.config.cmd.iter().cloned());
        all.join(" ")
    }

    /// Whether the container has a health check that runs (not `NONE`).
    pub fn health_active(&self) -> bool {
        self.config
            .healthcheck
            .as_ref()
            .is_some_and(|h| h.probe().is_some())
    }

    /// The health word `ps --filter health=` matches: `starting`, `healthy`, `unhealthy`, or
    /// `none` for a container without a check.
    pub fn health_word(&self) -> &'static str {
        match &self.health {
            Some(h) if self.health_active() => h.status.as_str(),
            _ => "none",
        }
    }

    /// Docker's human status (`Up 3 minutes`, `Exited (0) 2 seconds ago`, `Created`).
    pub fn human_status(&self, now: DateTime<Utc>) -> String {
        let ago = |t: Option<DateTime<Utc>>| t.map(|t| human_duration(now - t)).unwrap_or_default();
        match self.state.status {
            Status::Created => "Created".to_string(),
            Status::Running => match &self.health {
                Some(h) if self.health_active() => {
                    format!("Up {} ({})", ago(self.state.started_at), h.status.ps_word())
                }
                _ => format!("Up {}", ago(self.state.started_at)),
            },
            Status::Paused => format!("Up {} (Paused)", ago(self.state.started_at)),
            Status::Exited if self.state.restarting => format!(
                "Restarting ({}) {} ago",
                self.state.exit_code,
                ago(self.state.finished_at)
            ),
            Status::Exited => format!(
                "Exited ({}) {} ago",
                self.state.exit_code,
                ago(self.state.finished_at)
            ),
            Status::Removing => "Removal In Progress".to_string(),
        }
    }
}

/// Docker's rough durations ("Less than a second", "5 seconds", "3 minutes", "2 hours", "4 days").
pub fn human_duration(d: chrono::TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0 => "Less than a second".to_string(),
        1 => "1 second".to_string(),
        2..=59 => format!("{s} seconds"),
        60..=119 => "About a minute".to_string(),
        120..=3599 => format!("{} minutes", s / 60),
        3600..=7199 => "About an hour".to_string(),
        7200..=172_799 => format!("{} hours", s / 3600),
        _ => format!("{} days", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_follow_the_state_machine() {
        assert!(Status::Created.can_start() && Status::Exited.can_start());
        assert!(!Status::Running.can_start() && !Status::Removing.can_start());
        assert!(Status::Running.can_kill() && Status::Paused.can_kill());
        assert!(!Status::Exited.can_kill());
        assert!(Status::Running.can_pause() && !Status::Paused.can_pause());
        assert!(Status::Paused.can_unpause());
        assert!(!Status::Running.can_remove() && Status::Exited.can_remove());
        assert_eq!(Status::parse("exited").unwrap(), Status::Exited);
        assert!(Status::parse("dead")
            .unwrap_err()
            .to_string()
            .contains("invalid status"));
    }

    #[test]
    fn durations_read_like_docker() {
        assert_eq!(
            human_duration(chrono::TimeDelta::seconds(0)),
            "Less than a second"
        );
        assert_eq!(human_duration(chrono::TimeDelta::seconds(5)), "5 seconds");
        assert_eq!(human_duration(chrono::TimeDelta::seconds(300)), "5 minutes");
        assert_eq!(
            human_duration(chrono::TimeDelta::seconds(10_000)),
            "2 hours"
        );
    }
}
