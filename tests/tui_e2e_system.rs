//! End-to-end test of the TUI's system df view: the real binary in tmux (see `tui_support`) on
//! its own engine root measures what is on disk and prunes from the view.

mod common;
mod tui_support;

use common::{pulled_busybox, TestRoot};
use tui_support::{script, Tmux};

/// The view's row of `what`, as shown: its cells split at spaces.
fn row(screen: &str, what: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| l.split('│').find(|c| c.trim_start().starts_with(what)))
        .map(|c| {
            c.trim_start()[what.len()..]
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .next()
        .unwrap_or_default()
}

#[test]
fn system_df_view_measures_and_prunes_stopped_containers() {
    let root = TestRoot::new();
    let (_reg, image) = pulled_busybox(&root);
    root.berth_ok(["run", "--name", "done", &image, "true"]);
    root.berth_ok(["create", "--name", "made", &image, "true"]);
    let tmux = Tmux::start(&script(&root), 140, 30);
    tmux.wait("both containers listed", |s| {
        s.contains("done") && s.contains("made")
    });
    tmux.keys(&["D"]);
    let s = tmux.wait("the view measured", |s| {
        s.contains("Disk usage") && s.contains("Build Cache")
    });
    // Images: one, used by a container; containers: two, none running.
    assert_eq!(row(&s, "Images")[..2], ["1", "1"], "{s}");
    assert_eq!(row(&s, "Containers")[..2], ["2", "0"], "{s}");
    assert_eq!(row(&s, "Local Volumes")[..2], ["0", "0"], "{s}");
    // Prune the containers: asked first, then done, and the view measures again.
    tmux.keys(&["j", "X"]);
    tmux.wait_for("Prune containers?");
    tmux.keys(&["y"]);
    let s = tmux.wait("the view back with no container", |s| {
        s.contains("Disk usage") && row(s, "Containers").first().map(String::as_str) == Some("0")
    });
    // The image is no longer used: all of it reclaimable.
    assert_eq!(row(&s, "Images")[..2], ["1", "0"], "{s}");
    assert!(row(&s, "Images").join(" ").contains("(100%)"), "{s}");
    assert_eq!(root.berth_ok(["ps", "-aq"]).trim(), "");
    tmux.keys(&["Escape"]);
    tmux.wait("the view closed", |s| !s.contains("Disk usage"));
    tmux.quit();
}
