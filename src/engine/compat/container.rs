//! A container's inspect object in docker's shape ([`ContainerInspect`]): the record's own
//! fields, with the image's `ExposedPorts`, `Volumes` and `Healthcheck` in `Config` (a
//! container's start as its image's), its labels (the image's with `--label` applied) and
//! `NetworkSettings` as docker prints it. Fields in docker's order.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

use super::health::Health;
use super::NetworkSettings;
use crate::engine::container::record::HostConfig;
use crate::engine::container::{ContainerRecord, Status};
use crate::engine::mounts::MountPoint;
use crate::engine::Engine;

/// Docker's `inspect` object of a container.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    pub id: String,
    pub created: String,
    /// The first word of the command (entrypoint, else cmd).
    pub path: Option<String>,
    pub args: Vec<String>,
    pub state: ContainerState,
    /// The image id (its name for a container made from a rootfs).
    pub image: String,
    pub resolv_conf_path: PathBuf,
    pub hostname_path: PathBuf,
    pub hosts_path: PathBuf,
    pub log_path: PathBuf,
    /// `/NAME`.
    pub name: String,
    pub restart_count: u32,
    pub driver: String,
    pub platform: String,
    pub host_config: HostConfig,
    pub graph_driver: GraphDriver,
    /// With `inspect -s`: the bytes the container wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<u64>,
    /// With `inspect -s`: `SizeRw` plus the image's size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<u64>,
    pub mounts: Vec<MountPoint>,
    /// The record's config with the image's fields docker shows there.
    pub config: Value,
    pub network_settings: NetworkSettings,
}

/// Docker's `State` of a container.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: i32,
    pub exit_code: i32,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    /// Only for a container with a health check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

/// Docker's `GraphDriver`: the overlay directories of the container.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriver {
    pub name: String,
    pub data: GraphDriverData,
}

/// The overlay directories of a container.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriverData {
    /// The image's layer directories, `:`-separated, top first.
    pub lower_dir: String,
    pub upper_dir: PathBuf,
    pub work_dir: PathBuf,
    pub merged_dir: PathBuf,
}

/// Docker's time text: RFC 3339 with nanoseconds, or Go's zero time.
fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string())
}

/// The record's own part of the inspect object (no image, no networks).
fn own_fields(engine: &Engine, rec: &ContainerRecord) -> ContainerInspect {
    let dir = engine.layout().container_dir(&rec.id);
    let s = &rec.state;
    let alive = matches!(s.status, Status::Running | Status::Paused);
    let command = rec.config.entrypoint.iter().chain(rec.config.cmd.iter());
    ContainerInspect {
        id: rec.id.clone(),
        created: time(Some(rec.created)),
        path: command.clone().next().cloned(),
        args: command.skip(1).cloned().collect(),
        state: ContainerState {
            status: if s.restarting {
                "restarting"
            } else {
                s.status.as_str()
            }
            .to_string(),
            // Docker counts a container waiting for its restart as running.
            running: alive || s.restarting,
            paused: s.status == Status::Paused,
            restarting: s.restarting,
            oom_killed: s.oom_killed,
            dead: false,
            pid: if alive { s.pid } else { 0 },
            exit_code: s.exit_code,
            error: s.error.clone(),
            started_at: time(s.started_at),
            finished_at: time(s.finished_at),
            health: rec.health.clone().filter(|_| rec.health_active()),
        },
        image: if rec.image_id.is_empty() {
            rec.image.clone()
        } else {
            rec.image_id.clone()
        },
        resolv_conf_path: dir.join("resolv.conf"),
        hostname_path: dir.join("hostname"),
        hosts_path: dir.join("hosts"),
        log_path: dir.join("log.json"),
        name: format!("/{}", rec.name),
        restart_count: rec.restart_count,
        driver: "overlay".into(),
        platform: "linux".into(),
        host_config: rec.host_config.clone(),
        graph_driver: GraphDriver {
            name: "overlay".into(),
            data: GraphDriverData {
                lower_dir: rec
                    .lowers
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join(":"),
                upper_dir: dir.join("upper"),
                work_dir: dir.join("work"),
                merged_dir: dir.join("merged"),
            },
        },
        size_rw: None,
        size_root_fs: None,
        mounts: rec.mounts.clone(),
        config: serde_json::to_value(&rec.config).unwrap_or(Value::Null),
        network_settings: NetworkSettings::for_mode(&rec.host_config.network_mode, String::new()),
    }
}

/// The image config fields a container's `Config` carries.
const FROM_IMAGE: &[&str] = &["Labels", "ExposedPorts", "Volumes", "Healthcheck"];

/// `inspect` of container `rec`.
pub fn inspect(engine: &Engine, rec: &ContainerRecord) -> ContainerInspect {
    let mut v = own_fields(engine, rec);
    let image_config = if rec.image_id.is_empty() {
        None
    } else {
        engine.inspect_image(&rec.image_id).ok().map(|i| i.config)
    };
    if let Value::Object(config) = &mut v.config {
        for key in FROM_IMAGE {
            // The record's labels are the image's with `--label` applied; only a record from
            // before labels were recorded (none at all) shows its image's.
            if *key == "Labels" && !rec.config.labels.is_empty() {
                config.insert(
                    key.to_string(),
                    serde_json::to_value(&rec.config.labels).unwrap_or_default(),
                );
                continue;
            }
            // A record's own health check (the image's with the flags applied) stands; one
            // from before health checks were recorded shows its image's.
            if *key == "Healthcheck" && config.contains_key("Healthcheck") {
                continue;
            }
            let from_image = image_config
                .as_ref()
                .and_then(|c| c.get(*key))
                .filter(|x| !x.is_null())
                .cloned();
            match (from_image, *key) {
                (Some(x), _) => {
                    config.insert(key.to_string(), x);
                }
                // Docker always shows Labels, as an object.
                (None, "Labels") => {
                    config.insert(key.to_string(), Value::Object(Map::new()));
                }
                (None, _) => {}
            }
        }
    }
    let running = matches!(rec.state.status, Status::Running | Status::Paused);
    let own_netns = crate::engine::network::netns::path(engine.layout(), &rec.id);
    let sandbox_key = if running && crate::engine::network::netns::is_mounted(&own_netns) {
        own_netns.display().to_string()
    } else if running && rec.state.pid > 0 {
        format!("/proc/{}/ns/net", rec.state.pid)
    } else {
        String::new()
    };
    let (endpoints, published) = if running {
        use crate::engine::network::store::NetworkStore;
        engine
            .state()
            .read(|tx| {
                Ok((
                    NetworkStore::of(tx).endpoints_of(&rec.id)?,
                    NetworkStore::of(tx).ports_of(&rec.id)?,
                ))
            })
            .unwrap_or_default()
    } else {
        Default::default()
    };
    v.network_settings = super::network::settings(rec, sandbox_key, &endpoints, &published);
    v
}
