//! Messages into the reducer ([`Msg`]) and commands out of it ([`Cmd`]).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyEvent, MouseEvent};

use super::model::{
    ContainerRow, ImageRow, LayerRow, LogLine, NetworkRow, NetworkSpec, RunSpec, VolumeRow,
};

/// Identifies one spawned job, so that answers to superseded requests can be dropped.
pub type JobId = u64;

/// Which list (for prune, inspect and reloads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Container,
    Image,
    Volume,
    Network,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Container => "container",
            Kind::Image => "image",
            Kind::Volume => "volume",
            Kind::Network => "network",
        }
    }
}

/// A command to run in a container's terminal pane (`e`), as `user` (empty: the container's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec {
    pub cmd: Vec<String>,
    pub user: String,
}

/// A lifecycle operation on containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerOp {
    Start,
    Stop,
    Restart,
    Kill,
    Pause,
    Unpause,
}

impl ContainerOp {
    /// Past tense for the status line.
    pub fn done(self) -> &'static str {
        match self {
            ContainerOp::Start => "started",
            ContainerOp::Stop => "stopped",
            ContainerOp::Restart => "restarted",
            ContainerOp::Kill => "killed",
            ContainerOp::Pause => "paused",
            ContainerOp::Unpause => "unpaused",
        }
    }

    /// Verb for error messages.
    pub fn verb(self) -> &'static str {
        match self {
            ContainerOp::Start => "start",
            ContainerOp::Stop => "stop",
            ContainerOp::Restart => "restart",
            ContainerOp::Kill => "kill",
            ContainerOp::Pause => "pause",
            ContainerOp::Unpause => "unpause",
        }
    }
}

/// What the engine reported on its own (not an answer to a job).
#[derive(Debug, Clone, PartialEq)]
pub enum News {
    PullStarted {
        image: String,
        layers: Vec<String>,
    },
    Layer {
        image: String,
        layer: LayerRow,
    },
    PullFinished {
        image: String,
        result: Result<String, String>,
    },
    /// Progress of one layer of a push the session started.
    PushLayer {
        image: String,
        layer: LayerRow,
    },
    /// A push ended: `Ok("TAG: digest: sha256:… size: N")` or why it failed.
    PushFinished {
        image: String,
        result: Result<String, String>,
    },
    Changed(Kind),
}

/// A container the run form started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub id: String,
    pub name: String,
    /// The form asked not to detach: attach to it.
    pub attach: bool,
}

/// The answer of a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Containers(Result<Vec<ContainerRow>, String>),
    Images(Result<Vec<ImageRow>, String>),
    Volumes(Result<Vec<VolumeRow>, String>),
    Networks(Result<Vec<NetworkRow>, String>),
    /// Pretty JSON of an inspect.
    Inspect(Result<String, String>),
    /// The inspect JSON of the object the details pane shows.
    Details(Result<String, String>),
    /// A container's processes: a header row, then one row a process.
    Top(Result<Vec<Vec<String>>, String>),
    /// An action finished: `Ok(what was done)` or `Err(what failed and why)`.
    Done(Result<String, String>),
    /// A container was created and started by the run form.
    Ran(Result<Ran, String>),
    /// The run form's image is not here: ask before pulling it.
    NeedsPull(Box<RunSpec>),
    /// More lines of a followed log.
    LogLines(Vec<LogLine>),
    /// A log follow ended (`Some(error)` when it failed).
    LogsEnded(Option<String>),
    /// Bytes from a shell's terminal.
    ShellOutput(Vec<u8>),
    /// The shell exited or could not start.
    ShellEnded(Option<String>),
    /// Lines of a build under way.
    BuildLines(Vec<super::model::BuildLine>),
    /// A build ended: the image id, or why it failed.
    Built(Result<String, String>),
    /// The layers of the image the explorer shows.
    Layers(Result<Vec<super::model::LayerInfo>, String>),
    /// The entries of one layer.
    LayerEntries(Result<Vec<super::model::EntryRow>, String>),
    /// Stats of the running containers on screen.
    Stats(Result<Vec<super::model::StatSample>, String>),
    /// The system df view's rows.
    DiskUsage(Result<Vec<super::disk_usage::UsageRow>, String>),
}

