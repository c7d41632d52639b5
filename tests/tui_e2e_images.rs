//! End-to-end tests of the TUI's networks pane and of moving, making (a build cancelled too) and
//! exploring images: the real binary in tmux (see `tui_support`), each on its own engine root.
//! Networks are only created and removed as records here: no container joins a bridge outside a
//! test namespace.

mod common;
mod tui_support;

use common::{images, pulled_busybox, Auth, Registry, TestRoot};
use tui_support::{run_box, script, Tmux};

/// The cells of the screen's lines, trimmed, joined by spaces (a popup's wrapped text).
fn text(s: &str) -> String {
    s.lines()
        .flat_map(|l| l.split('│').map(str::trim).filter(|c| !c.is_empty()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn networks_pane_creates_inspects_and_removes_a_network() {
    let root = TestRoot::new();
    run_box(&root, "netbox", &["--network", "none"], "sleep 300");
    let tmux = Tmux::start(&script(&root), 140, 30);
    tmux.wait("netbox running", |s| {
        s.contains("netbox") && s.contains("running")
    });
    // The container's Networks tab: its mode.
    tmux.keys(&["v", "v", "v", "v"]);
    let s = tmux.wait_for("Network none");
    assert!(s.contains("Networks"), "{s}");
    tmux.keys(&["5"]);
    // The default network is there from the first listing.
    tmux.wait_for("172.17.0.0/16");
    tmux.keys(&["c"]);
    tmux.wait_for("Create network");
    tmux.run(&["send-keys", "-l", "tuinet"]);
    tmux.keys(&["Tab"]);
    tmux.run(&["send-keys", "-l", "10.77.0.1/24"]);
    tmux.keys(&["Enter"]);
    // Refused with the reason, the form kept.
    tmux.wait_for("host bits set");
    tmux.keys(&["BSpace", "BSpace", "BSpace", "BSpace"]);
    tmux.run(&["send-keys", "-l", "0/24"]);
    tmux.keys(&["Tab", "Space", "Enter"]);
    tmux.wait_for("created network tuinet");
    let s = tmux.wait_for("10.77.0.0/24");
    assert!(s.contains("yes"), "internal:\n{s}");
    let ls = root.berth_ok(["network", "ls", "--format", "{{.Name}} {{.Internal}}"]);
    assert!(ls.contains("tuinet true"), "{ls}");
    tmux.keys(&["/"]);
    tmux.run(&["send-keys", "-l", "tuinet"]);
    tmux.keys(&["Enter", "i"]);
    let s = tmux.wait_for("\"Subnet\"");
    assert!(
        s.contains("network tuinet") && s.contains("10.77.0.0/24"),
        "{s}"
    );
    tmux.keys(&["Escape", "d"]);
    tmux.wait_for("Remove network tuinet?");
    tmux.keys(&["y"]);
    tmux.wait_for("removed 1 network");
    let ls = root.berth_ok(["network", "ls", "--format", "{{.Name}}"]);
    assert!(!ls.contains("tuinet"), "{ls}");
    tmux.quit();
}

#[test]
fn push_save_and_load_from_the_images_pane() {
    let root = TestRoot::new();
    let (reg, name) = pulled_busybox(&root);
    let copy = reg.reference("copy/busybox:1");
    root.berth_ok(["tag", &name, &copy]);
    let file = root.base().join("saved.tar");
    let tmux = Tmux::start(&script(&root), 140, 30);
    tmux.wait_for("Containers");
    tmux.keys(&["2", "/"]);
    tmux.run(&["send-keys", "-l", "copy/"]);
    tmux.keys(&["Enter", "u"]);
    tmux.wait_for("Push image");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("done: 1: digest: sha256:");
    // The full line is in the status bar.
    assert!(s.contains("pushed 1: digest: sha256:"), "{s}");
    assert!(
        s.contains("Pushed") || s.contains("Mounted from") || s.contains("already exists"),
        "per-layer states:\n{s}"
    );
    tmux.keys(&["Escape"]);
    // The registry has it: another engine pulls it.
    let other = TestRoot::new();
    other.berth_ok(["pull", "-q", &copy]);
    // Save it, remove it, load it back.
    tmux.keys(&["S"]);
    tmux.wait_for("Save image to a file");
    tmux.keys(&["Tab"]);
    tmux.run(&["send-keys", "-l", file.to_str().unwrap()]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("saved ");
    assert!(std::fs::metadata(&file)
        .map(|m| m.len() > 0)
        .unwrap_or(false));
    tmux.keys(&["d"]);
    tmux.wait_for("Remove image");
    tmux.keys(&["y"]);
    tmux.wait_for("removed 1 image");
    tmux.keys(&["Escape", "L"]);
    tmux.wait_for("Load images from a file");
    tmux.run(&["send-keys", "-l", file.to_str().unwrap()]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("loaded ");
    let images = root.berth_ok(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(images.contains("copy/busybox:1"), "{images}");
    tmux.quit();
}

#[test]
fn export_copy_commit_then_explore_the_new_layer() {
    let root = TestRoot::new();
    run_box(
        &root,
        "files",
        &[],
        "echo hello-from-box > /greeting; rm /etc/group; sleep 300",
    );
    let out = root.base().join("files.tar");
    let got = root.base().join("greeting.out");
    let mine = root.base().join("from-host.txt");
    std::fs::write(&mine, "hello-from-host\n").unwrap();
    let tmux = Tmux::start(&script(&root), 140, 34);
    tmux.wait("files running", |s| {
        s.contains("files") && s.contains("running")
    });
    // Wait for the container to have written its file.
    for _ in 0..50 {
        if root
            .berth(["exec", "files", "cat", "/greeting"])
            .status
            .success()
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    tmux.keys(&["E"]);
    tmux.wait_for("Export files");
    tmux.run(&["send-keys", "-l", out.to_str().unwrap()]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("exported files to");
    let mut names = Vec::new();
    let mut archive = tar::Archive::new(std::fs::File::open(&out).unwrap());
    for e in archive.entries().unwrap() {
        names.push(e.unwrap().path().unwrap().display().to_string());
    }
    assert!(
        names
            .iter()
            .any(|n| n.trim_start_matches("./") == "greeting"),
        "{names:?}"
    );
    // Out of the container, then into it.
    tmux.keys(&["F"]);
    tmux.wait_for("Copy files of files");
    tmux.keys(&["Tab"]);
    tmux.run(&["send-keys", "-l", "/greeting"]);
    tmux.keys(&["Tab"]);
    tmux.run(&["send-keys", "-l", got.to_str().unwrap()]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("copied files:/greeting");
    assert_eq!(std::fs::read_to_string(&got).unwrap(), "hello-from-box\n");
    tmux.keys(&["F", "Space", "Tab"]);
    tmux.run(&["send-keys", "-l", "/tmp"]);
    tmux.keys(&["Tab"]);
    tmux.run(&["send-keys", "-l", mine.to_str().unwrap()]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("to files:/tmp");
    let cat = root.berth_ok(["exec", "files", "cat", "/tmp/from-host.txt"]);
    assert_eq!(cat, "hello-from-host\n");
    // Commit, then browse the layer the commit made.
    tmux.keys(&["C"]);
    tmux.wait_for("Commit files to an image");
    tmux.run(&["send-keys", "-l", "snap:1"]);
    tmux.keys(&["Tab"]);
    tmux.run(&["send-keys", "-l", "from the tui"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("committed files as snap:1");
    tmux.keys(&["2", "/"]);
    tmux.run(&["send-keys", "-l", "snap"]);
    tmux.keys(&["Enter", "b"]);
    tmux.wait_for("Layers of");
    let s = tmux.wait_for("greeting");
    assert!(s.contains("layer 2 of 2"), "{s}");
    assert!(s.contains(" A ") && s.contains("tmp/"), "{s}");
    // etc/ (first) holds the deletion: a whiteout, shown as D.
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("  group");
    let row = s
        .lines()
        .find(|l| l.contains("  group"))
        .unwrap_or_default();
    assert!(row.contains(" D "), "{s}");
    tmux.keys(&["Escape"]);
    // The history tab names the commit's message.
    tmux.keys(&["v", "v", "v"]);
    tmux.wait_for("(from the");
    tmux.quit();
}

#[test]
fn build_form_streams_steps_and_a_rebuild_uses_the_cache() {
    let root = TestRoot::new();
    let ctx = root.base().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("hello.txt"), "hello from a tui build\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY hello.txt /hello.txt\nENV MODE=tui\n",
    )
    .unwrap();
    let tmux = Tmux::start(&script(&root), 140, 34);
    tmux.wait_for("Containers");
    tmux.keys(&["B"]);
    tmux.wait_for("Build an image");
    tmux.run(&["send-keys", "-l", ctx.to_str().unwrap()]);
    tmux.keys(&["Tab", "Tab"]);
    tmux.run(&["send-keys", "-l", "built:1"]);
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("built ");
    assert!(s.contains("Build built:1"), "{s}");
    assert!(s.contains("COPY hello.txt /hello.txt"), "{s}");
    assert!(s.contains("✓"), "step marks:\n{s}");
    tmux.keys(&["Escape"]);
    let images = root.berth_ok(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(images.contains("built:1"), "{images}");
    // Again: the form comes back filled; the COPY step is cached.
    tmux.keys(&["B"]);
    tmux.wait_for("Build an image");
    tmux.keys(&["Enter"]);
    let s = tmux.wait("the cached rebuild", |s| {
        s.contains("cached") && s.contains("built ")
    });
    assert!(s.contains("Using cache"), "{s}");
    tmux.keys(&["Escape"]);
    // A failing build says why.
    std::fs::write(ctx.join("Dockerfile"), "FROM scratch\nCOPY missing.txt /\n").unwrap();
    tmux.keys(&["B", "Enter"]);
    let s = tmux.wait_for("failed");
    assert!(text(&s).contains("missing.txt"), "{s}");
    tmux.keys(&["Escape"]);
    tmux.quit();
}

#[test]
fn a_build_started_from_the_tui_is_cancelled_and_leaves_nothing() {
    let root = TestRoot::new();
    let (_reg, base) = pulled_busybox(&root);
    let ctx = root.base().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {base}\nRUN echo step-started && sleep 600\n"),
    )
    .unwrap();
    let tmux = Tmux::start(&script(&root), 140, 34);
    tmux.wait_for("Containers");
    tmux.keys(&["B"]);
    tmux.wait_for("Build an image");
    tmux.run(&["send-keys", "-l", ctx.to_str().unwrap()]);
    tmux.keys(&["Tab", "Tab"]);
    tmux.run(&["send-keys", "-l", "never:1"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("step-started");
    let running = root.berth_ok(["ps", "-q"]);
    assert_eq!(running.lines().count(), 1, "the RUN container runs");
    // Esc asks; n keeps it running; Esc again and y cancels it.
    tmux.keys(&["Escape"]);
    tmux.wait_for("Stop the build of never:1?");
    tmux.keys(&["n"]);
    tmux.wait_for("Esc cancel the build");
    tmux.keys(&["Escape"]);
    tmux.wait_for("Stop the build of never:1?");
    tmux.keys(&["y"]);
    let s = tmux.wait_for("build of never:1 cancelled");
    assert!(text(&s).contains("failed: the build was cancelled"), "{s}");
    // Like SIGINT for the CLI: the RUN container killed and removed, no staging, no mount.
    assert_eq!(root.berth_ok(["ps", "-aq"]), "", "no container left");
    let images = root.berth_ok(["images", "--format", "{{.Repository}}"]);
    assert!(!images.contains("never"), "no image: {images}");
    let tmp: Vec<String> = std::fs::read_dir(root.path().join("tmp"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("build-") || n.starts_with("layer-"))
                .collect()
        })
        .unwrap_or_default();
    assert!(tmp.is_empty(), "no staging left: {tmp:?}");
    assert!(
        common::testroot::mounts_under(&root.path()).is_empty(),
        "no mount left"
    );
    tmux.keys(&["Escape"]);
    tmux.quit();
}

#[test]
fn the_run_form_offers_to_pull_a_missing_image_then_runs_it() {
    let reg = Registry::start(Auth::None);
    reg.push(images::single_layer(), "demo/busybox:1");
    let reference = reg.reference("demo/busybox:1");
    let root = TestRoot::new();
    let tmux = Tmux::start(&script(&root), 130, 32);
    tmux.wait_for("Containers");
    tmux.keys(&["n"]);
    tmux.wait_for("Run a container");
    tmux.run(&["send-keys", "-l", &reference]);
    tmux.keys(&["Tab"]);
    tmux.run(&["send-keys", "-l", "offered"]);
    tmux.keys(&["Tab"]);
    tmux.run(&["send-keys", "-l", "sleep 300"]);
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("and run it?");
    assert!(text(&s).contains("is not among the images here"), "{s}");
    tmux.keys(&["y"]);
    tmux.wait_for("started offered");
    let ps = root.berth_ok(["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert!(ps.contains("offered Up"), "{ps}");
    root.berth_ok(["rm", "-f", "offered"]);
    tmux.quit();
}

/// Issue 11: an error names the TUI's key, not the CLI's flag, and says its prefix once.
#[test]
fn a_refused_remove_names_the_tui_key_once() {
    let root = TestRoot::new();
    let (_reg, name) = pulled_busybox(&root);
    root.berth_ok(["create", "--name", "user", &name, "true"]);
    let tmux = Tmux::start(&script(&root), 160, 30);
    tmux.wait_for("Containers");
    tmux.keys(&["2"]);
    tmux.wait_for("test/busybox");
    tmux.keys(&["d"]);
    tmux.wait_for("Remove image");
    tmux.keys(&["y"]);
    let s = tmux.wait_for("Action failed");
    let t = text(&s);
    assert!(t.contains("f in the remove dialog"), "{s}");
    assert!(!t.contains("-f"), "a CLI flag:\n{s}");
    assert!(t.contains("unable to remove image"), "{s}");
    assert!(
        !t.contains("cannot remove image"),
        "a repeated prefix:\n{s}"
    );
    tmux.keys(&["Escape"]);
    tmux.quit();
}
