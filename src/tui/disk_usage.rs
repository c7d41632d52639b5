//! The system df view (`D`): what images, containers, volumes and the build cache take on disk,
//! what a prune would free, and a prune of each, asked first. Errors go through
//! `tui::messages` like every job's.

use crossterm::event::{KeyCode, KeyEvent};

use super::app::App;
use super::msg::{Cmd, JobId, Kind};
use super::popup::{Confirm, Pending, Popup};

/// What a row of the view counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Images,
    Containers,
    Volumes,
    BuildCache,
}

impl Usage {
    pub fn title(self) -> &'static str {
        match self {
            Usage::Images => "Images",
            Usage::Containers => "Containers",
            Usage::Volumes => "Local Volumes",
            Usage::BuildCache => "Build Cache",
        }
    }

    /// What its prune removes (docker's words for `image prune -a`, `container prune`,
    /// `volume prune`, `builder prune`).
    fn prune_removes(self) -> &'static str {
        match self {
            Usage::Images => "every image no container uses",
            Usage::Containers => "every stopped container",
            Usage::Volumes => "every anonymous volume no container uses",
            Usage::BuildCache => "every cached build step and what only the cache keeps",
        }
    }
}

/// One row: docker's `system df` columns, sizes in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub what: Usage,
    pub total: usize,
    pub active: usize,
    pub size: u64,
    pub reclaimable: u64,
}

impl UsageRow {
    /// A row of `what`: its count, how many are in use, its size and what a prune frees.
    pub fn new(what: Usage, total: usize, active: usize, size: u64, reclaimable: u64) -> UsageRow {
        UsageRow {
            what,
            total,
            active,
            size,
            reclaimable,
        }
    }
}

/// The view's state (kept while the dialog is closed for a prune's confirmation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiskView {
    pub job: JobId,
    /// `None` while loading.
    pub rows: Option<Result<Vec<UsageRow>, String>>,
    pub selected: usize,
    /// A prune asked from this view runs: the view comes back when it is done.
    pub pruning: bool,
}

/// Opens the view and measures.
pub fn open(app: &mut App) -> Vec<Cmd> {
    let selected = app.disk.as_ref().map_or(0, |d| d.selected);
    let job = app.job();
    app.disk = Some(DiskView {
        job,
        rows: None,
        selected,
        pruning: false,
    });
    app.popup = Some(Popup::DiskUsage);
    vec![Cmd::LoadDiskUsage(job)]
}

/// The measure arrived (a stale one is dropped).
pub fn on_usage(app: &mut App, job: JobId, r: Result<Vec<UsageRow>, String>) {
    if let Some(d) = app.disk.as_mut().filter(|d| d.job == job) {
        d.rows = Some(r.map_err(|e| super::messages::tidy(&e)));
    }
}

/// A prune job ended: back to the view, measured again, when the prune came from it.
pub fn after_job(app: &mut App) -> Vec<Cmd> {
    if app.disk.as_ref().is_some_and(|d| d.pruning) && app.popup.is_none() {
        return open(app);
    }
    Vec::new()
}

/// Keys while the view is open: move, prune the selected row (asked first), measure again,
/// close.
pub fn on_key(app: &mut App, ev: &KeyEvent) -> Vec<Cmd> {
    let Some(d) = app.disk.as_mut() else {
        app.popup = None;
        return Vec::new();
    };
    let n = d
        .rows
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .map_or(0, Vec::len);
    match ev.code {
        KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('D') => {
            app.popup = None;
            Vec::new()
        }
        KeyCode::Down | KeyCode::Char('j') => {
            d.selected = (d.selected + 1).min(n.saturating_sub(1));
            Vec::new()
        }
        KeyCode::Up | KeyCode::Char('k') => {
            d.selected = d.selected.saturating_sub(1);
            Vec::new()
        }
        KeyCode::Char('r') => open(app),
        KeyCode::Enter | KeyCode::Char('X') => ask_prune(app),
        _ => Vec::new(),
    }
}

