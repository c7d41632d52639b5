//! `ps`, `top` and `images` as docker shows them, against the real binary as root: whole image
//! names, columns aligned whatever the widths, PORTS, quoted commands, `-l`, `-n`, `-s`, the
//! filters, `top` with ps options, `images --no-trunc`.

mod common;

use common::images;
use common::{Auth, Registry, TestRoot};

/// The cell of `line` under the header column `name` (char positions, as a terminal shows).
fn cell(header: &str, line: &str, name: &str, next: Option<&str>) -> String {
    let start = header[..header.find(name).expect("column")].chars().count();
    let end = next
        .map(|n| {
            header[..header.find(n).expect("next column")]
                .chars()
                .count()
        })
        .unwrap_or(usize::MAX);
    let lc: Vec<char> = line.chars().collect();
    lc[start.min(lc.len())..end.min(lc.len())]
        .iter()
        .collect::<String>()
        .trim_end()
        .to_string()
}

fn ids(root: &TestRoot, args: &[&str]) -> Vec<String> {
    root.berth_ok(args).lines().map(String::from).collect()
}

#[test]
fn ps_columns_flags_and_filters_as_docker() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    reg.push(images::single_layer(), "test/busybox:latest");
    let img = reg.reference("test/busybox:latest");
    assert!(img.len() > 20);
    root.berth_ok(["pull", "-q", &img]);
    let loop_cmd = "while true; do sleep 1; done";
    let web = root.berth_ok(["run", "-d", "--name", "web", &img, "sh", "-c", loop_cmd]);
    let web = web.trim()[..12].to_string();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = root.berth(["run", "--name", "ex3", &img, "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    let ex3 = root
        .berth_ok(["ps", "-aq", "--filter", "name=ex3"])
        .trim()
        .to_string();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let idle = root.berth_ok(["create", "--name", "idle", "-v", "data:/data", &img, "true"]);
    let idle = idle.trim()[..12].to_string();

    // The table: docker's columns, the image whole, the command cut inside its quotes.
    let out = root.berth_ok(["ps", "-a"]);
    let lines: Vec<&str> = out.lines().collect();
    let header = lines[0];
    let names: Vec<&str> = header
        .split("   ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        names,
        [
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES"
        ],
        "{out}"
    );
    let row = lines.iter().find(|l| l.starts_with(&web)).expect("web row");
    assert_eq!(cell(header, row, "IMAGE", Some("COMMAND")), img, "{out}");
    assert_eq!(
        cell(header, row, "COMMAND", Some("CREATED")),
        "\"sh -c while true; d…\"",
        "{out}"
    );
    assert_eq!(cell(header, row, "PORTS", Some("NAMES")), "", "{out}");
    for (id, name) in [(&web, "web"), (&ex3, "ex3"), (&idle, "idle")] {
        let row = lines
            .iter()
            .find(|l| l.starts_with(id.as_str()))
            .expect("row");
        assert_eq!(cell(header, row, "NAMES", None), name, "{out}");
    }
    let row = lines.iter().find(|l| l.starts_with(&ex3)).expect("ex3 row");
    assert_eq!(
        cell(header, row, "COMMAND", Some("CREATED")),
        "\"sh -c exit 3\""
    );

    // -l, -n (all states, newest first), -s.
    assert_eq!(ids(&root, &["ps", "-l", "-q"]), vec![idle.clone()]);
    assert_eq!(
        ids(&root, &["ps", "-n", "2", "-q"]),
        [idle.clone(), ex3.clone()]
    );
    let sized = root.berth_ok(["ps", "-s"]);
    assert!(sized.lines().next().unwrap().ends_with("SIZE"), "{sized}");
    assert!(sized.contains("(virtual "), "{sized}");

    // Filters.
    let f = |filter: &str| ids(&root, &["ps", "-a", "-q", "--filter", filter]);
    assert_eq!(f("exited=3"), vec![ex3.clone()]);
    assert_eq!(
        ids(&root, &["ps", "-q", "--filter", "exited=3"]),
        vec![ex3.clone()]
    );
    assert_eq!(f(&format!("ancestor={img}")).len(), 3);
    assert!(f("ancestor=nosuch:1").is_empty());
    assert_eq!(f("before=idle"), [ex3.clone(), web.clone()]);
    assert_eq!(f("since=web"), [idle.clone(), ex3.clone()]);
    assert_eq!(f("volume=data"), vec![idle.clone()]);
    assert_eq!(f("volume=/data"), vec![idle.clone()]);
    // Containers carry their image's labels.
    assert_eq!(f(&format!("label={}", images::LABEL)).len(), 3);
    assert_eq!(f(&format!("label={}=single-layer", images::LABEL)).len(), 3);
    assert!(f(&format!("label={}=other", images::LABEL)).is_empty());
    assert!(f("label=no.such.label").is_empty());
    let bad = root.berth(["ps", "--filter", "exited=x"]);
    assert_eq!(bad.status.code(), Some(125));

    // top: docker's default columns, then ps options.
    let top = root.berth_ok(["top", "web"]);
    let head: Vec<&str> = top.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        head,
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        "{top}"
    );
    assert!(top.contains(&format!("sh -c {loop_cmd}")), "{top}");
    let top = root.berth_ok(["top", "web", "-o", "pid,comm"]);
    let head: Vec<&str> = top.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(head, ["PID", "COMMAND"], "{top}");
    assert!(top.lines().skip(1).any(|l| l.ends_with("sh")), "{top}");
    assert!(
        top.lines().count() <= 3,
        "only the container's processes: {top}"
    );

    // images --no-trunc: the full id.
    let id = images::single_layer().config_digest.clone().unwrap();
    assert_eq!(
        root.berth_ok(["images", "-q", "--no-trunc"]),
        format!("{id}\n")
    );
    assert!(root.berth_ok(["images", "--no-trunc"]).contains(&id));
    root.berth_ok(["rm", "-f", "web", "ex3", "idle"]);
}

#[test]
fn images_repo_lists_only_that_repository() {
    let reg = Registry::start(Auth::None);
    let root = TestRoot::new();
    reg.push(images::single_layer(), "test/busybox:latest");
    let img = reg.reference("test/busybox:latest");
    root.berth_ok(["pull", "-q", &img]);
    root.berth_ok(["tag", &img, "first/app:1"]);
    root.berth_ok(["tag", &img, "second/app:1"]);
    let out = root.berth_ok(["images", "first/app"]);
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert!(rows[0].starts_with("first/app "), "{out}");
    let out = root.berth_ok(["images", "--format", "json", "second/app:1"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("\"Repository\":\"second/app\""), "{out}");
    assert_eq!(root.berth_ok(["images", "second/app:2"]).lines().count(), 1);
}
