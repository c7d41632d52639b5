//! Engine events: pull progress and state changes, for the CLI's progress display and the TUI.

use serde::Serialize;

/// What is happening to one layer of a pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LayerState {
    /// Queued behind other downloads.
    Waiting,
    /// Bytes are arriving.
    Downloading,
    /// Checking size and sha256.
    Verifying,
    /// Unpacking into the layer store.
    Extracting,
    /// Stored and unpacked.
    Done,
    /// Already in the store; nothing fetched.
    AlreadyExists,
}

impl LayerState {
    /// Docker's wording for the state.
    pub fn label(self) -> &'static str {
        match self {
            LayerState::Waiting => "Waiting",
            LayerState::Downloading => "Downloading",
            LayerState::Verifying => "Verifying Checksum",
            LayerState::Extracting => "Extracting",
            LayerState::Done => "Pull complete",
            LayerState::AlreadyExists => "Already exists",
        }
    }
}

/// Progress of one layer of one pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerProgress {
    /// The image being pulled, as the user named it (normalised).
    pub image: String,
    /// Layer blob digest (`sha256:…`).
    pub digest: String,
    /// Current state.
    pub state: LayerState,
    /// Bytes done in this state (downloaded or extracted).
    pub done: u64,
    /// Total bytes (the blob size from the manifest).
    pub total: u64,
}

/// Something the engine did that a UI may want to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum EngineEvent {
    /// A pull resolved its manifest; `layers` are the layer digests in order.
    PullStarted { image: String, layers: Vec<String> },
    /// A layer changed state or made progress.
    Layer(LayerProgress),
    /// A pull ended; `image_id` is set on success.
    PullFinished {
        image: String,
        image_id: Option<String>,
        error: Option<String>,
    },
    /// Images were added, tagged or removed.
    ImagesChanged,
    /// A container was created, changed state or was removed.
    ContainersChanged,
    /// Volumes were added or removed.
    VolumesChanged,
    /// A network was created or removed.
    NetworksChanged,
}
