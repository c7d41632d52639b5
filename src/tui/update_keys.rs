//! Keys and mouse on the main screen: the keymap turns a key into an [`Action`], and the
//! action acts on the focused pane. Popups and text inputs get their keys first.

use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};

use super::app::{App, Pane, Typing};
use super::input::{Edit, TextInput};
use super::keymap::{Action, Key};
use super::model::ContainerState;
use super::msg::{Cmd, ContainerOp};
use super::popup::{Confirm, Pending, Popup, Prompt, PromptFor, PullDialog, RunForm};
use super::shell::{encode_key, is_leave_key};
use super::update_actions::{container_op, container_targets, copy_id, inspect, prune, remove};
use super::update_logs;

pub use super::update_actions::open_shell;

/// A key press.
pub fn on_key(app: &mut App, ev: KeyEvent) -> Vec<Cmd> {
    if app.popup.is_some() {
        return super::update_popup::on_key(app, ev);
    }
    if let Some(shell) = app
        .shell
        .as_mut()
        .filter(|s| s.focused && s.ended.is_none())
    {
        if is_leave_key(&ev) {
            shell.focused = false;
            return Vec::new();
        }
        return match encode_key(&ev) {
            Some(bytes) => vec![Cmd::ShellInput {
                job: shell.job,
                bytes,
            }],
            None => Vec::new(),
        };
    }
    if let Some(t) = app.typing {
        return typing(app, t, &ev);
    }
    match app.keymap.action(app.contexts(), Key::from_event(&ev)) {
        Some(action) => act(app, action),
        None => Vec::new(),
    }
}

