//! Actions on containers, images and volumes: lifecycle operations, remove and prune (asked
//! first), inspect, and opening the shell pane.

use super::app::{App, Pane};
use super::list::Item;
use super::model::ContainerState;
use super::msg::{Cmd, ContainerOp, Kind};
use super::popup::{Confirm, Inspect, Pending, Popup};
use super::shell::ShellPane;

/// The containers an action applies to: in the logs pane the shown ones, else the marked or
/// selected ones.
pub fn container_targets(app: &App) -> Vec<&super::model::ContainerRow> {
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

pub fn container_op(app: &mut App, op: Option<ContainerOp>) -> Vec<Cmd> {
    if matches!(app.pane, Pane::Images | Pane::Volumes | Pane::Networks) {
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
        .map(|(op, ids)| {
            let job = app.job();
            app.busy.insert(job, (op, ids.clone()));
            Cmd::Container { job, ids, op }
        })
        .collect()
}

pub fn remove(app: &mut App) -> Vec<Cmd> {
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
        Pane::Networks => {
            let names: Vec<String> = app
                .networks
                .targets()
                .iter()
                .map(|n| n.name.clone())
                .collect();
            (Pending::RemoveNetworks(names.clone()), names, Kind::Network)
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
        force: (kind != Kind::Network).then_some(false),
        volumes: (kind == Kind::Container).then_some(false),
    }));
    Vec::new()
}

/// Names listed in a prune dialog before "and N more".
const PRUNE_NAMES: usize = 8;

/// Asks before a prune, saying how many objects go and how much space they free (from the
/// loaded lists); says so instead when there is nothing to prune.
pub fn prune(app: &mut App) -> Vec<Cmd> {
    use crate::tui::format::size;
    use crate::tui::model::ContainerState;
    let (kind, names, bytes, what): (Kind, Vec<String>, Option<u64>, [&str; 2]) = match app.pane {
        Pane::Containers | Pane::Logs => {
            let names = app
                .containers
                .items
                .iter()
                .filter(|c| matches!(c.state, ContainerState::Exited | ContainerState::Created))
                .map(|c| c.name.clone())
                .collect();
            (
                Kind::Container,
                names,
                None,
                ["stopped container", "stopped containers"],
            )
        }
        Pane::Images => {
            let mut seen = std::collections::HashSet::new();
            let unused: Vec<_> = app
                .images
                .items
                .iter()
                .filter(|i| i.containers == 0 && seen.insert(i.id.clone()))
                .collect();
            let bytes = unused.iter().map(|i| i.size).sum();
            let names = unused.iter().map(|i| i.reference.clone()).collect();
            (
                Kind::Image,
                names,
                Some(bytes),
                ["image no container uses", "images no container uses"],
            )
        }
        Pane::Volumes => {
            let anonymous = |n: &str| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit());
            let unused: Vec<_> = app
                .volumes
                .items
                .iter()
                .filter(|v| v.used_by.is_empty() && anonymous(&v.name))
                .collect();
            let bytes = unused.iter().filter_map(|v| v.size).sum();
            let names = unused
                .iter()
                .map(|v| crate::tui::format::short_id(&v.name).to_string())
                .collect();
            (
                Kind::Volume,
                names,
                Some(bytes),
                ["unused anonymous volume", "unused anonymous volumes"],
            )
        }
        Pane::Networks => {
            // User-defined networks no container is attached to (docker's `network prune`).
            let names = app
                .networks
                .items
                .iter()
                .filter(|n| n.name != "bridge" && n.users.is_empty())
                .map(|n| n.name.clone())
                .collect();
            (
                Kind::Network,
                names,
                None,
                ["unused network", "unused networks"],
            )
        }
    };
    if names.is_empty() {
        app.say(format!("nothing to prune: no {}", what[1]));
        return Vec::new();
    }
    let n = names.len();
    let (plural, what) = if n == 1 {
        ("", what[0])
    } else {
        ("s", what[1])
    };
    let mut items: Vec<String> = names.into_iter().take(PRUNE_NAMES).collect();
    if n > PRUNE_NAMES {
        items.push(format!("… and {} more", n - PRUNE_NAMES));
    }
    items.push(match bytes {
        Some(b) => format!("This removes {n} {what}, freeing up to {}.", size(b)),
        None => format!("This removes {n} {what}."),
    });
    app.popup = Some(Popup::Confirm(Confirm {
        title: format!("Prune {n} {}{plural}?", kind.noun()),
        items,
        action: Pending::Prune(kind),
        force: None,
        volumes: None,
    }));
    Vec::new()
}

