//! End-to-end test of the TUI's events pane against the real binary in tmux: what another
//! berth process records shows up live, `/` filters it, and the containers pane reloads from
//! those events (a container started elsewhere appears, its health column follows its check).

mod common;
mod tui_support;

use common::TestRoot;
use tui_support::{run_box, script, Tmux};

#[test]
fn the_events_pane_follows_other_processes_and_filters() {
    let root = TestRoot::new();
    let tmux = Tmux::start(&script(&root), 140, 30);
    tmux.wait_for("Containers");
    tmux.keys(&["6"]);
    tmux.wait_for("No events since berth started");
    // Changes made by other processes (the CLI, the container's monitor and health checker).
    root.berth_ok(["volume", "create", "evvol"]);
    run_box(
        &root,
        "evbox",
        &["--health-cmd", "true", "--health-interval", "300ms"],
        "sleep 300",
    );
    let s = tmux.wait("the events", |s| {
        s.contains("evvol") && s.contains("health_status: healthy")
    });
    assert!(s.contains("volume") && s.contains("start"), "{s}");
    // Filtered to the health verdicts.
    tmux.keys(&["/", "h", "e", "a", "l", "t", "h", "Enter"]);
    let s = tmux.wait("filtered", |s| !s.contains("evvol"));
    assert!(s.contains("health_status: healthy"), "{s}");
    // The containers pane reloaded from the events: the container and its health are there.
    tmux.keys(&["1"]);
    let s = tmux.wait("the container", |s| {
        s.contains("evbox") && s.contains("healthy")
    });
    assert!(s.contains("HEALTH"), "{s}");
    tmux.quit();
}
