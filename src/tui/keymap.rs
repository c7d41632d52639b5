//! The one key table: every key the TUI reacts to maps to an [`Action`] here, with its help
//! text. The help popup and the status bar are generated from this table; `tui.toml` can rebind
//! any action (see [`Keymap::rebind`]). Panes never match raw key codes.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies. A pane resolves keys through a list of contexts, most specific
/// first (the logs pane: `Logs`, `List`, `Global`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Global,
    /// The containers, images and volumes lists (and the logs pane, for the shown container).
    List,
    Logs,
    /// The inspect dialog (before the other dialog keys).
    Inspect,
    Popup,
}

impl Context {
    /// Heading in the help popup.
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::List => "Lists (containers, images, volumes)",
            Context::Logs => "Logs",
            Context::Inspect => "Inspect dialog",
            Context::Popup => "Dialogs",
        }
    }
}

macro_rules! actions {
    ($($variant:ident = $name:literal),* $(,)?) => {
        /// Something a key can do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action { $($variant),* }

        impl Action {
            /// The action's name in `tui.toml`.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),* }
            }

            /// The action called `name` in `tui.toml`.
            pub fn from_name(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

actions! {
    Quit = "quit", Help = "help", NextPane = "next_pane", PrevPane = "prev_pane",
    PaneContainers = "pane_containers", PaneImages = "pane_images", PaneVolumes = "pane_volumes",
    PaneLogs = "pane_logs", Up = "up", Down = "down", PageUp = "page_up", PageDown = "page_down",
    Top = "top", Bottom = "bottom", Open = "open", Back = "back", Mouse = "mouse", Pull = "pull",
    Run = "run", Filter = "filter", Sort = "sort", SortReverse = "sort_reverse", Mark = "mark",
    MarkAll = "mark_all", StartStop = "start_stop", Restart = "restart", Kill = "kill",
    Pause = "pause", Remove = "remove", Inspect = "inspect", Shell = "shell", Attach = "attach",
    Prune = "prune", CreateVolume = "create_volume", Search = "search", NextMatch = "next_match",
    PrevMatch = "prev_match", LogFilter = "log_filter", Timestamps = "timestamps", Wrap = "wrap",
    Tail = "tail", Since = "since", Save = "save", Confirm = "confirm", Cancel = "cancel",
    ToggleForce = "toggle_force", ToggleVolumes = "toggle_volumes", Zoom = "zoom",
    NextShell = "next_shell", Copy = "copy",
    InspectSearch = "inspect_search", InspectNext = "inspect_next", InspectPrev = "inspect_prev",
    DetailsTab = "details_tab", Exec = "exec", PaneNetworks = "pane_networks",
    PaneEvents = "pane_events",
    Push = "push", SaveImage = "save_image", LoadImage = "load_image", Export = "export",
    CopyFiles = "copy_files", Commit = "commit", Build = "build", Layers = "layers",
    DiskUsage = "disk_usage",
}

/// A key with its modifiers. For characters, shift is part of the character (`G`), not a
/// modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Key {
        Key {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    pub const fn ch(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            mods: KeyModifiers::CONTROL,
        }
    }

    /// The key of a terminal key event.
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        if !matches!(ev.code, KeyCode::Char(_)) {
            mods |= ev.modifiers & KeyModifiers::SHIFT;
        }
        let code = match ev.code {
            // Some terminals report shift-tab as shift + Tab.
            KeyCode::Tab if ev.modifiers.contains(KeyModifiers::SHIFT) => {
                mods -= KeyModifiers::SHIFT;
                KeyCode::BackTab
            }
            KeyCode::BackTab => {
                mods -= KeyModifiers::SHIFT;
                KeyCode::BackTab
            }
            c => c,
        };
        Key { code, mods }
    }

    /// Parses `q`, `G`, `ctrl-c`, `alt-x`, `enter`, `esc`, `space`, `tab`, `backtab`, `up`,
    /// `down`, `left`, `right`, `pgup`, `pgdown`, `home`, `end`, `backspace`, `delete`, `f1`…
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "space" => KeyCode::Char(' '),
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" => KeyCode::PageUp,
            "pgdown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
            _ => {
                return Err(format!(
                    "{s:?} is not a key (use a character, or ctrl-/alt- with one, or enter, esc, space, tab, backtab, up, down, left, right, pgup, pgdown, home, end, backspace, delete, f1-f12)"
                ))
            }
        };
        Ok(Key { code, mods })
    }

    /// Short label for help and the status bar.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Esc => "Esc".to_string(),
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Tab => "Tab".to_string(),
            KeyCode::BackTab => "S-Tab".to_string(),
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::Home => "Home".to_string(),
            KeyCode::End => "End".to_string(),
            KeyCode::Backspace => "Bksp".to_string(),
            KeyCode::Delete => "Del".to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Char(c) => c.to_string(),
            _ => "?".to_string(),
        };
        let mut out = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            out.push_str("C-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            out.push_str("M-");
        }
        out.push_str(&base);
        out
    }
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Binding {
    pub action: Action,
    pub context: Context,
    pub keys: Vec<Key>,
    /// Help text.
    pub help: &'static str,
    /// Label in the status bar (only the most used actions have one).
    pub short: Option<&'static str>,
}

/// All bindings, in help order.
#[derive(Debug, Clone)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Keymap {
    /// The action bound to `key` in the first of `contexts` that binds it.
    pub fn action(&self, contexts: &[Context], key: Key) -> Option<Action> {
        contexts.iter().find_map(|ctx| {
            self.bindings
                .iter()
                .find(|b| b.context == *ctx && b.keys.contains(&key))
                .map(|b| b.action)
        })
    }

    /// The binding of `action`.
    pub fn binding(&self, action: Action) -> Option<&Binding> {
        self.bindings.iter().find(|b| b.action == action)
    }

    /// The first key of `action`, as a label (for prompts like "press d to remove").
    pub fn key_label(&self, action: Action) -> String {
        self.binding(action)
            .and_then(|b| b.keys.first())
            .map(Key::label)
            .unwrap_or_else(|| "(unbound)".to_string())
    }

    /// Binds `keys` to `action`, replacing its keys, and takes those keys away from every
    /// other action of the same context so that the new binding wins.
    pub fn rebind(&mut self, action: Action, keys: Vec<Key>) -> Result<(), String> {
        let ctx = self
            .binding(action)
            .map(|b| b.context)
            .ok_or_else(|| format!("action {} has no binding", action.name()))?;
        for b in &mut self.bindings {
            if b.action == action {
                b.keys = keys.clone();
            } else if b.context == ctx {
                b.keys.retain(|k| !keys.contains(k));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