/// The object an action on one object acts on: (kind, id or volume name, name shown).
fn target(app: &App) -> Option<(Kind, String, String)> {
    match app.pane {
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
        Pane::Networks => app
            .networks
            .selected_item()
            .map(|n| (Kind::Network, n.id.clone(), n.name.clone())),
    }
}

pub fn inspect(app: &mut App) -> Vec<Cmd> {
    let Some((kind, id, name)) = target(app) else {
        app.complain("nothing selected to inspect");
        return Vec::new();
    };
    app.inspect_job = app.job();
    app.popup = Some(Popup::Inspect(Inspect {
        title: format!("{} {name}", kind.noun()),
        text: None,
        scroll: 0,
        search: None,
        query: String::new(),
        hit: None,
    }));
    vec![Cmd::Inspect {
        job: app.inspect_job,
        kind,
        id,
    }]
}

/// Puts the selected object's id (a volume's name) on the clipboard.
pub fn copy_id(app: &mut App) -> Vec<Cmd> {
    let Some((kind, text, _)) = target(app) else {
        app.complain("nothing selected to copy");
        return Vec::new();
    };
    let what = match kind {
        Kind::Container => "container id",
        Kind::Image => "image id",
        Kind::Volume => "volume name",
        Kind::Network => "network id",
    };
    app.say(format!("copied the {what} {text} to the clipboard"));
    vec![Cmd::Copy(text)]
}

/// Opens the shell pane on a container (or attaches to its main process).
pub fn open_shell(app: &mut App, id: &str, name: &str, attach: bool) -> Vec<Cmd> {
    open_session(app, id, name, attach, false, None)
}

/// Opens the shell pane on a command of the user's in container `id`.
pub fn open_exec(app: &mut App, id: &str, name: &str, exec: super::msg::Exec) -> Vec<Cmd> {
    let title = format!("{name}: {}", exec.cmd.join(" "));
    open_session(app, id, &title, false, false, Some(exec))
}

/// Opens the attach pane on a created container and starts it with the pane connected, so that
/// the pane shows its output from the start (run without Detach).
pub fn start_attached(app: &mut App, id: &str, name: &str) -> Vec<Cmd> {
    open_session(app, id, name, true, true, None)
}

fn open_session(
    app: &mut App,
    id: &str,
    name: &str,
    attach: bool,
    start: bool,
    exec: Option<super::msg::Exec>,
) -> Vec<Cmd> {
    if let Some(s) = app.shell.as_mut() {
        if exec.is_none() && s.container == id && s.attach == attach && s.ended.is_none() {
            s.focused = true;
            return Vec::new();
        }
    }
    let mut cmds = Vec::new();
    // The session shown goes behind (a `vi` in it lives on); one that ended is dropped.
    if let Some(old) = app.shell.take() {
        if old.ended.is_none() {
            app.shells_back.push(old);
        }
    }
    // Already open behind: bring it to the front.
    if let Some(i) = app.shells_back.iter().position(|s| {
        exec.is_none() && s.container == id && s.attach == attach && !start && s.ended.is_none()
    }) {
        let mut s = app.shells_back.remove(i);
        s.focused = true;
        app.shell = Some(s);
        return cmds;
    }
    let job = app.job();
    app.shell = Some(ShellPane::new(id, name, attach, job, 1, 1));
    if app.pane != Pane::Logs && !app.wide() {
        app.pane = Pane::Logs;
    }
    let full = (
        app.size.1.saturating_sub(4).max(1),
        app.size.0.saturating_sub(2).max(1),
    );
    let (rows, cols) = super::view::shell_size(app).unwrap_or(full);
    if let Some(s) = app.shell.as_mut() {
        s.resize(rows, cols);
    }
    cmds.push(Cmd::OpenShell {
        job,
        container: id.to_string(),
        attach,
        start,
        cols,
        rows,
        exec,
    });
    cmds
}

/// Present participle for "stopping 2 container(s)…" and the list's status column.
pub fn ing(op: ContainerOp) -> &'static str {
    match op {
        ContainerOp::Start => "starting",
        ContainerOp::Stop => "stopping",
        ContainerOp::Restart => "restarting",
        ContainerOp::Kill => "killing",
        ContainerOp::Pause => "pausing",
        ContainerOp::Unpause => "unpausing",
    }
}
