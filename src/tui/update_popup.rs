//! Keys in dialogs. Dialogs with text fields take raw keys; the others go through the keymap's
//! `Popup` context.

use crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, PullProgress};
use super::input::Edit;
use super::keymap::{Action, Key};
use super::msg::Cmd;
use super::popup::{valid_name, Confirm, Pending, Popup, Prompt, PromptFor, RunForm};

/// A key while a dialog is open.
pub fn on_key(app: &mut App, ev: KeyEvent) -> Vec<Cmd> {
    let Some(popup) = app.popup.take() else {
        return Vec::new();
    };
    match popup {
        Popup::Pull(mut d) if d.image.is_none() => match d.input.key(&ev) {
            Edit::Submit => start_pull(app, d),
            Edit::Cancel => Vec::new(),
            _ => {
                d.error = None;
                app.popup = Some(Popup::Pull(d));
                Vec::new()
            }
        },
        Popup::Run(form) => run_form(app, *form, &ev),
        Popup::Inspect(mut i) if i.search.is_some() => {
            let mut input = i.search.take().unwrap_or_default();
            match input.key(&ev) {
                Edit::Submit => {
                    i.query = input.text;
                    app.popup = Some(Popup::Inspect(i));
                    jump(app, true, true)
                }
                Edit::Cancel => {
                    app.popup = Some(Popup::Inspect(i));
                    Vec::new()
                }
                _ => {
                    i.search = Some(input);
                    app.popup = Some(Popup::Inspect(i));
                    Vec::new()
                }
            }
        }
        Popup::Prompt(p) => prompt(app, p, &ev),
        Popup::Form(form) => super::update_form::on_key(app, *form, &ev),
        Popup::Layers => {
            app.popup = Some(Popup::Layers);
            super::update_layers::on_key(app, &ev)
        }
        Popup::DiskUsage => {
            app.popup = Some(Popup::DiskUsage);
            super::disk_usage::on_key(app, &ev)
        }
        other => {
            app.popup = Some(other);
            let action = app.keymap.action(app.contexts(), Key::from_event(&ev));
            match action {
                Some(a) => popup_action(app, a),
                None => Vec::new(),
            }
        }
    }
}

/// Scrolls a scrollable dialog by `delta` lines.
pub fn scroll(app: &mut App, delta: isize) -> Vec<Cmd> {
    let slot = match &mut app.popup {
        Some(Popup::Help { scroll }) => scroll,
        Some(Popup::Inspect(i)) => &mut i.scroll,
        Some(Popup::Message(m)) => &mut m.scroll,
        Some(Popup::Build) => {
            // The build view counts lines back from the end (0 follows the output).
            if let Some(b) = app.build.as_mut() {
                b.back = b.back.saturating_add_signed(delta.saturating_neg());
            }
            return Vec::new();
        }
        _ => return Vec::new(),
    };
    *slot = slot.saturating_add_signed(delta);
    Vec::new()
}

