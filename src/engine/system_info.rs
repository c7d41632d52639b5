//! `version` and `info`: what the engine knows of itself and of the host, in Docker's shapes
//! ([`crate::engine::compat::system`]).

use std::collections::BTreeMap;
use std::path::Path;

use super::compat::system::{
    ClientVersion, Component, Info, PlatformName, RegistryConfig, Runtime, ServerVersion, Version,
};
use super::container::{self, Status};
use super::distribution::manifest::Platform;
use super::distribution::mirrors;
use super::error::Result;
use super::{blocking, Engine};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `version`'s object for an engine rooted at `root` (nothing is opened).
pub fn version(root: &Path) -> Version {
    let host = Platform::host();
    Version {
        client: ClientVersion {
            platform: PlatformName {
                name: "berth".into(),
            },
            version: VERSION.into(),
            os: host.os.clone(),
            arch: host.architecture.clone(),
        },
        server: ServerVersion {
            platform: PlatformName {
                name: "berth engine (daemonless, in-process)".into(),
            },
            version: VERSION.into(),
            os: host.os,
            arch: host.architecture,
            kernel_version: kernel_version(),
            root_dir: root.to_path_buf(),
            components: vec![
                Component {
                    name: "Engine".into(),
                    version: VERSION.into(),
                },
                Component {
                    name: "Runtime".into(),
                    version: "libcontainer (built in)".into(),
                },
            ],
        },
    }
}

impl Engine {
    /// `info`: counts of containers, images and volumes, the host and the registries file.
    pub async fn info(&self) -> Result<Info> {
        blocking(self, info).await
    }
}

fn info(engine: &Engine) -> Result<Info> {
    let containers = container::list(engine)?;
    let count = |s: Status| containers.iter().filter(|c| c.state.status == s).count();
    let running = count(Status::Running);
    let paused = count(Status::Paused);
    let images = engine.images()?.len();
    let volumes = super::volume::ops::list(engine, &Default::default())?.len();
    let registries_path = mirrors::registries_path();
    let registries = mirrors::load(&registries_path)?;
    let mut mirror_map = BTreeMap::new();
    let mut insecure = Vec::new();
    for r in &registries.registry {
        if !r.mirrors.is_empty() {
            mirror_map.insert(r.host.clone(), r.mirrors.clone());
        }
        if r.insecure {
            insecure.push(r.host.clone());
        }
    }
    Ok(Info {
        containers: containers.len(),
        containers_running: running,
        containers_paused: paused,
        containers_stopped: containers.len() - running - paused,
        images,
        volumes,
        driver: "overlay".into(),
        cgroup_driver: "cgroupfs".into(),
        cgroup_version: cgroup_version().into(),
        runtimes: BTreeMap::from([(
            "libcontainer".to_string(),
            Runtime {
                path: "built in".into(),
            },
        )]),
        default_runtime: "libcontainer".into(),
        kernel_version: kernel_version(),
        operating_system: operating_system(),
        os_type: Platform::host().os,
        architecture: std::env::consts::ARCH.into(),
        ncpu: std::thread::available_parallelism().map_or(1, |n| n.get()),
        mem_total: mem_total(),
        name: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        server_version: VERSION.into(),
        docker_root_dir: engine.layout().root().to_path_buf(),
        registry_config: RegistryConfig {
            config_file: registries_path,
            mirrors: mirror_map,
            insecure_registries: insecure,
        },
    })
}

fn kernel_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn operating_system() -> String {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".into())
}

fn mem_total() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// "1" or "2": a cgroup2 hierarchy mounted at /sys/fs/cgroup is version 2.
fn cgroup_version() -> &'static str {
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "2"
    } else {
        "1"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn info_counts_an_empty_root_and_keeps_dockers_names() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let info = engine.info().await.unwrap();
        assert_eq!((info.containers, info.images, info.volumes), (0, 0, 0));
        let v = serde_json::to_value(&info).unwrap();
        for key in [
            "NCPU",
            "OSType",
            "DockerRootDir",
            "ContainersStopped",
            "MemTotal",
        ] {
            assert!(v.get(key).is_some(), "{key} missing: {v}");
        }
        assert!(v["RegistryConfig"]["Mirrors"].is_object(), "{v}");
        let version = serde_json::to_value(version(dir.path())).unwrap();
        assert_eq!(version["Server"]["Components"][1]["Name"], "Runtime");
        assert_eq!(version["Client"]["Platform"]["Name"], "berth");
    }
}
