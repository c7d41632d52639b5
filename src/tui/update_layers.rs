//! The layer explorer's reducer: `b` on an image opens it; the layers and a layer's entries
//! come in as job outputs; keys move in the tree and between layers.

use crossterm::event::{KeyCode, KeyEvent};

use super::app::App;
use super::layers::Explorer;
use super::model::{EntryRow, LayerInfo};
use super::msg::Cmd;
use super::popup::Popup;

/// Opens the explorer on image `id` (the last layer shown first: what the image adds last).
pub fn open(app: &mut App, id: &str, title: &str) -> Vec<Cmd> {
    app.popup = Some(Popup::Layers);
    if app.layers.as_ref().is_some_and(|x| x.image == id) {
        return Vec::new();
    }
    let job = app.job();
    app.layers = Some(Explorer::new(id, title, job));
    vec![Cmd::LoadLayers {
        job,
        image: id.to_string(),
    }]
}

pub fn on_layers(app: &mut App, job: u64, r: Result<Vec<LayerInfo>, String>) -> Vec<Cmd> {
    let Some(x) = app.layers.as_mut().filter(|x| x.layers_job == job) else {
        return Vec::new();
    };
    let top = r.as_ref().map_or(0, |l| l.len().saturating_sub(1));
    let any = r.as_ref().is_ok_and(|l| !l.is_empty());
    x.layers = Some(r);
    if any {
        return select(app, top);
    }
    Vec::new()
}

pub fn on_entries(app: &mut App, job: u64, r: Result<Vec<EntryRow>, String>) {
    if let Some(x) = app.layers.as_mut().filter(|x| x.entries_job == job) {
        x.set_entries(r);
    }
}

/// Shows layer `index` and loads its entries.
fn select(app: &mut App, index: usize) -> Vec<Cmd> {
    let job = app.job();
    let Some(x) = app.layers.as_mut() else {
        return Vec::new();
    };
    x.layer = index;
    x.entries_job = job;
    x.entries = None;
    x.open.clear();
    x.cursor = 0;
    vec![Cmd::LoadLayerEntries {
        job,
        image: x.image.clone(),
        index,
    }]
}

/// A key while the explorer is open.
pub fn on_key(app: &mut App, ev: &KeyEvent) -> Vec<Cmd> {
    let page = (app.size.1.saturating_sub(12) as isize).max(1);
    let Some(x) = app.layers.as_mut() else {
        app.popup = None;
        return Vec::new();
    };
    let n = match &x.layers {
        Some(Ok(l)) => l.len(),
        _ => 0,
    };
    match ev.code {
        KeyCode::Esc | KeyCode::Char('q') => app.popup = None,
        KeyCode::Down | KeyCode::Char('j') => x.move_by(1),
        KeyCode::Up | KeyCode::Char('k') => x.move_by(-1),
        KeyCode::PageDown => x.move_by(page),
        KeyCode::PageUp => x.move_by(-page),
        KeyCode::Home | KeyCode::Char('g') => x.move_by(isize::MIN / 2),
        KeyCode::End | KeyCode::Char('G') => x.move_by(isize::MAX / 2),
        KeyCode::Enter | KeyCode::Char(' ') | KeyCode::Right | KeyCode::Char('l') => x.toggle(),
        KeyCode::Left | KeyCode::Char('h') => x.close_or_up(),
        KeyCode::Tab | KeyCode::Char(']') if n > 0 => {
            let next = (x.layer + 1) % n;
            return select(app, next);
        }
        KeyCode::BackTab | KeyCode::Char('[') if n > 0 => {
            let prev = (x.layer + n - 1) % n;
            return select(app, prev);
        }
        _ => {}
    }
    Vec::new()
}