/// Everything the reducer reacts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// Once a second, with the wall clock.
    Tick(DateTime<Utc>),
    /// The state database changed (another process or this one wrote).
    StateChanged,
    Engine(News),
    /// An event recorded in the journal by any berth process.
    Journal(super::model::EventRow),
    Job(JobId, Output),
}

/// Everything the reducer asks for. Jobs run them; the event loop handles the terminal ones.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    LoadContainers(JobId),
    /// Stats of these containers (once a second, the running ones on screen).
    LoadStats(JobId, Vec<String>),
    LoadImages(JobId),
    LoadVolumes(JobId),
    LoadNetworks(JobId),
    CreateNetwork {
        job: JobId,
        spec: NetworkSpec,
    },
    RemoveNetworks {
        job: JobId,
        names: Vec<String>,
    },
    /// Push an image (by its `repo:tag`) to its registry.
    Push {
        job: JobId,
        image: String,
    },
    /// Save an image to a file (docker-archive).
    SaveImage {
        job: JobId,
        image: String,
        path: PathBuf,
    },
    /// Load the images of an archive file.
    LoadArchive {
        job: JobId,
        path: PathBuf,
    },
    /// Export a container's filesystem to a tar file.
    ExportContainer {
        job: JobId,
        id: String,
        name: String,
        path: PathBuf,
    },
    /// Commit a container to an image.
    Commit {
        job: JobId,
        id: String,
        name: String,
        spec: super::model::CommitSpec,
    },
    /// Build an image; its output comes as `Output::BuildLines`, then `Output::Built`.
    Build {
        job: JobId,
        spec: super::model::BuildSpec,
    },
    /// The layers of an image (the explorer).
    LoadLayers {
        job: JobId,
        image: String,
    },
    /// What one layer of an image adds, changes and removes.
    LoadLayerEntries {
        job: JobId,
        image: String,
        index: usize,
    },
    /// An image's history, answered as `Output::Top` rows (for the details' history tab).
    History {
        job: JobId,
        image: String,
    },
    /// Copy a path out of (or, with `into`, into) a container.
    CopyFiles {
        job: JobId,
        id: String,
        name: String,
        into: bool,
        container_path: String,
        host_path: PathBuf,
    },
    Container {
        job: JobId,
        ids: Vec<String>,
        op: ContainerOp,
    },
    RemoveContainers {
        job: JobId,
        ids: Vec<String>,
        force: bool,
        volumes: bool,
    },
    RemoveImages {
        job: JobId,
        ids: Vec<String>,
        force: bool,
    },
    RemoveVolumes {
        job: JobId,
        names: Vec<String>,
        force: bool,
    },
    CreateVolume {
        job: JobId,
        name: String,
    },
    Prune {
        job: JobId,
        kind: Kind,
    },
    /// Measures the disk usage (the system df view).
    LoadDiskUsage(JobId),
    /// `builder prune`.
    PruneBuildCache(JobId),
    Inspect {
        job: JobId,
        kind: Kind,
        id: String,
    },
    /// The inspect data of the details pane.
    Details {
        job: JobId,
        kind: Kind,
        id: String,
    },
    /// A running container's processes.
    Top {
        job: JobId,
        id: String,
    },
    Pull {
        job: JobId,
        reference: String,
    },
    Run {
        job: JobId,
        spec: Box<RunSpec>,
    },
    /// Follow a container's log: the last `tail` lines (all when `None`) no older than `since`,
    /// then new ones as they come.
    FollowLogs {
        job: JobId,
        container: String,
        tail: Option<usize>,
        since: Option<DateTime<Utc>>,
    },
    /// Stop a long-running job (a log follow, a shell).
    Cancel(JobId),
    SaveLogs {
        job: JobId,
        path: PathBuf,
        text: String,
    },
    /// Open a shell (or attach to the main process) in a pty of `cols`×`rows`; with `start`,
    /// start the created container with the session connected first (run without Detach).
    OpenShell {
        job: JobId,
        container: String,
        attach: bool,
        start: bool,
        cols: u16,
        rows: u16,
        /// A command of the user's instead of the login shell.
        exec: Option<Exec>,
    },
    ShellInput {
        job: JobId,
        bytes: Vec<u8>,
    },
    ShellResize {
        job: JobId,
        cols: u16,
        rows: u16,
    },
    SetMouse(bool),
    /// Put text on the terminal's clipboard (OSC 52).
    Copy(String),
    Quit,
}
