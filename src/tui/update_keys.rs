//! Keys and mouse on the main screen: the keymap turns a key into an [`Action`], and the
//! action acts on the focused pane. Popups and text inputs get their keys first.

use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};

use super::app::{App, Pane, Typing};
use super::input::{Edit, TextInput};
use super::keymap::{Action, Key};
use super::list::Item;
use super::model::ContainerState;
use super::msg::{Cmd, ContainerOp, Kind};
use super::popup::{Confirm, Inspect, Pending, Popup, Prompt, PromptFor, PullDialog, RunForm};
use super::shell::{encode_key, is_leave_key, ShellPane};
use super::update_logs;

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
        Action::Quit => {
            app.quit = true;
            vec![Cmd::Quit]
        }
        Action::Help => {
            app.popup = Some(Popup::Help { scroll: 0 });
            Vec::new()
        }
        Action::NextPane | Action::PrevPane => {
            let step = if action == Action::NextPane { 1 } else { 3 };
            focus(app, Pane::ALL[(app.pane.index() + step) % 4])
        }
        Action::PaneContainers => focus(app, Pane::Containers),
        Action::PaneImages => focus(app, Pane::Images),
        Action::PaneVolumes => focus(app, Pane::Volumes),
        Action::PaneLogs => focus(app, Pane::Logs),
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
            app.popup = Some(Popup::Run(RunForm::new(image.as_deref().unwrap_or(""))));
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
        Action::Shell | Action::Attach => {
            // One container: the one shown alone in the logs, else the selected one.
            let target = match app.logs.targets.as_slice() {
                [one] if app.pane == Pane::Logs => {
                    app.containers.items.iter().find(|c| &c.id == one)
                }
                _ => app.containers.selected_item(),
            };
            let Some(c) = target else {
                app.complain("select a container first");
                return Vec::new();
            };
            if c.state != ContainerState::Running {
                app.complain(format!(
                    "{} is {}: start it first (s)",
                    c.name,
                    c.state.label()
                ));
                return Vec::new();
            }
            let (id, name) = (c.id.clone(), c.name.clone());
            open_shell(app, &id, &name, action == Action::Attach)
        }
        Action::Prune => prune(app),
        Action::CreateVolume => {
            if app.pane != Pane::Volumes {
                app.complain("create a volume from the volumes pane (3)");
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
        Action::Zoom => match app.shell.as_mut() {
            Some(shell) => {
                app.shell_zoom = !app.shell_zoom;
                if app.shell_zoom && shell.ended.is_none() {
                    shell.focused = true;
                }
                super::update::shell_resize(app)
            }
            None => {
                app.complain("no shell open: x opens one on a running container");
                Vec::new()
            }
        },
        Action::Confirm | Action::Cancel | Action::ToggleForce | Action::ToggleVolumes => {
            Vec::new()
        }
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
        Pane::Images | Pane::Volumes => inspect(app),
        Pane::Logs => Vec::new(),
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

/// The containers an action applies to: in the logs pane the shown ones, else the marked or
/// selected ones.
fn container_targets(app: &App) -> Vec<&super::model::ContainerRow> {
    match app.pane {
        Pane::Logs if !app.logs.targets.is_empty() => app
            .containers
            .items
            .iter()
            .filter(|c| app.logs.targets.contains(&c.id))
            .collect(),
        Pane::Containers | Pane::Logs => app.containers.targets(),
        _ => Vec::new(),
    }
}

fn container_op(app: &mut App, op: Option<ContainerOp>) -> Vec<Cmd> {
    if matches!(app.pane, Pane::Images | Pane::Volumes) {
        app.complain("this works on containers: press 1 for the containers pane");
        return Vec::new();
    }
    let targets: Vec<(String, ContainerState)> = container_targets(app)
        .iter()
        .map(|c| (c.id.clone(), c.state))
        .collect();
    if targets.is_empty() {
        app.complain("no container selected");
        return Vec::new();
    }
    let mut groups: Vec<(ContainerOp, Vec<String>)> = Vec::new();
    for (id, state) in targets {
        let op = match op {
            Some(ContainerOp::Pause) if state == ContainerState::Paused => ContainerOp::Unpause,
            Some(op) => op,
            None if state.is_alive() => ContainerOp::Stop,
            None => ContainerOp::Start,
        };
        match groups.iter_mut().find(|(o, _)| *o == op) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((op, vec![id])),
        }
    }
    let what: Vec<String> = groups
        .iter()
        .map(|(op, ids)| format!("{} {} container(s)…", ing(*op), ids.len()))
        .collect();
    app.say(what.join(", "));
    groups
        .into_iter()
        .map(|(op, ids)| Cmd::Container {
            job: app.job(),
            ids,
            op,
        })
        .collect()
}

fn remove(app: &mut App) -> Vec<Cmd> {
    let (action, items, kind) = match app.pane {
        Pane::Containers | Pane::Logs => {
            let t = container_targets(app);
            let ids = t.iter().map(|c| c.id.clone()).collect();
            let names = t.iter().map(|c| c.name.clone()).collect();
            (Pending::RemoveContainers(ids), names, Kind::Container)
        }
        Pane::Images => {
            let t = app.images.targets();
            let mut ids: Vec<String> = t.iter().map(|i| i.key().to_string()).collect();
            ids.dedup();
            let names = ids.clone();
            (Pending::RemoveImages(ids), names, Kind::Image)
        }
        Pane::Volumes => {
            let names: Vec<String> = app
                .volumes
                .targets()
                .iter()
                .map(|v| v.name.clone())
                .collect();
            (Pending::RemoveVolumes(names.clone()), names, Kind::Volume)
        }
    };
    if items.is_empty() {
        app.complain(format!("no {} selected", kind.noun()));
        return Vec::new();
    }
    let title = if items.len() == 1 {
        format!("Remove {} {}?", kind.noun(), items[0])
    } else {
        format!("Remove {} {}s?", items.len(), kind.noun())
    };
    app.popup = Some(Popup::Confirm(Confirm {
        title,
        items,
        action,
        force: Some(false),
        volumes: (kind == Kind::Container).then_some(false),
    }));
    Vec::new()
}

fn prune(app: &mut App) -> Vec<Cmd> {
    let (kind, what) = match app.pane {
        Pane::Containers | Pane::Logs => (Kind::Container, "all stopped containers"),
        Pane::Images => (Kind::Image, "all images no container uses"),
        Pane::Volumes => (Kind::Volume, "all unused anonymous volumes"),
    };
    app.popup = Some(Popup::Confirm(Confirm {
        title: format!("Prune {}s?", kind.noun()),
        items: vec![format!("This removes {what}.")],
        action: Pending::Prune(kind),
        force: None,
        volumes: None,
    }));
    Vec::new()
}

fn inspect(app: &mut App) -> Vec<Cmd> {
    let target = match app.pane {
        Pane::Containers | Pane::Logs => container_targets(app)
            .first()
            .map(|c| (Kind::Container, c.id.clone(), c.name.clone())),
        Pane::Images => app
            .images
            .selected_item()
            .map(|i| (Kind::Image, i.id.clone(), i.reference.clone())),
        Pane::Volumes => app
            .volumes
            .selected_item()
            .map(|v| (Kind::Volume, v.name.clone(), v.name.clone())),
    };
    let Some((kind, id, name)) = target else {
        app.complain("nothing selected to inspect");
        return Vec::new();
    };
    app.inspect_job = app.job();
    app.popup = Some(Popup::Inspect(Inspect {
        title: format!("{} {name}", kind.noun()),
        text: None,
        scroll: 0,
    }));
    vec![Cmd::Inspect {
        job: app.inspect_job,
        kind,
        id,
    }]
}

/// Opens the shell pane on a container (or attaches to its main process).
pub fn open_shell(app: &mut App, id: &str, name: &str, attach: bool) -> Vec<Cmd> {
    if let Some(s) = app.shell.as_mut() {
        if s.container == id && s.attach == attach && s.ended.is_none() {
            s.focused = true;
            return Vec::new();
        }
    }
    let mut cmds = Vec::new();
    if let Some(old) = app.shell.take() {
        if old.ended.is_none() {
            cmds.push(Cmd::Cancel(old.job));
        }
    }
    let job = app.job();
    app.shell = Some(ShellPane::new(id, name, attach, job, 1, 1));
    if app.pane != Pane::Logs && !app.wide() {
        app.pane = Pane::Logs;
    }
    let (rows, cols) = super::view::shell_size(app);
    if let Some(s) = app.shell.as_mut() {
        s.resize(rows, cols);
    }
    cmds.push(Cmd::OpenShell {
        job,
        container: id.to_string(),
        attach,
        cols,
        rows,
    });
    cmds
}

/// Present participle for "stopping 2 container(s)…".
fn ing(op: ContainerOp) -> &'static str {
    match op {
        ContainerOp::Start => "starting",
        ContainerOp::Stop => "stopping",
        ContainerOp::Restart => "restarting",
        ContainerOp::Kill => "killing",
        ContainerOp::Pause => "pausing",
        ContainerOp::Unpause => "unpausing",
    }
}
