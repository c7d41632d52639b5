//! Logs pane actions: which containers are followed, scrolling, search, filter, switches.

use crossterm::event::KeyEvent;

use super::app::{App, Pane, Typing};
use super::input::{Edit, TextInput};
use super::keymap::Action;
use super::logview::compile;
use super::msg::Cmd;
use super::popup::{Popup, Prompt, PromptFor};

/// Shows the logs of `ids` (merged when several): stops follows of containers no longer
/// shown (dropping their buffers) and starts the missing ones.
pub fn show_logs(app: &mut App, ids: Vec<String>) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    let gone: Vec<String> = app
        .logs
        .follows
        .keys()
        .filter(|c| !ids.contains(c))
        .cloned()
        .collect();
    for c in gone {
        if let Some(job) = app.logs.follows.remove(&c) {
            cmds.push(Cmd::Cancel(job));
        }
        app.logs.store.clear(&c);
    }
    app.logs.ended.retain(|c, _| ids.contains(c));
    for id in &ids {
        if !app.logs.follows.contains_key(id) && !app.logs.ended.contains_key(id) {
            cmds.push(follow(app, id));
        }
    }
    app.logs.targets = ids;
    app.logs.anchor = None;
    app.logs.current = None;
    cmds
}

fn follow(app: &mut App, id: &str) -> Cmd {
    let job = app.job();
    app.logs.follows.insert(id.to_string(), job);
    app.logs.ended.remove(id);
    app.logs.store.clear(id);
    Cmd::FollowLogs {
        job,
        container: id.to_string(),
        tail: app.logs.tail.lines(),
        since: app.logs.since.cutoff(app.now),
    }
}

/// Restarts every follow (after tail or since changed).
fn refollow(app: &mut App) -> Vec<Cmd> {
    let mut cmds: Vec<Cmd> = app.logs.follows.values().map(|j| Cmd::Cancel(*j)).collect();
    app.logs.follows.clear();
    app.logs.ended.clear();
    for id in app.logs.targets.clone() {
        cmds.push(follow(app, &id));
    }
    app.logs.anchor = None;
    app.logs.current = None;
    cmds
}

/// Scrolling keys in the logs pane.
pub fn scroll(app: &mut App, action: Action) {
    let h = app.logs_height();
    let logs = &mut app.logs;
    match action {
        Action::Up => logs.scroll_up(1, h),
        Action::Down => logs.scroll_down(1),
        Action::PageUp => logs.scroll_up(h.saturating_sub(1).max(1), h),
        Action::PageDown => logs.scroll_down(h.saturating_sub(1).max(1)),
        Action::Top => logs.to_top(h),
        _ => logs.to_bottom(),
    }
}

/// Esc in the logs pane: clears the search, then the filter, then closes an ended shell, then
/// goes back to the containers.
pub fn back(app: &mut App) -> Vec<Cmd> {
    let logs = &mut app.logs;
    if logs.search_re.is_some() {
        logs.search = TextInput::default();
        logs.search_re = None;
        logs.current = None;
    } else if logs.filter_re.is_some() {
        logs.filter = TextInput::default();
        logs.filter_re = None;
        logs.anchor = None;
    } else if app.shell.as_ref().is_some_and(|s| s.ended.is_some()) {
        app.shell = None;
        app.shell_zoom = false;
    } else {
        app.pane = Pane::Containers;
    }
    Vec::new()
}

/// Logs-only actions.
pub fn act(app: &mut App, action: Action) -> Vec<Cmd> {
    if app.pane != Pane::Logs {
        return Vec::new();
    }
    let h = app.logs_height();
    match action {
        Action::Search => {
            app.typing = Some(Typing::LogSearch);
            app.logs.search = TextInput::default();
            app.logs.search_re = None;
        }
        Action::LogFilter => {
            app.typing = Some(Typing::LogFilter);
            app.typing_backup = app.logs.filter.text.clone();
        }
        Action::NextMatch | Action::PrevMatch => {
            if app.logs.search_re.is_none() {
                app.complain("no search: press / first");
            } else {
                let found = if action == Action::NextMatch {
                    app.logs.older_match(h)
                } else {
                    app.logs.newer_match(h)
                };
                if !found {
                    let which = if action == Action::NextMatch {
                        "older"
                    } else {
                        "newer"
                    };
                    app.say(format!("no {which} match for {:?}", app.logs.search.text));
                }
            }
        }
        Action::Timestamps => app.logs.timestamps = !app.logs.timestamps,
        Action::Wrap => app.logs.wrap = !app.logs.wrap,
        Action::Tail => {
            app.logs.tail = app.logs.tail.next();
            app.say(app.logs.tail.label());
            return refollow(app);
        }
        Action::Since => {
            app.logs.since = app.logs.since.next();
            app.say(app.logs.since.label());
            return refollow(app);
        }
        Action::Save => {
            if app.logs.targets.is_empty() {
                app.complain("no logs shown to save");
                return Vec::new();
            }
            let name = match app.logs.targets.as_slice() {
                [one] => app.container_name(one),
                _ => "merged".to_string(),
            };
            let stamp = app.now.format("%Y%m%d-%H%M%S");
            app.popup = Some(Popup::Prompt(Prompt {
                title: "Save logs".into(),
                label: "File".into(),
                input: TextInput::with(&format!("berth-{name}-{stamp}.log")),
                purpose: PromptFor::SaveLogs,
                error: None,
            }));
        }
        _ => {}
    }
    Vec::new()
}

/// Typing a search or filter pattern: applied live.
pub fn typing(app: &mut App, t: Typing, ev: &KeyEvent) -> Vec<Cmd> {
    let h = app.logs_height();
    let search = t == Typing::LogSearch;
    let input = if search {
        &mut app.logs.search
    } else {
        &mut app.logs.filter
    };
    match input.key(ev) {
        Edit::Changed => {
            let re = compile(&input.text);
            if search {
                app.logs.search_re = re;
            } else {
                app.logs.filter_re = re;
                app.logs.anchor = None;
            }
        }
        Edit::Submit => {
            app.typing = None;
            if search && app.logs.search_re.is_some() {
                app.logs.current = None;
                app.logs.anchor = None;
                if !app.logs.older_match(h) {
                    app.say(format!("no match for {:?}", app.logs.search.text));
                }
            }
        }
        Edit::Cancel => {
            app.typing = None;
            if search {
                app.logs.search = TextInput::default();
                app.logs.search_re = None;
            } else {
                app.logs.filter = TextInput::with(&app.typing_backup);
                app.logs.filter_re = compile(&app.typing_backup);
            }
        }
        _ => {}
    }
    Vec::new()
}
