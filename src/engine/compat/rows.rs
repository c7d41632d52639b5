//! The rows of docker's lists (`ps`, `images`, `volume ls`): what `--format json` prints and
//! what a `--format` template reads, with docker's field names and text forms.

use serde::Serialize;

/// A row of `ps` (docker's `formatter.ContainerContext`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PsRow {
    #[serde(rename = "ID")]
    pub id: String,
    pub image: String,
    /// The command line, quoted (and cut unless `--no-trunc`).
    pub command: String,
    /// `2026-12-02 10:00:00 +0000 UTC`.
    pub created_at: String,
    /// `3 minutes ago`.
    pub running_for: String,
    pub ports: String,
    pub state: String,
    pub status: String,
    /// Filled with `-s`.
    pub size: String,
    pub names: String,
    /// `k=v,k2=v2`.
    pub labels: String,
    /// Volume names and bind sources, comma-separated.
    pub mounts: String,
    pub networks: String,
    pub local_volumes: String,
    /// Not docker's; kept for scripts that read it.
    pub exit_code: i32,
}

/// A row of `images` (docker's `formatter.ImageContext`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageRow {
    #[serde(rename = "ID")]
    pub id: String,
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub created_since: String,
    pub created_at: String,
    pub size: String,
    pub containers: String,
    pub virtual_size: String,
    pub shared_size: String,
    pub unique_size: String,
    /// Not docker's row fields, kept for scripts that read them: the whole id.
    #[serde(rename = "Id")]
    pub id_full: String,
    pub repo_digests: Vec<String>,
    pub platform: String,
}

/// A row of `volume ls` (docker's `formatter.volumeContext`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeRow {
    pub name: String,
    pub driver: String,
    pub scope: String,
    pub mountpoint: String,
    /// `k=v,k2=v2`.
    pub labels: String,
    /// How many containers use it.
    pub links: String,
    pub size: String,
    /// Not docker's row fields, kept for scripts that read them.
    pub created_at: String,
    pub anonymous: bool,
    pub used_by: Vec<String>,
}

/// Docker's table headers of the row fields, for `--format "table …"`.
pub const PS_HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("Networks", "NETWORKS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
];

/// Docker's `images` table headers.
pub const IMAGE_HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("VirtualSize", "VIRTUAL SIZE"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
];

/// Docker's `volume ls` table headers.
pub const VOLUME_HEADERS: &[(&str, &str)] = &[
    ("Name", "VOLUME NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
];

/// A row of `search` (docker's `formatter.SearchContext`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SearchRow {
    /// `host/repository` (a registry's catalog) or the Hub's name.
    pub name: String,
    pub description: String,
    pub star_count: u64,
    pub is_official: bool,
}

/// Headers of `search`'s table templates.
pub const SEARCH_HEADERS: &[(&str, &str)] = &[
    ("Name", "NAME"),
    ("Description", "DESCRIPTION"),
    ("StarCount", "STARS"),
    ("IsOfficial", "OFFICIAL"),
];
