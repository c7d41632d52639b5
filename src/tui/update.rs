//! The reducer: `update(&mut App, Msg) -> Vec<Cmd>`. Pure: no I/O, no engine, no clock; the
//! commands it returns are run by `jobs` and the event loop.

use super::app::{App, PullProgress};
use super::model::LayerRow;
use super::msg::{Cmd, Kind, Msg, News, Output};
use super::popup::{Message, Popup};

/// How long a status line stays (errors a little longer).
const STATUS_SECS: i64 = 6;
/// How many events the events pane keeps.
pub const EVENTS_KEPT: usize = 1000;

/// An event recorded by any berth process: into the events pane (the oldest beyond
/// [`EVENTS_KEPT`] dropped); its list reload comes as its own message.
fn on_journal(app: &mut App, row: super::model::EventRow) {
    let mut items = std::mem::take(&mut app.events.items);
    items.push(row);
    if items.len() > EVENTS_KEPT {
        let drop = items.len() - EVENTS_KEPT;
        items.drain(..drop);
    }
    app.events.set_items(items);
}
const ERROR_SECS: i64 = 15;

/// Applies `msg` to `app` and returns what must happen next.
pub fn update(app: &mut App, msg: Msg) -> Vec<Cmd> {
    let mut cmds = match msg {
        Msg::Key(ev) => super::update_keys::on_key(app, ev),
        Msg::Mouse(ev) => super::update_keys::on_mouse(app, ev),
        Msg::Resize(w, h) => resize(app, w, h),
        Msg::Tick(now) => {
            app.now = now;
            if let Some(s) = &app.status {
                let limit = if s.error { ERROR_SECS } else { STATUS_SECS };
                if (now - s.since).num_seconds() >= limit {
                    app.status = None;
                }
            }
            super::update_stats::tick(app)
        }
        Msg::StateChanged => app.init(),
        Msg::Journal(row) => {
            on_journal(app, row);
            Vec::new()
        }
        Msg::Engine(news) => on_news(app, news),
        Msg::Job(id, out) => on_output(app, id, out),
    };
    // Any message can change the layout (a resize, another pane in front, logs opened or
    // closed): the shell's pty follows the pane it is drawn in.
    cmds.extend(shell_resize(app));
    // The details pane loads what its tab shows for whatever is selected now.
    cmds.extend(super::details::sync(app));
    cmds
}

fn resize(app: &mut App, w: u16, h: u16) -> Vec<Cmd> {
    app.size = (w, h);
    let height = app.list_height();
    app.containers.scroll_into_view(height);
    app.images.scroll_into_view(height);
    app.volumes.scroll_into_view(height);
    Vec::new()
}

