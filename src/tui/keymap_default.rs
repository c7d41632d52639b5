//! The default key table (what `?` shows when `tui.toml` changes nothing).

use crossterm::event::KeyCode;

use super::keymap::{Action as A, Binding, Context as C, Key, Keymap};

fn b(
    action: A,
    context: C,
    keys: &[Key],
    help: &'static str,
    short: Option<&'static str>,
) -> Binding {
    Binding {
        action,
        context,
        keys: keys.to_vec(),
        help,
        short,
    }
}

const fn k(c: char) -> Key {
    Key::ch(c)
}

const fn p(code: KeyCode) -> Key {
    Key::plain(code)
}

impl Default for Keymap {
    fn default() -> Self {
        use KeyCode::*;
        let bindings = vec![
            // Everywhere.
            b(
                A::Help,
                C::Global,
                &[k('?')],
                "show this help",
                Some("help"),
            ),
            b(
                A::Quit,
                C::Global,
                &[k('q'), Key::ctrl('c')],
                "quit (or close a dialog)",
                Some("quit"),
            ),
            b(
                A::NextPane,
                C::Global,
                &[p(Tab), k('l'), p(Right)],
                "next pane",
                None,
            ),
            b(
                A::PrevPane,
                C::Global,
                &[p(BackTab), k('h'), p(Left)],
                "previous pane",
                None,
            ),
            b(
                A::PaneContainers,
                C::Global,
                &[k('1')],
                "containers pane",
                None,
            ),
            b(A::PaneImages, C::Global, &[k('2')], "images pane", None),
            b(A::PaneVolumes, C::Global, &[k('3')], "volumes pane", None),
            b(A::PaneLogs, C::Global, &[k('4')], "logs pane", None),
            b(A::PaneNetworks, C::Global, &[k('5')], "networks pane", None),
            b(A::PaneEvents, C::Global, &[k('6')], "events pane", None),
            b(
                A::Up,
                C::Global,
                &[p(Up), k('k')],
                "move up / scroll up",
                None,
            ),
            b(
                A::Down,
                C::Global,
                &[p(Down), k('j')],
                "move down / scroll down",
                None,
            ),
            b(
                A::PageUp,
                C::Global,
                &[p(PageUp), Key::ctrl('b')],
                "page up",
                None,
            ),
            b(
                A::PageDown,
                C::Global,
                &[p(PageDown), Key::ctrl('f')],
                "page down",
                None,
            ),
            b(A::Top, C::Global, &[p(Home), k('g')], "go to the top", None),
            b(
                A::Bottom,
                C::Global,
                &[p(End), k('G')],
                "go to the bottom (logs: follow)",
                None,
            ),
            b(
                A::Open,
                C::Global,
                &[p(Enter)],
                "open: logs (merged when marked) / details",
                Some("open"),
            ),
            b(
                A::Back,
                C::Global,
                &[p(Esc)],
                "back / close a dialog / clear a filter",
                None,
            ),
            b(A::Pull, C::Global, &[k('p')], "pull an image", Some("pull")),
            b(
                A::Run,
                C::Global,
                &[k('n')],
                "run a new container (form)",
                Some("run"),
            ),
            b(
                A::Zoom,
                C::Global,
                &[k('z')],
                "shell pane: full screen and back (C-] first, to leave the shell)",
                None,
            ),
            b(
                A::NextShell,
                C::Global,
                &[k(']')],
                "shell pane: the next open shell or attach session (all stay open)",
                None,
            ),
            b(
                A::Mouse,
                C::Global,
                &[k('m')],
                "mouse capture on/off (off lets you select text)",
                None,
            ),
            // Lists.
            b(
                A::Filter,
                C::List,
                &[k('/')],
                "filter the list (type, Enter keeps, Esc clears)",
                Some("filter"),
            ),
            b(
                A::Sort,
                C::List,
                &[k('o')],
                "sort by the next column",
                Some("sort"),
            ),
            b(
                A::SortReverse,
                C::List,
                &[k('O')],
                "reverse the sort order",
                None,
            ),
            b(
                A::Mark,
                C::List,
                &[k(' ')],
                "mark / unmark (actions apply to all marked)",
                Some("mark"),
            ),
            b(
                A::MarkAll,
                C::List,
                &[k('*')],
                "mark all shown / clear marks",
                None,
            ),
            b(
                A::StartStop,
                C::List,
                &[k('s')],
                "containers: start or stop",
                Some("start/stop"),
            ),
            b(A::Restart, C::List, &[k('r')], "containers: restart", None),
            b(A::Kill, C::List, &[k('K')], "containers: kill", None),
            b(
                A::Pause,
                C::List,
                &[k('P')],
                "containers: pause or unpause",
                None,
            ),
            b(
                A::Remove,
                C::List,
                &[k('d')],
                "remove (asks first; f force, v volumes)",
                Some("remove"),
            ),
            b(A::Inspect, C::List, &[k('i')], "inspect (JSON)", None),
            b(
                A::Shell,
                C::List,
                &[k('x')],
                "containers: open a shell in a pane",
                Some("shell"),
            ),
            b(
                A::Attach,
                C::List,
                &[k('a')],
                "containers: attach to the main process",
                None,
            ),
            b(
                A::Prune,
                C::List,
                &[k('X')],
                "prune: stopped containers, unused images, unused volumes",
                None,
            ),
            b(
                A::Exec,
                C::List,
                &[k('e')],
                "exec a command in the container's terminal pane (-u USER first to choose the user)",
                Some("exec"),
            ),
            b(
                A::DetailsTab,
                C::List,
                &[k('v')],
                "details: next tab (env, mounts, labels, networks, processes; image history, layers)",
                Some("details tab"),
            ),
            b(
                A::Copy,
                C::List,
                &[k('y')],
                "copy the selected id (a volume's name) to the clipboard (OSC 52)",
                Some("copy id"),
            ),
            b(
                A::CreateVolume,
                C::List,
                &[k('c')],
                "volumes, networks: create one",
                None,
            ),
            b(
                A::Push,
                C::List,
                &[k('u')],
                "images: push to its registry (progress per layer)",
                Some("push"),
            ),
            b(
                A::SaveImage,
                C::List,
                &[k('S')],
                "images: save to a file (docker archive)",
                None,
            ),
            b(
                A::LoadImage,
                C::List,
                &[k('L')],
                "images: load from an archive file",
                None,
            ),
            b(
                A::Layers,
                C::List,
                &[k('b')],
                "images: browse the layers (files each adds, changes, removes)",
                Some("layers"),
            ),
            b(
                A::DiskUsage,
                C::List,
                &[k('D')],
                "disk usage (system df) of images, containers, volumes, build cache; prune each",
                None,
            ),
            b(
                A::Build,
                C::Global,
                &[k('B')],
                "build an image from a Dockerfile (or show the build under way)",
                Some("build"),
            ),
            b(
                A::Commit,
                C::List,
                &[k('C')],
                "containers: commit to a new image",
                None,
            ),
            b(
                A::Export,
                C::List,
                &[k('E')],
                "containers: export the filesystem to a tar file",
                None,
            ),
            b(
                A::CopyFiles,
                C::List,
                &[k('F')],
                "containers: copy a file or directory out or in",
                None,
            ),
            // Logs.
            b(
                A::Search,
                C::Logs,
                &[k('/')],
                "search (highlights; n/N jump)",
                Some("search"),
            ),
            b(A::NextMatch, C::Logs, &[k('n')], "next match (older)", None),
            b(
                A::PrevMatch,
                C::Logs,
                &[k('N')],
                "previous match (newer)",
                None,
            ),
            b(
                A::LogFilter,
                C::Logs,
                &[k('f')],
                "filter: show only matching lines",
                Some("filter"),
            ),
            b(
                A::Timestamps,
                C::Logs,
                &[k('t')],
                "timestamps on/off",
                Some("time"),
            ),
            b(
                A::Wrap,
                C::Logs,
                &[k('w')],
                "wrap long lines on/off",
                Some("wrap"),
            ),
            b(
                A::Tail,
                C::Logs,
                &[k('T')],
                "tail: 100 / 1000 / 10000 / all lines",
                None,
            ),
            b(
                A::Since,
                C::Logs,
                &[k('H')],
                "since: all / 5m / 1h / 24h",
                None,
            ),
            b(
                A::Save,
                C::Logs,
                &[k('S')],
                "save the shown lines to a file",
                Some("save"),
            ),
            // The inspect dialog.
            b(
                A::InspectSearch,
                C::Inspect,
                &[k('/')],
                "inspect: search (Enter keeps, n/N jump)",
                None,
            ),
            b(
                A::InspectNext,
                C::Inspect,
                &[k('n')],
                "inspect: next match",
                None,
            ),
            b(
                A::InspectPrev,
                C::Inspect,
                &[k('N')],
                "inspect: previous match",
                None,
            ),
            // Dialogs.
            b(A::Confirm, C::Popup, &[k('y'), p(Enter)], "confirm", None),
            b(
                A::Cancel,
                C::Popup,
                &[p(Esc), k('q'), k('n')],
                "cancel / close",
                None,
            ),
            b(
                A::ToggleForce,
                C::Popup,
                &[k('f')],
                "remove: force on/off",
                None,
            ),
            b(
                A::ToggleVolumes,
                C::Popup,
                &[k('v')],
                "remove: also remove anonymous volumes",
                None,
            ),
        ];
        Keymap { bindings }
    }
}
