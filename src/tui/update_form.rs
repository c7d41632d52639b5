//! Keys in a [`Form`]: Tab and the arrows move, Space toggles, Enter checks the fields and
//! turns them into a command, Esc closes.

use crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, PullProgress};
use super::form::{Form, FormFor, Value};
use super::input::Edit;
use super::model::{BuildSpec, CommitSpec, NetworkSpec};
use super::msg::Cmd;
use super::popup::{split_words, valid_name, Popup};

/// Opens `form` as the dialog.
pub fn open(app: &mut App, form: Form) {
    app.popup = Some(Popup::Form(Box::new(form)));
}

/// A key while a form is open.
pub fn on_key(app: &mut App, mut form: Form, ev: &KeyEvent) -> Vec<Cmd> {
    let n = form.fields.len().max(1);
    let edit = match form.fields.get_mut(form.focus).map(|f| &mut f.value) {
        Some(Value::Text(input)) => input.key(ev),
        Some(Value::Toggle(on)) => match ev.code {
            KeyCode::Char(' ') | KeyCode::Char('x') => {
                *on = !*on;
                Edit::Changed
            }
            KeyCode::Enter => Edit::Submit,
            KeyCode::Esc | KeyCode::Char('q') => Edit::Cancel,
            KeyCode::Tab | KeyCode::Down | KeyCode::Char('j') => Edit::Next,
            KeyCode::BackTab | KeyCode::Up | KeyCode::Char('k') => Edit::Prev,
            _ => Edit::Ignored,
        },
        None => Edit::Cancel,
    };
    match edit {
        Edit::Cancel => return Vec::new(),
        Edit::Next => form.focus = (form.focus + 1) % n,
        Edit::Prev => form.focus = (form.focus + n - 1) % n,
        Edit::Submit => match submit(app, &form) {
            Ok(cmds) => return cmds,
            Err(e) => form.error = Some(e),
        },
        Edit::Changed => form.error = None,
        Edit::Moved | Edit::Ignored => {}
    }
    open(app, form);
    Vec::new()
}

/// The command the form asks for, or what is wrong with it.
fn submit(app: &mut App, form: &Form) -> Result<Vec<Cmd>, String> {
    match &form.purpose {
        FormFor::CreateNetwork => {
            let name = form.text(0);
            if !valid_name(name) || matches!(name, "none" | "host" | "default" | "bridge") {
                return Err(format!(
                    "Name: {name:?} is not a name for a new network (letters, digits, _ . -, \
                     starting with a letter or digit; not bridge, none, host or default)"
                ));
            }
            let subnet = form.optional(1);
            if let Some(s) = &subnet {
                s.parse::<crate::engine::network::ipam::Subnet>()
                    .map_err(|e| format!("Subnet: {e}"))?;
            }
            let spec = NetworkSpec {
                name: name.to_string(),
                subnet,
                internal: form.on(2),
            };
            app.say(format!("creating network {}…", spec.name));
            Ok(vec![Cmd::CreateNetwork {
                job: app.job(),
                spec,
            }])
        }
        FormFor::Push => {
            let image = form.text(0).to_string();
            let r = crate::engine::ImageRef::parse(&image).map_err(|e| format!("Image: {e}"))?;
            if r.tag.is_none() {
                return Err(format!("Image: {image} has no tag: push REGISTRY/REPO:TAG"));
            }
            let image = r.to_string();
            app.pushes.insert(
                image.clone(),
                PullProgress {
                    image: image.clone(),
                    layers: Vec::new(),
                    result: None,
                },
            );
            app.popup = Some(Popup::Push(image.clone()));
            Ok(vec![Cmd::Push {
                job: app.job(),
                image,
                tls_verify: !form.on(1),
            }])
        }
        FormFor::Save => {
            let image = required(form, 0, "Image", "name the image to save")?;
            let path = required(form, 1, "File", "give the file to write")?;
            app.say(format!("saving {image} to {path}…"));
            Ok(vec![Cmd::SaveImage {
                job: app.job(),
                image,
                path: path.into(),
            }])
        }
        FormFor::Load => {
            let path = required(form, 0, "File", "give the archive to load")?;
            app.say(format!("loading {path}…"));
            Ok(vec![Cmd::LoadArchive {
                job: app.job(),
                path: path.into(),
            }])
        }
        FormFor::Export { id, name } => {
            let path = required(form, 0, "File", "give the tar file to write")?;
            app.say(format!("exporting {name} to {path}…"));
            Ok(vec![Cmd::ExportContainer {
                job: app.job(),
                id: id.clone(),
                name: name.clone(),
                path: path.into(),
            }])
        }
        FormFor::Commit { id, name } => {
            let reference = form.optional(0);
            if let Some(r) = &reference {
                crate::engine::ImageRef::parse(r).map_err(|e| format!("Repository:tag: {e}"))?;
            }
            app.say(format!("committing {name}…"));
            Ok(vec![Cmd::Commit {
                job: app.job(),
                id: id.clone(),
                name: name.clone(),
                spec: CommitSpec {
                    reference,
                    message: form.optional(1),
                    author: form.optional(2),
                },
            }])
        }
        FormFor::Build => {
            let spec = build_spec(form)?;
            Ok(super::update_build::start(app, form, spec))
        }
        FormFor::Copy { id, name } => {
            let into = form.on(0);
            let container_path =
                required(form, 1, "Container path", "give a path in the container")?;
            if !container_path.starts_with('/') {
                return Err(format!(
                    "Container path: {container_path:?} is not absolute: start it with /"
                ));
            }
            let host_path = required(form, 2, "Host path", "give a path on the host")?;
            app.say("copying…");
            Ok(vec![Cmd::CopyFiles {
                job: app.job(),
                id: id.clone(),
                name: name.clone(),
                into,
                container_path,
                host_path: host_path.into(),
            }])
        }
    }
}

fn build_spec(form: &Form) -> Result<BuildSpec, String> {
    let context = required(form, 0, "Context", "give the build's context directory")?;
    let tags = split_words(form.text(2)).map_err(|e| format!("Tags: {e}"))?;
    for t in &tags {
        crate::engine::ImageRef::parse(t).map_err(|e| format!("Tags: {e}"))?;
    }
    let mut args = Vec::new();
    for a in split_words(form.text(3)).map_err(|e| format!("Build args: {e}"))? {
        match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => args.push((k.to_string(), v.to_string())),
            _ => return Err(format!("Build args: {a:?} is not NAME=VALUE")),
        }
    }
    Ok(BuildSpec {
        context,
        dockerfile: form.optional(1),
        tags,
        args,
        no_cache: form.on(4),
    })
}

/// The text of field `i`, or `label: what` when it is empty.
fn required(form: &Form, i: usize, label: &str, what: &str) -> Result<String, String> {
    form.optional(i).ok_or_else(|| format!("{label}: {what}"))
}