/// Resizes the shell's pty to the area the layout gives it, when the pane is on screen.
pub fn shell_resize(app: &mut App) -> Vec<Cmd> {
    let Some((rows, cols)) = super::view::shell_size(app) else {
        return Vec::new();
    };
    match &mut app.shell {
        Some(shell) if shell.ended.is_none() => {
            if shell.resize(rows, cols) {
                vec![Cmd::ShellResize {
                    job: shell.job,
                    cols,
                    rows,
                }]
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

fn on_news(app: &mut App, news: News) -> Vec<Cmd> {
    match news {
        News::PullStarted { image, layers } => {
            let p = app.pulls.entry(image.clone()).or_insert(PullProgress {
                image,
                layers: Vec::new(),
                result: None,
            });
            p.result = None;
            p.layers = layers
                .into_iter()
                .map(|digest| LayerRow {
                    digest,
                    state: "Waiting".into(),
                    done: 0,
                    total: 0,
                    finished: false,
                })
                .collect();
            Vec::new()
        }
        News::Layer { image, layer } => {
            let p = app.pulls.entry(image.clone()).or_insert(PullProgress {
                image,
                layers: Vec::new(),
                result: None,
            });
            match p.layers.iter_mut().find(|l| l.digest == layer.digest) {
                Some(l) => *l = layer,
                None => p.layers.push(layer),
            }
            Vec::new()
        }
        News::PullFinished { image, result } => {
            let mut then = super::update_run::pulled(app, &image, &result);
            match &result {
                Ok(_) => app.say(format!("pulled {image}")),
                Err(e) => app.complain(format!("pull of {image} failed: {e}")),
            }
            if let Some(p) = app.pulls.get_mut(&image) {
                p.result = Some(result);
            }
            then.push(app.reload_images());
            then
        }
        News::PushLayer { image, layer } => {
            if let Some(p) = app.pushes.get_mut(&image) {
                match p.layers.iter_mut().find(|l| l.digest == layer.digest) {
                    Some(l) => *l = layer,
                    None => p.layers.push(layer),
                }
            }
            Vec::new()
        }
        News::PushFinished { image, result } => {
            match &result {
                Ok(line) => app.say(format!("pushed {line}")),
                Err(e) => app.complain(format!("push of {image} failed: {e}")),
            }
            if let Some(p) = app.pushes.get_mut(&image) {
                p.result = Some(result);
            }
            Vec::new()
        }
        // A burst of events (ten containers killed at once: a kill and a die each) costs one
        // load under way and one after it, not a load per event.
        News::Changed(Kind::Container) if app.containers_loading => {
            app.containers_again = true;
            Vec::new()
        }
        News::Changed(Kind::Container) => vec![app.reload_containers(), app.reload_volumes()],
        News::Changed(Kind::Image) => vec![app.reload_images()],
        News::Changed(Kind::Volume) => vec![app.reload_volumes()],
        News::Changed(Kind::Network) => vec![app.reload_networks()],
    }
}

fn on_output(app: &mut App, id: u64, out: Output) -> Vec<Cmd> {
    match out {
        Output::Containers(r) if id == app.containers_job => {
            app.containers_loading = false;
            let mut then = app.load_rest();
            if app.containers_again {
                then.push(app.reload_containers());
                if !then.iter().any(|c| matches!(c, Cmd::LoadVolumes(_))) {
                    then.push(app.reload_volumes());
                }
            }
            match r {
                Ok(mut rows) => {
                    // The CPU and memory of a container still running stay until the next
                    // stats sample.
                    for r in rows.iter_mut().filter(|r| r.state.is_alive()) {
                        if let Some(old) = app.containers.items.iter().find(|c| c.id == r.id) {
                            r.cpu = old.cpu;
                            r.memory = old.memory;
                        }
                    }
                    app.cpu_seen
                        .retain(|id, _| rows.iter().any(|r| &r.id == id && r.state.is_alive()));
                    app.graphs
                        .retain(|id, _| rows.iter().any(|r| &r.id == id && r.state.is_alive()));
                    app.containers.set_items(rows);
                    // Containers that are gone leave the log view; the rest stay.
                    let items = &app.containers.items;
                    let keep: Vec<String> = app
                        .logs
                        .targets
                        .iter()
                        .filter(|t| items.iter().any(|c| &c.id == *t))
                        .cloned()
                        .collect();
                    if keep.len() != app.logs.targets.len() {
                        then.extend(super::update_logs::show_logs(app, keep));
                    }
                }
                Err(e) => {
                    app.containers.loaded = true;
                    app.containers.error = Some(e);
                }
            }
            then
        }
        Output::Stats(r) if id == app.stats_job => {
            super::update_stats::on_stats(app, r);
            Vec::new()
        }
        Output::Images(r) if id == app.images_job => {
            match r {
                Ok(rows) => app.images.set_items(rows),
                Err(e) => {
                    app.images.loaded = true;
                    app.images.error = Some(e);
                }
            }
            Vec::new()
        }
        Output::Volumes(r) if id == app.volumes_job => {
            match r {
                Ok(rows) => app.volumes.set_items(rows),
                Err(e) => {
                    app.volumes.loaded = true;
                    app.volumes.error = Some(e);
                }
            }
            Vec::new()
        }
        Output::Networks(r) if id == app.networks_job => {
            match r {
                Ok(rows) => app.networks.set_items(rows),
                Err(e) => {
                    app.networks.loaded = true;
                    app.networks.error = Some(e);
                }
            }
            Vec::new()
        }
        Output::BuildLines(lines) => {
            super::update_build::lines(app, id, lines);
            Vec::new()
        }
        Output::Built(r) => super::update_build::built(app, id, r),
        Output::Layers(r) => super::update_layers::on_layers(app, id, r),
        Output::DiskUsage(r) => {
            super::disk_usage::on_usage(app, id, r);
            Vec::new()
        }
        Output::LayerEntries(r) => {
            super::update_layers::on_entries(app, id, r);
            Vec::new()
        }
        Output::Details(r) if id == app.details.job => {
            app.details.data =
                Some(r.and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string())));
            Vec::new()
        }
        Output::Top(r) if id == app.details.top_job => {
            app.details.top = Some(r);
            app.details.top_at = Some(app.now);
            Vec::new()
        }
        Output::Inspect(r) if id == app.inspect_job => {
            if let Some(Popup::Inspect(i)) = &mut app.popup {
                i.text = Some(r);
            }
            Vec::new()
        }
        Output::Done(r) => {
            app.busy.remove(&id);
            match r {
                // A job with nothing to say (a pull, which said it already).
                Ok(what) if what.is_empty() => {}
                Ok(what) => app.say(what),
                Err(e) => fail(app, "Action failed", e),
            }
            let mut cmds = app.init();
            cmds.extend(super::disk_usage::after_job(app));
            cmds
        }
        Output::Ran(r) => match r {
            Ok(ran) => {
                app.run_form = None;
                app.say(format!("started {}", ran.name));
                let mut cmds = app.init();
                if ran.attach {
                    cmds.extend(super::update_actions::start_attached(
                        app, &ran.id, &ran.name,
                    ));
                } else {
                    // Watch the new container's log.
                    app.pane = super::app::Pane::Logs;
                    cmds.extend(super::update_logs::show_logs(app, vec![ran.id]));
                }
                cmds
            }
            Err(e) => {
                // Give the form back as it was, with the reason, unless a dialog is open.
                match app.run_form.take() {
                    Some(mut form) if app.popup.is_none() => {
                        form.error = Some(super::messages::tidy(&e));
                        app.popup = Some(Popup::Run(Box::new(form)));
                    }
                    _ => fail(app, "Run failed", e),
                }
                app.init()
            }
        },
        Output::NeedsPull(spec) => super::update_run::offer_pull(app, *spec),
        Output::LogLines(lines) => {
            let Some(container) = follower(app, id) else {
                return Vec::new();
            };
            for mut line in lines {
                line.container = container.clone();
                overwrite_cr(&mut line.text);
                app.logs.store.push(line);
            }
            Vec::new()
        }
        Output::LogsEnded(err) => {
            if let Some(container) = follower(app, id) {
                app.logs.follows.remove(&container);
                app.logs.ended.insert(container, err);
            }
            Vec::new()
        }
        Output::ShellOutput(bytes) => {
            if let Some(shell) = app
                .shell
                .iter_mut()
                .chain(app.shells_back.iter_mut())
                .find(|s| s.job == id)
            {
                shell.feed(&bytes);
            }
            Vec::new()
        }
        Output::ShellEnded(err) => {
            // A session behind the shown one that ends is dropped (its screen is gone anyway).
            if let Some(i) = app.shells_back.iter().position(|s| s.job == id) {
                let gone = app.shells_back.remove(i);
                if let Some(e) = err {
                    app.complain(format!("{} ended: {e}", gone.title));
                }
                return Vec::new();
            }
            if let Some(shell) = app.shell.as_mut().filter(|s| s.job == id) {
                shell.focused = false;
                shell.ended = Some(err.clone());
                if let Some(e) = err {
                    fail(app, "Shell failed", e);
                }
            }
            Vec::new()
        }
        // An answer to a superseded request.
        _ => Vec::new(),
    }
}

/// A line that redraws itself with CR (a progress bar) shows what a terminal would end with:
/// the last non-empty part after a CR.
fn overwrite_cr(text: &mut String) {
    if let Some(last) = text.split('\r').rfind(|p| !p.is_empty()) {
        if last.len() != text.len() {
            *text = last.to_string();
        }
    }
}

/// The container a log job follows, if the job is still wanted.
fn follower(app: &App, job: u64) -> Option<String> {
    app.logs
        .follows
        .iter()
        .find(|(_, j)| **j == job)
        .map(|(c, _)| c.clone())
}

/// Shows a failure: in a dialog when none is open, else in the status bar.
pub fn fail(app: &mut App, title: &str, text: String) {
    let text = super::messages::tidy(&text);
    if app.popup.is_none() {
        app.popup = Some(Popup::Message(Message {
            title: title.to_string(),
            text,
            error: true,
            scroll: 0,
        }));
    } else {
        app.complain(text);
    }
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