/// The confirm dialog for the selected row's prune.
fn ask_prune(app: &mut App) -> Vec<Cmd> {
    let Some(d) = app.disk.as_ref() else {
        return Vec::new();
    };
    let Some(row) = d
        .rows
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .and_then(|r| r.get(d.selected))
        .cloned()
    else {
        return Vec::new();
    };
    let action = match row.what {
        Usage::Images => Pending::Prune(Kind::Image),
        Usage::Containers => Pending::Prune(Kind::Container),
        Usage::Volumes => Pending::Prune(Kind::Volume),
        Usage::BuildCache => Pending::PruneBuildCache,
    };
    let size = super::format::size;
    app.popup = Some(Popup::Confirm(Confirm {
        title: format!("Prune {}?", row.what.title().to_lowercase()),
        items: vec![
            format!("This removes {}.", row.what.prune_removes()),
            format!(
                "Reclaimable now: {} of {}.",
                size(row.reclaimable),
                size(row.size)
            ),
        ],
        action,
        force: None,
        volumes: None,
    }));
    if let Some(d) = app.disk.as_mut() {
        d.pruning = true;
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::msg::{Msg, Output};
    use crate::tui::update::update;
    use crossterm::event::KeyModifiers;

    pub fn rows() -> Vec<UsageRow> {
        let row = UsageRow::new;
        vec![
            row(Usage::Images, 3, 1, 92_000_000, 87_500_000),
            row(Usage::Containers, 5, 2, 1_200_000, 300_000),
            row(Usage::Volumes, 2, 1, 12_300_000, 0),
            row(Usage::BuildCache, 4, 0, 5_600_000, 5_600_000),
        ]
    }

    fn key(a: &mut App, c: KeyCode) -> Vec<Cmd> {
        update(a, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
    }

    #[test]
    fn d_measures_and_each_row_prunes_after_asking_then_the_view_comes_back() {
        let mut a = crate::tui::view_tests::loaded(120, 30);
        let cmds = key(&mut a, KeyCode::Char('D'));
        let [Cmd::LoadDiskUsage(job)] = cmds[..] else {
            panic!("{cmds:?}")
        };
        assert_eq!(a.popup, Some(Popup::DiskUsage));
        // A stale answer is dropped.
        update(&mut a, Msg::Job(job + 100, Output::DiskUsage(Ok(vec![]))));
        assert_eq!(a.disk.as_ref().unwrap().rows, None);
        update(&mut a, Msg::Job(job, Output::DiskUsage(Ok(rows()))));
        assert_eq!(a.disk.as_ref().unwrap().rows, Some(Ok(rows())));
        // To the build cache (moving past the end stays there), prune it: asked first.
        for _ in 0..5 {
            key(&mut a, KeyCode::Char('j'));
        }
        assert_eq!(a.disk.as_ref().unwrap().selected, 3);
        assert!(key(&mut a, KeyCode::Char('X')).is_empty());
        let Some(Popup::Confirm(c)) = &a.popup else {
            panic!("{:?}", a.popup)
        };
        assert_eq!(c.action, Pending::PruneBuildCache);
        assert!(c.items[1].contains("5.6 MB"), "{:?}", c.items);
        let cmds = key(&mut a, KeyCode::Char('y'));
        let [Cmd::PruneBuildCache(prune)] = cmds[..] else {
            panic!("{cmds:?}")
        };
        assert_eq!(a.popup, None);
        // Done: the view is back and measures again.
        let cmds = update(
            &mut a,
            Msg::Job(
                prune,
                Output::Done(Ok("removed 4 build cache entries".into())),
            ),
        );
        assert_eq!(a.popup, Some(Popup::DiskUsage));
        assert!(
            cmds.iter().any(|c| matches!(c, Cmd::LoadDiskUsage(_))),
            "{cmds:?}"
        );
        // Images: the image prune the images pane has.
        let job = a.disk.as_ref().unwrap().job;
        update(&mut a, Msg::Job(job, Output::DiskUsage(Ok(rows()))));
        key(&mut a, KeyCode::Char('k'));
        key(&mut a, KeyCode::Char('k'));
        key(&mut a, KeyCode::Char('k'));
        key(&mut a, KeyCode::Enter);
        let Some(Popup::Confirm(c)) = &a.popup else {
            panic!("{:?}", a.popup)
        };
        assert_eq!(c.action, Pending::Prune(Kind::Image));
        // No: back to the panes; the view stays closed.
        key(&mut a, KeyCode::Esc);
        assert_eq!(a.popup, None);
        // Esc closes the view.
        key(&mut a, KeyCode::Char('D'));
        key(&mut a, KeyCode::Esc);
        assert_eq!(a.popup, None);
    }

    #[test]
    fn an_error_is_told_in_the_view() {
        let mut a = crate::tui::view_tests::loaded(120, 30);
        let cmds = key(&mut a, KeyCode::Char('D'));
        let [Cmd::LoadDiskUsage(job)] = cmds[..] else {
            panic!("{cmds:?}")
        };
        update(
            &mut a,
            Msg::Job(job, Output::DiskUsage(Err("cannot read /x: denied".into()))),
        );
        assert!(matches!(a.disk.as_ref().unwrap().rows, Some(Err(_))));
        // Nothing to prune in an error.
        assert!(key(&mut a, KeyCode::Char('X')).is_empty());
        assert_eq!(a.popup, Some(Popup::DiskUsage));
    }
}
