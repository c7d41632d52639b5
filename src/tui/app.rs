//! All UI state, owned by the event loop and changed only by `update`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::config::Config;
use super::input::TextInput;
use super::keymap::{Context, Keymap};
use super::list::ListView;
use super::logview::LogView;
use super::model::{ContainerRow, ImageRow, LayerRow, NetworkRow, VolumeRow};
use super::msg::{Cmd, ContainerOp, JobId};
use super::popup::Popup;
use super::shell::ShellPane;
use super::theme::Theme;

/// The panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Containers,
    Images,
    Volumes,
    Logs,
    Networks,
    Events,
}

impl Pane {
    pub const ALL: [Pane; 6] = [
        Pane::Containers,
        Pane::Images,
        Pane::Volumes,
        Pane::Logs,
        Pane::Networks,
        Pane::Events,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Containers => "Containers",
            Pane::Images => "Images",
            Pane::Volumes => "Volumes",
            Pane::Logs => "Logs",
            Pane::Networks => "Networks",
            Pane::Events => "Events",
        }
    }

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// A pull the session started or saw, with its layers.
#[derive(Debug, Clone, PartialEq)]
pub struct PullProgress {
    pub image: String,
    pub layers: Vec<LayerRow>,
    /// `Some(Ok(id))` or `Some(Err(why))` once finished.
    pub result: Option<Result<String, String>>,
}

impl PullProgress {
    /// Bytes done and total over all layers.
    pub fn bytes(&self) -> (u64, u64) {
        self.layers.iter().fold((0, 0), |(d, t), l| {
            let done = if l.finished {
                l.total
            } else {
                l.done.min(l.total)
            };
            (d + done, t + l.total)
        })
    }
}

/// A line in the status bar that goes away after a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
    pub since: DateTime<Utc>,
}

/// Which text input of the main screen has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    ListFilter,
    LogSearch,
    LogFilter,
}

/// The whole UI.
#[derive(Debug)]
pub struct App {
    pub keymap: Keymap,
    pub theme: Theme,
    /// Shown in the header: the engine root.
    pub root: String,
    pub pane: Pane,
    pub containers: ListView<ContainerRow>,
    pub images: ListView<ImageRow>,
    pub volumes: ListView<VolumeRow>,
    pub networks: ListView<NetworkRow>,
    /// The events recorded since the TUI started (the newest [`crate::tui::update::EVENTS_KEPT`]).
    pub events: ListView<super::model::EventRow>,
    pub logs: LogView,
    pub shell: Option<ShellPane>,
    /// Other open shell and attach sessions, kept alive behind the one shown.
    pub shells_back: Vec<ShellPane>,
    /// The shell pane fills the screen.
    pub shell_zoom: bool,
    pub popup: Option<Popup>,
    /// The run form as last submitted: shown again, with the reason, when the run fails.
    pub run_form: Option<super::popup::RunForm>,
    pub typing: Option<Typing>,
    /// The list filter being typed.
    pub filter_input: TextInput,
    /// Filter text before `/` was pressed, restored by Esc.
    pub typing_backup: String,
    pub pulls: BTreeMap<String, PullProgress>,
    /// Pushes the session started, by `repo:tag`.
    pub pushes: BTreeMap<String, PullProgress>,
    /// The last build the session started.
    pub build: Option<super::build_view::BuildView>,
    /// A run waiting for the pull of its image (the normalised reference).
    pub run_after_pull: Option<(String, super::model::RunSpec)>,
    /// The layer explorer's state (kept while its dialog is closed).
    pub layers: Option<super::layers::Explorer>,
    /// Lifecycle operations under way, by job: the list shows "stopping" … until they end.
    pub busy: BTreeMap<JobId, (ContainerOp, Vec<String>)>,
    pub status: Option<Status>,
    pub mouse: bool,
    pub size: (u16, u16),
    /// Wall clock of the last tick; ages and uptimes are relative to it.
    pub now: DateTime<Utc>,
    next_job: JobId,
    pub containers_job: JobId,
    /// The containers load of `containers_job` has not answered yet.
    pub containers_loading: bool,
    /// A change was reported while that load ran: load again when it answers.
    pub containers_again: bool,
    /// The images, volumes and networks wait for the containers' first answer.
    pub rest_pending: bool,
    pub images_job: JobId,
    pub volumes_job: JobId,
    pub networks_job: JobId,
    pub inspect_job: JobId,
    pub stats_job: JobId,
    /// The last CPU time seen of each running container on screen, and when.
    pub cpu_seen: std::collections::HashMap<String, (u64, DateTime<Utc>)>,
    /// The recent samples of each container sampled, for the details pane's graphs.
    pub graphs: super::graphs::Histories,
    /// The system df view's state.
    pub disk: Option<super::disk_usage::DiskView>,
    /// The details pane's tab and the data it shows.
    pub details: super::details::Details,
    pub quit: bool,
}

