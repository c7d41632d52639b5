//! The TUI's view model: rows the panes show, independent of the engine's own types.
//! `jobs` maps engine records into these; everything else in the TUI only sees these.

use chrono::{DateTime, Utc};

/// Lifecycle state of a container, as the containers pane shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContainerState {
    Created,
    Running,
    Paused,
    Exited,
    Removing,
}

impl ContainerState {
    /// Lower-case label (`running`, `exited` …).
    pub fn label(self) -> &'static str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Exited => "exited",
            ContainerState::Removing => "removing",
        }
    }

    /// Whether the process is alive (running or paused).
    pub fn is_alive(self) -> bool {
        matches!(self, ContainerState::Running | ContainerState::Paused)
    }
}

/// One recorded event (the events pane).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Position in the journal (increasing; the row's key).
    pub seq: String,
    pub time: DateTime<Utc>,
    /// `container`, `image`, `volume`, `network`.
    pub kind: String,
    /// `start`, `die`, `health_status: healthy`, …
    pub action: String,
    /// The object's name when it has one, else its (short) id.
    pub actor: String,
    /// The other attributes, `key=value` joined.
    pub attributes: String,
}

/// A container's health check verdict (docker's `State.Health.Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Health {
    Starting,
    Healthy,
    Unhealthy,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

/// One container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRow {
    /// Full id (64 hex).
    pub id: String,
    pub name: String,
    /// The image as the user named it.
    pub image: String,
    pub state: ContainerState,
    /// Exit code once exited.
    pub exit_code: Option<i32>,
    pub created: DateTime<Utc>,
    /// When the current (or last) run started.
    pub started: Option<DateTime<Utc>>,
    /// When it last exited.
    pub finished: Option<DateTime<Utc>>,
    /// Published ports, rendered (`8080->80/tcp`), empty when none.
    pub ports: String,
    /// The command line.
    pub command: String,
    /// CPU use over the last second, in hundredths of a percent of one CPU (running only,
    /// from the second stats sample on).
    pub cpu: Option<u32>,
    /// Memory in use (running only).
    pub memory: Option<u64>,
    /// The health check's verdict; `None` without a check.
    pub health: Option<Health>,
    /// Restarts by the restart policy (docker's `RestartCount`).
    pub restarts: u32,
}

/// One container's stats sample, for the CPU and memory columns and the graphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatSample {
    pub id: String,
    /// CPU time used since the start, in nanoseconds.
    pub cpu_ns: u64,
    pub memory: u64,
    /// Bytes received and sent, read and written, since the start.
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub at: DateTime<Utc>,
}

/// One image tag (an untagged image is one row with `<none>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRow {
    /// Config digest (`sha256:…`).
    pub id: String,
    /// `repo:tag`, or `<none>:<none>`.
    pub reference: String,
    /// Unpacked size in bytes.
    pub size: u64,
    pub created: Option<DateTime<Utc>>,
    /// Number of containers created from it.
    pub containers: usize,
}

/// One volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRow {
    pub name: String,
    /// Size in bytes when the engine knows it cheaply.
    pub size: Option<u64>,
    /// Names of containers that mount it.
    pub used_by: Vec<String>,
    pub created: Option<DateTime<Utc>>,
}

/// Which output stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One log line of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: DateTime<Utc>,
    pub stream: Stream,
    /// Container id.
    pub container: String,
    /// The text without its trailing newline; may hold ANSI SGR sequences.
    pub text: String,
}

/// What a pull shows of one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRow {
    pub digest: String,
    /// Docker's wording of the state ("Downloading", "Pull complete" …).
    pub state: String,
    pub done: u64,
    pub total: u64,
    pub finished: bool,
}

/// What the run form asks the engine to do.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunSpec {
    pub image: String,
    pub name: Option<String>,
    /// Command and arguments (empty: the image's default).
    pub command: Vec<String>,
    /// `KEY=VALUE` pairs.
    pub env: Vec<String>,
    /// `SRC:DST[:ro]` mounts (SRC a volume name or an absolute host path).
    pub volumes: Vec<String>,
    /// `-p` values.
    pub ports: Vec<String>,
    /// `--network` (the engine's default when `None`).
    pub network: Option<String>,
    /// `--network-alias` values.
    pub aliases: Vec<String>,
    pub detach: bool,
    pub remove: bool,
    /// `-w`, `-u`, `--memory` (bytes), `--cpus`, `--restart`.
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub memory: Option<i64>,
    pub cpus: Option<f64>,
    pub restart: Option<String>,
    /// `-it`.
    pub tty: bool,
}

/// One network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRow {
    /// 64 hex digits.
    pub id: String,
    pub name: String,
    pub driver: String,
    /// `172.18.0.0/16`.
    pub subnet: String,
    pub gateway: String,
    /// No route out (`--internal`).
    pub internal: bool,
    /// Names of the containers attached now (running ones hold an address).
    pub containers: Vec<String>,
    /// Names of every container made to join it, running or not (prune keeps the network).
    pub users: Vec<String>,
    pub created: Option<DateTime<Utc>>,
}

/// What the network form asks the engine to make.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkSpec {
    pub name: String,
    pub subnet: Option<String>,
    pub internal: bool,
}

/// What the commit form asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitSpec {
    pub reference: Option<String>,
    pub message: Option<String>,
    pub author: Option<String>,
}

/// What the build form asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildSpec {
    pub context: String,
    /// `None`: `CONTEXT/Dockerfile`.
    pub dockerfile: Option<String>,
    pub tags: Vec<String>,
    pub args: Vec<(String, String)>,
    pub no_cache: bool,
}

/// A line a build wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildLine {
    /// The build's own (`Step 2/5 : RUN …`, ` ---> Using cache`).
    Step(String),
    /// Output of a RUN's container.
    Output(String),
}

/// One layer of an image, base first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    pub diff_id: String,
    pub size: u64,
    /// The instruction that made it.
    pub created_by: String,
}

/// What a layer does to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Changed,
    Removed,
}

/// One path of a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRow {
    /// Relative, `/`-separated.
    pub path: String,
    pub change: Change,
    pub dir: bool,
    /// A file's bytes (a directory's: 0; the explorer sums what is below it).
    pub size: u64,
    /// A symlink (shown with `@`).
    pub link: bool,
}
