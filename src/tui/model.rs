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
}

/// One container's stats sample, for the CPU and memory columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatSample {
    pub id: String,
    /// CPU time used since the start, in nanoseconds.
    pub cpu_ns: u64,
    pub memory: u64,
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