impl App {
    pub fn new(config: Config, root: String, now: DateTime<Utc>) -> App {
        App {
            keymap: config.keymap,
            theme: config.theme,
            root,
            pane: Pane::Containers,
            containers: ListView::default(),
            images: ListView::default(),
            volumes: ListView::default(),
            networks: ListView::default(),
            // Nothing to load: it fills as events are recorded.
            events: ListView {
                loaded: true,
                ..ListView::default()
            },
            logs: LogView::default(),
            shell: None,
            shells_back: Vec::new(),
            shell_zoom: false,
            popup: None,
            run_form: None,
            typing: None,
            filter_input: TextInput::default(),
            typing_backup: String::new(),
            pulls: BTreeMap::new(),
            pushes: BTreeMap::new(),
            build: None,
            run_after_pull: None,
            layers: None,
            busy: BTreeMap::new(),
            status: None,
            mouse: config.mouse,
            size: (80, 24),
            now,
            next_job: 0,
            containers_job: 0,
            containers_loading: false,
            containers_again: false,
            rest_pending: false,
            images_job: 0,
            volumes_job: 0,
            networks_job: 0,
            inspect_job: 0,
            stats_job: 0,
            cpu_seen: Default::default(),
            graphs: Default::default(),
            disk: None,
            details: Default::default(),
            quit: false,
        }
    }

    /// A fresh job id.
    pub fn job(&mut self) -> JobId {
        self.next_job += 1;
        self.next_job
    }

    /// The commands to run at start: the containers first, the list the first screen shows;
    /// the other lists when it has answered ([`App::rest_pending`]), so that their loads (two of
    /// which read every container record too) do not delay it.
    pub fn start(&mut self) -> Vec<Cmd> {
        self.rest_pending = true;
        vec![self.reload_containers()]
    }

    /// The loads [`App::start`] left for after the containers.
    pub fn load_rest(&mut self) -> Vec<Cmd> {
        if !std::mem::take(&mut self.rest_pending) {
            return Vec::new();
        }
        vec![
            self.reload_images(),
            self.reload_volumes(),
            self.reload_networks(),
        ]
    }

    /// The commands to load every list.
    pub fn init(&mut self) -> Vec<Cmd> {
        self.rest_pending = false;
        vec![
            self.reload_containers(),
            self.reload_images(),
            self.reload_volumes(),
            self.reload_networks(),
        ]
    }

    pub fn reload_networks(&mut self) -> Cmd {
        self.networks_job = self.job();
        Cmd::LoadNetworks(self.networks_job)
    }

    pub fn reload_containers(&mut self) -> Cmd {
        self.containers_job = self.job();
        self.containers_loading = true;
        self.containers_again = false;
        Cmd::LoadContainers(self.containers_job)
    }

    pub fn reload_images(&mut self) -> Cmd {
        self.images_job = self.job();
        Cmd::LoadImages(self.images_job)
    }

    pub fn reload_volumes(&mut self) -> Cmd {
        self.volumes_job = self.job();
        Cmd::LoadVolumes(self.volumes_job)
    }

    /// Key contexts of the focused pane, most specific first.
    pub fn contexts(&self) -> &'static [Context] {
        if matches!(self.popup, Some(super::popup::Popup::Inspect(_))) {
            return &[Context::Inspect, Context::Popup, Context::Global];
        }
        if self.popup.is_some() {
            return &[Context::Popup, Context::Global];
        }
        match self.pane {
            Pane::Logs => &[Context::Logs, Context::List, Context::Global],
            _ => &[Context::List, Context::Global],
        }
    }

    /// The lifecycle operation under way on container `id`, if any.
    pub fn busy_op(&self, id: &str) -> Option<ContainerOp> {
        self.busy
            .values()
            .find(|(_, ids)| ids.iter().any(|i| i == id))
            .map(|(op, _)| *op)
    }

    /// Whether `action` does something in the focused pane (the status bar advertises only
    /// those).
    pub fn applies(&self, action: super::keymap::Action) -> bool {
        use super::keymap::Action as A;
        match action {
            A::StartStop | A::Restart | A::Kill | A::Pause | A::Shell | A::Attach | A::Exec => {
                matches!(self.pane, Pane::Containers | Pane::Logs)
            }
            A::Zoom => self.shell.is_some(),
            A::Push | A::SaveImage | A::LoadImage | A::Layers => self.pane == Pane::Images,
            A::Commit | A::Export | A::CopyFiles => {
                matches!(self.pane, Pane::Containers | Pane::Logs)
            }
            A::NextShell => !self.shells_back.is_empty(),
            A::CreateVolume => matches!(self.pane, Pane::Volumes | Pane::Networks),
            // The events pane only lists, filters and sorts.
            A::Open | A::Remove | A::Prune | A::Inspect | A::Copy | A::DetailsTab
                if self.pane == Pane::Events =>
            {
                false
            }
            A::Mark | A::MarkAll if self.pane == Pane::Events => false,
            A::Open => self.pane != Pane::Logs,
            A::Filter | A::Sort | A::SortReverse | A::Mark | A::MarkAll => self.pane != Pane::Logs,
            _ => true,
        }
    }

    /// Shows a message in the status bar.
    pub fn say(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            error: false,
            since: self.now,
        });
    }

    /// Shows an error in the status bar.
    pub fn complain(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: super::messages::tidy(&text.into()),
            error: true,
            since: self.now,
        });
    }

    /// Whether the screen is wide enough for the list and the logs side by side.
    pub fn wide(&self) -> bool {
        self.size.0 >= 100
    }

    /// Rows a list pane shows (for paging and scrolling).
    pub fn list_height(&self) -> usize {
        usize::from(self.size.1.saturating_sub(5)).max(1)
    }

    /// Rows the logs pane shows.
    pub fn logs_height(&self) -> usize {
        let h = self.size.1.saturating_sub(4);
        let h = if self.shell.is_some() { h / 2 } else { h };
        usize::from(h).max(1)
    }

    /// Name of a container by id (the id's first 12 digits when unknown).
    pub fn container_name(&self, id: &str) -> String {
        self.containers
            .items
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| super::format::short_id(id).to_string())
    }
}