fn popup_action(app: &mut App, action: Action) -> Vec<Cmd> {
    let page = usize::from(app.size.1.saturating_sub(8)).max(1) as isize;
    match action {
        Action::Cancel | Action::Back | Action::Quit | Action::Help => {
            // No to "pull and run?": back to the run form.
            if matches!(&app.popup, Some(Popup::Confirm(c)) if matches!(c.action, Pending::PullAndRun(_)))
            {
                if let Some(form) = app.run_form.take() {
                    app.popup = Some(Popup::Run(Box::new(form)));
                    return Vec::new();
                }
            }
            app.popup = None;
            // A prune the system df view asked for is off: the view stays closed.
            if let Some(d) = app.disk.as_mut() {
                d.pruning = false;
            }
            Vec::new()
        }
        Action::Up => scroll(app, -1),
        Action::Down => scroll(app, 1),
        Action::PageUp => scroll(app, -page),
        Action::PageDown => scroll(app, page),
        Action::Top => scroll(app, isize::MIN),
        Action::Bottom => scroll(app, isize::MAX / 2),
        Action::ToggleForce | Action::ToggleVolumes => {
            if let Some(Popup::Confirm(c)) = &mut app.popup {
                let slot = if action == Action::ToggleForce {
                    &mut c.force
                } else {
                    &mut c.volumes
                };
                if let Some(v) = slot {
                    *v = !*v;
                }
            }
            Vec::new()
        }
        Action::InspectSearch => {
            if let Some(Popup::Inspect(i)) = &mut app.popup {
                i.search = Some(super::input::TextInput::with(&i.query));
            }
            Vec::new()
        }
        Action::Build if app.popup == Some(Popup::Build) => {
            app.popup = None;
            super::update_build::open(app)
        }
        Action::InspectNext => jump(app, true, false),
        Action::InspectPrev => jump(app, false, false),
        Action::Confirm => match app.popup.take() {
            Some(Popup::Confirm(c)) => confirm(app, c),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Lines of the inspect dialog above a match shown, for context.
const MATCH_CONTEXT: usize = 2;

/// Scrolls the inspect dialog to the next (or previous) line holding its search, after the
/// match last jumped to (`here`: from the top line shown); wraps around.
fn jump(app: &mut App, forward: bool, here: bool) -> Vec<Cmd> {
    let Some(Popup::Inspect(i)) = &mut app.popup else {
        return Vec::new();
    };
    let (Some(Ok(text)), false) = (&i.text, i.query.is_empty()) else {
        return Vec::new();
    };
    let needle = i.query.to_lowercase();
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.to_lowercase().contains(&needle))
        .map(|(n, _)| n)
        .collect();
    let current = match (here, i.hit) {
        (false, Some(h)) => h,
        _ => i.scroll,
    };
    let found = if forward {
        let from = if here { current } else { current + 1 };
        hits.iter().find(|&&n| n >= from).or(hits.first())
    } else {
        hits.iter().rev().find(|&&n| n < current).or(hits.last())
    };
    match found {
        Some(&n) => {
            i.hit = Some(n);
            i.scroll = n.saturating_sub(MATCH_CONTEXT);
            Vec::new()
        }
        None => {
            let q = i.query.clone();
            app.complain(format!("no match for {q:?}"));
            Vec::new()
        }
    }
}

fn confirm(app: &mut App, c: Confirm) -> Vec<Cmd> {
    if c.action == Pending::Quit {
        app.quit = true;
        return vec![Cmd::Quit];
    }
    if let Pending::PullAndRun(spec) = c.action {
        return super::update_run::pull_then_run(app, *spec);
    }
    let job = app.job();
    let force = c.force.unwrap_or(false);
    app.say(format!("{}…", c.title.trim_end_matches('?').to_lowercase()));
    let cmd = match c.action {
        // The log keeps showing them until they are gone (a failed remove keeps it open).
        Pending::RemoveContainers(ids) => Cmd::RemoveContainers {
            job,
            ids,
            force,
            volumes: c.volumes.unwrap_or(false),
        },
        Pending::RemoveImages(ids) => Cmd::RemoveImages { job, ids, force },
        Pending::RemoveVolumes(names) => Cmd::RemoveVolumes { job, names, force },
        Pending::RemoveNetworks(names) => Cmd::RemoveNetworks { job, names },
        Pending::Prune(kind) => Cmd::Prune { job, kind },
        Pending::PruneBuildCache => Cmd::PruneBuildCache(job),
        Pending::Quit | Pending::PullAndRun(_) => Cmd::Quit,
    };
    vec![cmd]
}

fn start_pull(app: &mut App, mut d: super::popup::PullDialog) -> Vec<Cmd> {
    let text = d.input.text.trim().to_string();
    if text.is_empty() {
        d.error = Some("type an image reference, e.g. busybox or 127.0.0.1:5000/app:1".into());
        app.popup = Some(Popup::Pull(d));
        return Vec::new();
    }
    let reference = match crate::engine::ImageRef::parse(&text) {
        Ok(r) => r.to_string(),
        Err(e) => {
            d.error = Some(e.to_string());
            app.popup = Some(Popup::Pull(d));
            return Vec::new();
        }
    };
    app.pulls.insert(
        reference.clone(),
        PullProgress {
            image: reference.clone(),
            layers: Vec::new(),
            result: None,
        },
    );
    d.image = Some(reference.clone());
    app.popup = Some(Popup::Pull(d));
    vec![Cmd::Pull {
        job: app.job(),
        reference,
    }]
}

fn run_form(app: &mut App, mut form: RunForm, ev: &KeyEvent) -> Vec<Cmd> {
    let next = |f: &mut RunForm, d: usize| f.focus = (f.focus + d) % RunForm::FIELDS;
    let edit = if form.focus < form.fields.len() {
        form.fields[form.focus].key(ev)
    } else {
        match ev.code {
            KeyCode::Char(' ') | KeyCode::Char('x') => {
                match form.focus {
                    RunForm::DETACH => form.detach = !form.detach,
                    RunForm::REMOVE => form.remove = !form.remove,
                    _ => form.tty = !form.tty,
                }
                Edit::Changed
            }
            KeyCode::Enter => Edit::Submit,
            KeyCode::Esc | KeyCode::Char('q') => Edit::Cancel,
            KeyCode::Tab | KeyCode::Down | KeyCode::Char('j') => Edit::Next,
            KeyCode::BackTab | KeyCode::Up | KeyCode::Char('k') => Edit::Prev,
            _ => Edit::Ignored,
        }
    };
    match edit {
        Edit::Cancel => return Vec::new(),
        Edit::Next => next(&mut form, 1),
        Edit::Prev => next(&mut form, RunForm::FIELDS - 1),
        Edit::Submit => match form.spec() {
            Ok(spec) => {
                app.say(format!("starting {}…", spec.image));
                app.run_form = Some(form);
                return vec![Cmd::Run {
                    job: app.job(),
                    spec: Box::new(spec),
                }];
            }
            Err(e) => form.error = Some(e),
        },
        Edit::Changed => form.error = None,
        Edit::Moved | Edit::Ignored => {}
    }
    app.popup = Some(Popup::Run(Box::new(form)));
    Vec::new()
}

fn prompt(app: &mut App, mut p: Prompt, ev: &KeyEvent) -> Vec<Cmd> {
    match p.input.key(ev) {
        Edit::Cancel => return Vec::new(),
        Edit::Submit => {
            let text = p.input.text.trim().to_string();
            match p.purpose {
                PromptFor::CreateVolume if valid_name(&text) => {
                    return vec![Cmd::CreateVolume {
                        job: app.job(),
                        name: text,
                    }];
                }
                PromptFor::CreateVolume => {
                    p.error = Some(format!(
                        "{text:?} is not a valid volume name (letters, digits, _ . -, starting with a letter or digit)"
                    ));
                }
                PromptFor::SaveLogs if !text.is_empty() => {
                    let names = |id: &str| app.container_name(id);
                    let content = app.logs.plain_text(&names);
                    return vec![Cmd::SaveLogs {
                        job: app.job(),
                        path: text.into(),
                        text: content,
                    }];
                }
                PromptFor::SaveLogs => p.error = Some("give a file name".into()),
                PromptFor::Exec { ref id, ref name } => match exec_command(&text) {
                    Ok(exec) => {
                        let (id, name) = (id.clone(), name.clone());
                        return super::update_actions::open_exec(app, &id, &name, exec);
                    }
                    Err(e) => p.error = Some(e),
                },
            }
        }
        Edit::Changed => p.error = None,
        _ => {}
    }
    app.popup = Some(Popup::Prompt(p));
    Vec::new()
}

/// The exec prompt's text: `[-u USER] COMMAND [ARGS…]`, quoted as in a shell.
fn exec_command(text: &str) -> Result<super::msg::Exec, String> {
    let mut words = super::popup::split_words(text)?;
    let mut user = String::new();
    if words.first().map(String::as_str) == Some("-u") {
        if words.len() < 2 {
            return Err("-u needs a user: -u USER COMMAND".into());
        }
        user = words.remove(1);
        words.remove(0);
    }
    if words.is_empty() {
        return Err("give a command, e.g. ps aux or -u nobody id".into());
    }
    Ok(super::msg::Exec { cmd: words, user })
}
