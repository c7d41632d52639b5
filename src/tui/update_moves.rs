//! Actions that move images and files, build and explore: each opens its form (or view) on the
//! selected image or container.

use super::app::{App, Pane};
use super::form::Form;
use super::keymap::Action;
use super::msg::Cmd;
use super::update_form::open;

/// Performs one of the actions of this file.
pub fn act(app: &mut App, action: Action) -> Vec<Cmd> {
    match action {
        Action::Push | Action::SaveImage | Action::Layers => {
            if app.pane != Pane::Images {
                app.complain("this works on images: press 2 for the images pane");
                return Vec::new();
            }
            let Some(image) = app.images.selected_item().cloned() else {
                app.complain("no image selected");
                return Vec::new();
            };
            let tagged = !image.reference.starts_with("<none>");
            match action {
                Action::Push if !tagged => {
                    app.complain(
                        "an untagged image cannot be pushed: run and commit it with a REGISTRY/REPO:TAG",
                    );
                    Vec::new()
                }
                Action::Push => {
                    open(app, Form::push(&image.reference));
                    Vec::new()
                }
                Action::SaveImage => {
                    let name = if tagged { &image.reference } else { &image.id };
                    open(app, Form::save(name));
                    Vec::new()
                }
                _ => super::update_layers::open(app, &image.id, &image.reference),
            }
        }
        Action::LoadImage => {
            open(app, Form::load());
            Vec::new()
        }
        Action::Export | Action::CopyFiles | Action::Commit => {
            let Some((id, name)) = one_container(app) else {
                return Vec::new();
            };
            let form = match action {
                Action::Export => Form::export(&id, &name),
                Action::CopyFiles => Form::copy(&id, &name),
                _ => Form::commit(&id, &name),
            };
            open(app, form);
            Vec::new()
        }
        Action::Build => super::update_build::open(app),
        _ => Vec::new(),
    }
}

/// The one container an action takes: in the containers or logs pane, the selected one.
fn one_container(app: &mut App) -> Option<(String, String)> {
    if !matches!(app.pane, Pane::Containers | Pane::Logs) {
        app.complain("this works on containers: press 1 for the containers pane");
        return None;
    }
    let target = super::update_actions::container_targets(app)
        .first()
        .map(|c| (c.id.clone(), c.name.clone()));
    if target.is_none() {
        app.complain("no container selected");
    }
    target
}