/// Mouse: the wheel scrolls, a click selects a row or focuses the logs.
pub fn on_mouse(app: &mut App, ev: MouseEvent) -> Vec<Cmd> {
    if app.popup.is_some() {
        return match ev.kind {
            MouseEventKind::ScrollUp => super::update_popup::scroll(app, -3),
            MouseEventKind::ScrollDown => super::update_popup::scroll(app, 3),
            _ => Vec::new(),
        };
    }
    let right = app.wide() && ev.column >= super::view::split_column(app);
    match ev.kind {
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let up = ev.kind == MouseEventKind::ScrollUp;
            if right || app.pane == Pane::Logs {
                let h = app.logs_height();
                if up {
                    app.logs.scroll_up(3, h);
                } else {
                    app.logs.scroll_down(3);
                }
                Vec::new()
            } else {
                act(app, if up { Action::Up } else { Action::Down })
            }
        }
        MouseEventKind::Down(MouseButton::Left) => {
            if ev.row == 0 {
                return Vec::new();
            }
            if right {
                app.pane = Pane::Logs;
                return Vec::new();
            }
            if app.pane == Pane::Logs && app.wide() {
                app.pane = Pane::Containers;
            }
            // Rows start under the header line, the border and the column titles.
            let Some(row) = usize::from(ev.row).checked_sub(3) else {
                return Vec::new();
            };
            let h = app.list_height();
            with_list(app, |l| l.click(row, h));
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn with_list(app: &mut App, f: impl FnOnce(&mut dyn ListOps)) {
    match app.pane {
        Pane::Containers | Pane::Logs => f(&mut app.containers),
        Pane::Images => f(&mut app.images),
        Pane::Volumes => f(&mut app.volumes),
        Pane::Networks => f(&mut app.networks),
        Pane::Events => f(&mut app.events),
    }
}

/// What actions need of any list, whatever its row type.
trait ListOps {
    fn move_by(&mut self, delta: isize, height: usize);
    fn set_filter(&mut self, f: &str);
    fn filter(&self) -> String;
    fn cycle_sort(&mut self);
    fn toggle_reverse(&mut self);
    fn toggle_mark(&mut self, height: usize);
    fn toggle_mark_all(&mut self);
    fn clear_marks(&mut self) -> bool;
    /// Selects the `row`-th shown row on screen.
    fn click(&mut self, row: usize, height: usize);
}

impl<T: super::list::Item> ListOps for super::list::ListView<T> {
    fn move_by(&mut self, delta: isize, height: usize) {
        super::list::ListView::move_by(self, delta, height)
    }
    fn set_filter(&mut self, f: &str) {
        super::list::ListView::set_filter(self, f)
    }
    fn filter(&self) -> String {
        self.filter.clone()
    }
    fn cycle_sort(&mut self) {
        super::list::ListView::cycle_sort(self)
    }
    fn toggle_reverse(&mut self) {
        super::list::ListView::toggle_reverse(self)
    }
    fn toggle_mark(&mut self, height: usize) {
        super::list::ListView::toggle_mark(self, height)
    }
    fn toggle_mark_all(&mut self) {
        super::list::ListView::toggle_mark_all(self)
    }
    fn clear_marks(&mut self) -> bool {
        let had = !self.marks.is_empty();
        self.marks.clear();
        had
    }
    fn click(&mut self, row: usize, height: usize) {
        let target = self.offset + row;
        if target < self.view.len() {
            self.selected = target;
            self.scroll_into_view(height);
        }
    }
}

fn typing(app: &mut App, t: Typing, ev: &KeyEvent) -> Vec<Cmd> {
    match t {
        Typing::ListFilter => {
            let edit = app.filter_input.key(ev);
            let h = app.list_height();
            match edit {
                Edit::Changed => {
                    let text = app.filter_input.text.clone();
                    with_list(app, |l| l.set_filter(&text));
                }
                Edit::Submit => app.typing = None,
                Edit::Cancel => {
                    let old = app.typing_backup.clone();
                    with_list(app, |l| l.set_filter(&old));
                    app.typing = None;
                }
                Edit::Next => with_list(app, |l| l.move_by(1, h)),
                Edit::Prev => with_list(app, |l| l.move_by(-1, h)),
                Edit::Moved | Edit::Ignored => {}
            }
            Vec::new()
        }
        Typing::LogSearch | Typing::LogFilter => update_logs::typing(app, t, ev),
    }
}

/// Performs an action on the main screen.
pub fn act(app: &mut App, action: Action) -> Vec<Cmd> {
    let h = app.list_height();
    match action {
        Action::Quit => quit(app),
        Action::Help => {
            app.popup = Some(Popup::Help { scroll: 0 });
            Vec::new()
        }
        Action::NextPane | Action::PrevPane => {
            let n = Pane::ALL.len();
            let step = if action == Action::NextPane { 1 } else { n - 1 };
            focus(app, Pane::ALL[(app.pane.index() + step) % n])
        }
        Action::PaneContainers => focus(app, Pane::Containers),
        Action::PaneImages => focus(app, Pane::Images),
        Action::PaneVolumes => focus(app, Pane::Volumes),
        Action::PaneLogs => focus(app, Pane::Logs),
        Action::PaneNetworks => focus(app, Pane::Networks),
        Action::PaneEvents => focus(app, Pane::Events),
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom
            if app.pane == Pane::Logs =>
        {
            update_logs::scroll(app, action);
            Vec::new()
        }
        Action::Up => moved(app, -1, h),
        Action::Down => moved(app, 1, h),
        Action::PageUp => moved(app, -(h as isize), h),
        Action::PageDown => moved(app, h as isize, h),
        Action::Top => moved(app, isize::MIN / 2, h),
        Action::Bottom => moved(app, isize::MAX / 2, h),
        Action::Open => open(app),
        Action::Back => back(app),
        Action::Pull => {
            app.popup = Some(Popup::Pull(PullDialog::default()));
            Vec::new()
        }
        Action::Run => {
            let image = match app.pane {
                Pane::Images => app
                    .images
                    .selected_item()
                    .map(|i| i.reference.clone())
                    .filter(|r| !r.starts_with("<none>")),
                _ => None,
            };
            app.popup = Some(Popup::Run(Box::new(RunForm::new(
                image.as_deref().unwrap_or(""),
            ))));
            Vec::new()
        }
        Action::Mouse => {
            app.mouse = !app.mouse;
            app.say(if app.mouse {
                "mouse on"
            } else {
                "mouse off: select text with the mouse"
            });
            vec![Cmd::SetMouse(app.mouse)]
        }
        Action::Filter => {
            let mut current = String::new();
            with_list(app, |l| current = l.filter());
            app.typing_backup = current.clone();
            app.filter_input = TextInput::with(&current);
            app.typing = Some(Typing::ListFilter);
            Vec::new()
        }
        Action::Sort => list_do(app, |l| l.cycle_sort()),
        Action::SortReverse => list_do(app, |l| l.toggle_reverse()),
        Action::Mark => list_do(app, |l| l.toggle_mark(h)),
        Action::MarkAll => list_do(app, |l| l.toggle_mark_all()),
        Action::StartStop => container_op(app, None),
        Action::Restart => container_op(app, Some(ContainerOp::Restart)),
        Action::Kill => container_op(app, Some(ContainerOp::Kill)),
        Action::Pause => container_op(app, Some(ContainerOp::Pause)),
        Action::Remove => remove(app),
        Action::Inspect => inspect(app),
        Action::Copy => copy_id(app),
        Action::DetailsTab => super::details::next_tab(app),
        Action::Shell | Action::Attach => match session_target(app) {
            Some((id, name)) => open_shell(app, &id, &name, action == Action::Attach),
            None => Vec::new(),
        },
        Action::Exec => {
            let Some((id, name)) = session_target(app) else {
                return Vec::new();
            };
            app.popup = Some(Popup::Prompt(Prompt {
                title: format!("Exec in {name}"),
                label: "Command".into(),
                input: TextInput::default(),
                purpose: PromptFor::Exec { id, name },
                error: None,
            }));
            Vec::new()
        }
        Action::Prune => prune(app),
        Action::DiskUsage => super::disk_usage::open(app),
        Action::CreateVolume if app.pane == Pane::Networks => {
            super::update_form::open(app, super::form::Form::create_network());
            Vec::new()
        }
        Action::CreateVolume => {
            if app.pane != Pane::Volumes {
                app.complain("create a volume from the volumes pane (3) or a network from the networks pane (5)");
                return Vec::new();
            }
            app.popup = Some(Popup::Prompt(Prompt {
                title: "Create volume".into(),
                label: "Name".into(),
                input: TextInput::default(),
                purpose: PromptFor::CreateVolume,
                error: None,
            }));
            Vec::new()
        }
        Action::Search
        | Action::NextMatch
        | Action::PrevMatch
        | Action::LogFilter
        | Action::Timestamps
        | Action::Wrap
        | Action::Tail
        | Action::Since
        | Action::Save => update_logs::act(app, action),
        Action::NextShell => {
            if app.shells_back.is_empty() {
                app.complain("no other shell open: x opens one on a running container");
                return Vec::new();
            }
            let next = app.shells_back.remove(0);
            if let Some(mut cur) = app.shell.replace(next) {
                cur.focused = false;
                if cur.ended.is_none() {
                    app.shells_back.push(cur);
                }
            }
            if let Some(s) = app.shell.as_mut() {
                s.focused = s.ended.is_none();
            }
            Vec::new()
        }
        Action::Zoom => match app.shell.as_mut() {
            Some(shell) => {
                app.shell_zoom = !app.shell_zoom;
                if app.shell_zoom && shell.ended.is_none() {
                    shell.focused = true;
                }
                Vec::new()
            }
            None => {
                app.complain("no shell open: x opens one on a running container");
                Vec::new()
            }
        },
        Action::Push
        | Action::SaveImage
        | Action::LoadImage
        | Action::Export
        | Action::CopyFiles
        | Action::Commit
        | Action::Build
        | Action::Layers => super::update_moves::act(app, action),
        Action::Confirm
        | Action::Cancel
        | Action::ToggleForce
        | Action::ToggleVolumes
        | Action::InspectSearch
        | Action::InspectNext
        | Action::InspectPrev => Vec::new(),
    }
}

fn list_do(app: &mut App, f: impl FnOnce(&mut dyn ListOps)) -> Vec<Cmd> {
    if app.pane == Pane::Logs {
        return Vec::new();
    }
    with_list(app, f);
    Vec::new()
}

fn moved(app: &mut App, delta: isize, h: usize) -> Vec<Cmd> {
    with_list(app, |l| l.move_by(delta, h));
    Vec::new()
}

fn focus(app: &mut App, pane: Pane) -> Vec<Cmd> {
    app.pane = pane;
    if pane == Pane::Logs && app.logs.targets.is_empty() {
        let ids: Vec<String> = container_targets(app)
            .iter()
            .map(|c| c.id.clone())
            .collect();
        if !ids.is_empty() {
            return update_logs::show_logs(app, ids);
        }
    }
    Vec::new()
}

fn open(app: &mut App) -> Vec<Cmd> {
    match app.pane {
        Pane::Containers => {
            let ids: Vec<String> = container_targets(app)
                .iter()
                .map(|c| c.id.clone())
                .collect();
            if ids.is_empty() {
                return Vec::new();
            }
            app.pane = Pane::Logs;
            update_logs::show_logs(app, ids)
        }
        Pane::Images | Pane::Volumes | Pane::Networks => inspect(app),
        Pane::Logs | Pane::Events => Vec::new(),
    }
}

fn back(app: &mut App) -> Vec<Cmd> {
    if app.pane == Pane::Logs {
        return update_logs::back(app);
    }
    let mut cleared = false;
    with_list(app, |l| {
        if !l.filter().is_empty() {
            l.set_filter("");
            cleared = true;
        } else {
            cleared = l.clear_marks();
        }
    });
    if !cleared && app.shell.as_ref().is_some_and(|s| s.ended.is_some()) {
        app.shell = None;
        app.shell_zoom = false;
    }
    Vec::new()
}

/// The running container a shell, attach or exec opens on: the one shown alone in the logs,
/// else the selected one; says why when there is none.
fn session_target(app: &mut App) -> Option<(String, String)> {
    let target = match app.logs.targets.as_slice() {
        [one] if app.pane == Pane::Logs => app.containers.items.iter().find(|c| &c.id == one),
        _ => app.containers.selected_item(),
    };
    let Some(c) = target else {
        app.complain("select a container first");
        return None;
    };
    if c.state != ContainerState::Running {
        let msg = format!("{} is {}: start it first (s)", c.name, c.state.label());
        app.complain(msg);
        return None;
    }
    Some((c.id.clone(), c.name.clone()))
}

/// Quits, after asking when terminal sessions are still open: a shell or exec ends with berth
/// (a `vi` in it is lost); an attached container's main process keeps running.
fn quit(app: &mut App) -> Vec<Cmd> {
    let live: Vec<String> = app
        .shell
        .iter()
        .chain(app.shells_back.iter())
        .filter(|s| s.ended.is_none())
        .map(|s| {
            let kind = if s.attach { "attached to" } else { "shell in" };
            format!("{kind} {}", s.title)
        })
        .collect();
    if live.is_empty() {
        app.quit = true;
        return vec![Cmd::Quit];
    }
    let n = live.len();
    let mut items = live;
    items
        .push("Shells and commands end when berth quits; attached containers keep running.".into());
    app.popup = Some(Popup::Confirm(Confirm {
        title: format!(
            "Quit with {n} open terminal session{}?",
            if n == 1 { "" } else { "s" }
        ),
        items,
        action: Pending::Quit,
        force: None,
        volumes: None,
    }));
    Vec::new()
}
