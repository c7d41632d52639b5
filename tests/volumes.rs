//! `berth volume …` driven through the real binary, each test with its own engine root.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new() -> Root {
        Root {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
        c.arg("--root").arg(self.path()).args(args);
        c.env_remove("BERTH_ROOT");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run berth")
    }

    /// Runs and requires success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "berth {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs and requires failure with `code`; returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "berth {args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    fn names(&self) -> Vec<String> {
        self.ok(&["volume", "ls", "-q"])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn volumes_dir_entries(&self) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(self.path().join("volumes"))
            .expect("volumes dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Records a container that mounts `volumes`, the way the container engine stores mounts.
    fn add_container(&self, name: &str, volumes: &[&str]) {
        let store = berth::engine::state::StateStore::open(&self.path().join("state.db"))
            .expect("state db");
        let mounts: Vec<Value> = volumes
            .iter()
            .map(|v| serde_json::json!({"Type": "volume", "Name": v, "Source": "", "Destination": "/d", "RW": true}))
            .collect();
        let record = serde_json::json!({ "mounts": mounts }).to_string();
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO containers(id, name, image_id, record, created) VALUES (?1, ?1, 'img', ?2, 'now')",
                    rusqlite::params![name, record],
                )?;
                Ok(())
            })
            .expect("insert container");
    }
}

fn inspect(root: &Root, name: &str) -> Value {
    let out = root.ok(&["volume", "inspect", name]);
    let v: Value = serde_json::from_str(&out).expect("inspect prints JSON");
    v[0].clone()
}

fn prune_answering(root: &Root, args: &[&str], answer: &[u8]) -> Output {
    let mut child = root
        .cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn prune");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(answer)
        .expect("answer");
    child.wait_with_output().expect("prune")
}

#[test]
fn create_ls_inspect_rm() {
    let root = Root::new();
    assert_eq!(
        root.ok(&["volume", "create", "--label", "env=prod", "data"]),
        "data\n"
    );
    // Creating an existing name returns it, like docker.
    assert_eq!(root.ok(&["volume", "create", "data"]), "data\n");
    let generated = root.ok(&["volume", "create"]).trim().to_owned();
    assert_eq!(generated.len(), 64);
    assert!(generated.chars().all(|c| c.is_ascii_hexdigit()));

    let table = root.ok(&["volume", "ls"]);
    assert_eq!(table.lines().next(), Some("DRIVER    VOLUME NAME"));
    assert!(table.contains("local     data\n"));

    let json_lines: Vec<Value> = root
        .ok(&["volume", "ls", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(json_lines.len(), 2);
    let data = json_lines
        .iter()
        .find(|v| v["Name"] == "data")
        .expect("data listed");
    assert_eq!(data["Labels"], "env=prod");
    assert_eq!(data["Driver"], "local");

    let v = inspect(&root, "data");
    let mountpoint = PathBuf::from(v["Mountpoint"].as_str().expect("Mountpoint"));
    assert_eq!(mountpoint, root.path().join("volumes/data/_data"));
    assert!(mountpoint.is_dir());
    assert_eq!(v["Labels"]["env"], "prod");
    assert_eq!(v["Scope"], "local");
    assert_eq!(v["Anonymous"], false);
    assert!(v["CreatedAt"].as_str().expect("CreatedAt").ends_with('Z'));
    std::fs::write(mountpoint.join("f"), b"12345").expect("write into volume");
    assert_eq!(inspect(&root, "data")["Size"], 5);
    assert_eq!(inspect(&root, &generated)["Anonymous"], true);

    assert_eq!(root.ok(&["volume", "rm", "data"]), "data\n");
    assert!(!root.path().join("volumes/data").exists());
    assert_eq!(root.names(), vec![generated.clone()]);
    let err = root.fails(&["volume", "rm", "data"], 1);
    assert!(err.contains("no such volume: data"), "{err}");
    assert_eq!(root.ok(&["volume", "rm", "-f", "data"]), "");
    let err = root.fails(&["volume", "inspect", "data"], 1);
    assert!(err.contains("no such volume"), "{err}");
}

#[test]
fn bad_input_is_explained_and_creates_nothing() {
    let root = Root::new();
    for (args, want) in [
        (vec!["volume", "create", "a"], "at least two"),
        (vec!["volume", "create", "my vol"], "not allowed"),
        (vec!["volume", "create", "./data"], "absolute path"),
        (vec!["volume", "create", "--label", "=x", "ok1"], "KEY"),
        (vec!["volume", "create", "-d", "nfs", "ok2"], "local"),
        (
            vec!["volume", "ls", "--filter", "colour=red"],
            "unknown filter",
        ),
        (
            vec!["volume", "ls", "--filter", "dangling=maybe"],
            "true or false",
        ),
        (vec!["volume", "ls", "--format", "{{.Name"], "template"),
        (
            vec!["volume", "prune", "-f", "--filter", "dangling=true"],
            "label",
        ),
    ] {
        let err = root.fails(&args, 125);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert!(root.names().is_empty());
    assert!(root.volumes_dir_entries().is_empty());
}

#[test]
fn in_use_volume_is_refused_and_kept_by_prune() {
    let root = Root::new();
    root.ok(&["volume", "create", "db-data"]);
    root.ok(&["volume", "create", "spare"]);
    let anon_used = root.ok(&["volume", "create"]).trim().to_owned();
    let anon_free = root.ok(&["volume", "create"]).trim().to_owned();
    root.add_container("db", &["db-data", &anon_used]);

    for args in [
        &["volume", "rm", "db-data"][..],
        &["volume", "rm", "-f", "db-data"][..],
    ] {
        let err = root.fails(args, 1);
        assert!(err.contains("in use by container db"), "{args:?}: {err}");
    }
    assert!(root.path().join("volumes/db-data/_data").is_dir());
    assert_eq!(inspect(&root, "db-data")["UsedBy"][0], "db");

    let dangling = root.ok(&["volume", "ls", "-q", "--filter", "dangling=true"]);
    let mut expect = vec![anon_free.clone(), "spare".to_owned()];
    expect.sort();
    assert_eq!(dangling.lines().collect::<Vec<_>>(), expect);

    let out = root.ok(&["volume", "prune", "-f"]);
    assert!(
        out.starts_with(&format!("Deleted Volumes:\n{anon_free}\n")),
        "{out}"
    );
    let mut left = vec![anon_used.clone(), "db-data".to_owned(), "spare".to_owned()];
    left.sort();
    assert_eq!(root.names(), left);

    // --all also takes unused named volumes, never used ones; confirmed on stdin.
    let out = prune_answering(&root, &["volume", "prune", "--all"], b"y\n");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("spare"));
    let mut left = vec![anon_used, "db-data".to_owned()];
    left.sort();
    assert_eq!(root.names(), left);
    assert_eq!(root.volumes_dir_entries(), left);
}

#[test]
fn prune_asks_first_and_no_means_nothing_removed() {
    let root = Root::new();
    let anon = root.ok(&["volume", "create"]).trim().to_owned();
    let out = prune_answering(&root, &["volume", "prune"], b"n\n");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Are you sure"));
    assert_eq!(root.names(), vec![anon]);
}

#[test]
fn concurrent_creates_of_one_name_agree() {
    let root = Root::new();
    let children: Vec<_> = (0..8)
        .map(|_| {
            root.cmd(&["volume", "create", "shared"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn create")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("create");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, b"shared\n");
    }
    assert_eq!(root.names(), vec!["shared"]);
    assert_eq!(root.volumes_dir_entries(), vec!["shared"]);
}
