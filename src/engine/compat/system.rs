//! Docker's `version` and `info` objects (the parts berth fills), as `docker version --format`
//! and `docker info --format` templates and a future API socket see them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

/// A `Platform` object: its name.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct PlatformName {
    pub name: String,
}

/// One of the server's components and its version.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Component {
    pub name: String,
    pub version: String,
}

/// The client half of `version`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ClientVersion {
    pub platform: PlatformName,
    pub version: String,
    pub os: String,
    pub arch: String,
}

/// The server half of `version` (the in-process engine).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ServerVersion {
    pub platform: PlatformName,
    pub version: String,
    pub os: String,
    pub arch: String,
    pub kernel_version: String,
    pub root_dir: PathBuf,
    pub components: Vec<Component>,
}

/// `docker version`'s object.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    pub client: ClientVersion,
    pub server: ServerVersion,
}

/// A runtime of `Runtimes`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Runtime {
    pub path: String,
}

/// `RegistryConfig` of `info`: berth's registries file, its mirrors and insecure registries.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct RegistryConfig {
    pub config_file: PathBuf,
    pub mirrors: BTreeMap<String, Vec<String>>,
    pub insecure_registries: Vec<String>,
}

/// `docker info`'s object (docker's field names, plus `Volumes`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Info {
    pub containers: usize,
    pub containers_running: usize,
    pub containers_paused: usize,
    pub containers_stopped: usize,
    pub images: usize,
    pub volumes: usize,
    pub driver: String,
    pub cgroup_driver: String,
    pub cgroup_version: String,
    pub runtimes: BTreeMap<String, Runtime>,
    pub default_runtime: String,
    pub kernel_version: String,
    pub operating_system: String,
    #[serde(rename = "OSType")]
    pub os_type: String,
    pub architecture: String,
    #[serde(rename = "NCPU")]
    pub ncpu: usize,
    pub mem_total: u64,
    pub name: String,
    pub server_version: String,
    pub docker_root_dir: PathBuf,
    pub registry_config: RegistryConfig,
}
