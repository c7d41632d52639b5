//! Go-template `--format` as docker's, against the real binary as root: `ps`, `images`,
//! `volume ls`, `inspect -f` (any object, `--type`), `image|volume|container inspect -f`,
//! `version`/`info`, docker's functions, the `table` directive and bad templates (exit 125).

mod common;

use common::images::{self, Image};
use common::{sha256_digest, Auth, Registry, TestRoot};
use serde_json::{json, Value};

/// `base` with `extra` merged into its config's `config` section (labels, ports, volumes,
/// healthcheck), as a new image.
fn with_config(base: &Image, extra: Value) -> Image {
    let mut cfg = base.config_json();
    for (k, v) in extra.as_object().expect("object") {
        cfg["config"][k] = v.clone();
    }
    let config = serde_json::to_vec(&cfg).expect("json");
    let config_digest = sha256_digest(&config);
    let mut manifest: Value = serde_json::from_slice(&base.manifest).expect("manifest");
    manifest["config"]["digest"] = json!(config_digest);
    manifest["config"]["size"] = json!(config.len());
    let manifest = serde_json::to_vec(&manifest).expect("json");
    let mut blobs = base.blobs.clone();
    let old = base.config_digest.clone().expect("config");
    let media_type = blobs[&old].media_type;
    blobs.remove(&old);
    blobs.insert(
        config_digest.clone(),
        images::Blob {
            media_type,
            data: std::sync::Arc::new(config),
        },
    );
    Image {
        name: "formatted".into(),
        media_type: base.media_type,
        digest: sha256_digest(&manifest),
        manifest,
        config_digest: Some(config_digest),
        architecture: base.architecture.clone(),
        layers: base.layers.clone(),
        blobs,
        children: Vec::new(),
    }
}

/// A registry with the labelled image pulled into `root`; returns it and the reference.
fn pulled(root: &TestRoot) -> (Registry, String) {
    let reg = Registry::start(Auth::None);
    let img = with_config(
        images::single_layer(),
        json!({
            "Labels": {"k": "v", "org.berth.test.image": "formatted"},
            "ExposedPorts": {"80/tcp": {}},
            "Volumes": {"/cache": {}},
            "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 30000000000u64},
        }),
    );
    reg.push(&img, "test/fmt:1.0");
    let name = reg.reference("test/fmt:1.0");
    root.berth_ok(["pull", "-q", &name]);
    (reg, name)
}

/// Runs berth and asserts docker's exit code `code`; returns stderr.
fn fails(root: &TestRoot, args: &[&str], code: i32) -> String {
    let out = root.berth(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    err
}

/// The char column where `word` starts in `line`.
fn col(line: &str, word: &str) -> usize {
    line[..line
        .find(word)
        .unwrap_or_else(|| panic!("{word} in {line:?}"))]
        .chars()
        .count()
}

#[test]
fn list_templates_functions_and_tables() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    // Created, not started: the record, its mounts and volumes are real; no process needed.
    root.berth_ok([
        "create",
        "--name",
        "web",
        "-v",
        "data:/data",
        &img,
        "sleep",
        "9",
    ]);
    root.berth_ok(["volume", "create", "--label", "a=b", "labelled"]);

    // ps: docker's row fields and functions.
    let out = root.berth_ok(["ps", "-a", "--format", "{{.Names}}\\t{{.Status}}"]);
    assert_eq!(out, "web\tCreated\n");
    let out = root.berth_ok([
        "ps",
        "-a",
        "--format",
        "{{.Labels}}|{{.Networks}}|{{.State}}",
    ]);
    assert_eq!(out, "k=v,org.berth.test.image=formatted|none|created\n");
    let out = root.berth_ok([
        "ps",
        "-a",
        "--format",
        "{{upper .Names}} {{lower \"AB\"}} {{title \"ab cd\"}} {{join (split .Labels \",\") \";\"}}",
    ]);
    assert_eq!(out, "WEB ab Ab Cd k=v;org.berth.test.image=formatted\n");
    assert_eq!(
        root.berth_ok(["ps", "-a", "--format", "{{println .Names}}"]),
        "web\n\n"
    );
    // docker's `.Label` method, and the container's own labels (not only its image's).
    root.berth_ok([
        "create", "--name", "tagged", "--label", "k=own", "--label", "z=1", &img,
    ]);
    assert_eq!(
        root.berth_ok([
            "ps",
            "-a",
            "--filter",
            "name=tagged",
            "--format",
            "{{.Label \"k\"}}|{{.Label \"z\"}}|{{.Label \"nosuch\"}}|{{.Labels}}",
        ]),
        "own|1||k=own,org.berth.test.image=formatted,z=1\n"
    );
    root.berth_ok(["rm", "tagged"]);
    let row: Value =
        serde_json::from_str(&root.berth_ok(["ps", "-a", "--format", "{{json .}}"])).expect("json");
    assert_eq!(row["Names"], "web");
    assert_eq!(row["Image"], img.as_str());
    assert!(row["Mounts"].as_str().unwrap().contains("data"), "{row}");
    assert!(
        row["RunningFor"].as_str().unwrap().ends_with(" ago"),
        "{row}"
    );

    // The table directive: docker's headers, columns aligned by the widest cell.
    let out = root.berth_ok([
        "ps",
        "-a",
        "--format",
        "table {{.ID}}\\t{{.Image}}\\t{{.Names}}",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("CONTAINER ID   IMAGE"), "{out}");
    assert_eq!(col(lines[0], "IMAGE"), 15, "{out}");
    assert_eq!(col(lines[1], &img), 15, "{out}");
    assert_eq!(col(lines[0], "NAMES"), col(lines[1], "web"), "{out}");
    assert_eq!(col(lines[0], "NAMES"), 15 + img.len() + 3, "{out}");

    // images.
    let out = root.berth_ok(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(out, format!("{img}\n"));
    let out = root.berth_ok(["images", "--format", "table {{.Tag}}\\t{{.Size}}\\t{{.ID}}"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("TAG       SIZE"), "{out}");
    assert!(lines[0].contains("IMAGE ID"), "{out}");
    assert!(lines[1].starts_with("1.0       "), "{out}");

    // volume ls.
    let out = root.berth_ok([
        "volume",
        "ls",
        "--format",
        "{{.Name}} {{.Driver}} {{.Labels}}",
    ]);
    assert!(out.lines().any(|l| l == "labelled local a=b"), "{out}");
    assert!(out.lines().any(|l| l == "data local "), "{out}");
    let out = root.berth_ok([
        "volume",
        "ls",
        "--format",
        "table {{.Driver}}\\t{{.Name}}\\t{{.Scope}}",
    ]);
    let header = out.lines().next().unwrap_or_default();
    assert_eq!(
        header,
        format!("DRIVER    {:<w$}SCOPE", "VOLUME NAME", w = 64 + 3),
        "{out}"
    );

    // Bad templates: the template and the problem named, docker's exit code 125.
    for (format, want) in [
        ("{{.Names", "{{.Names"),
        ("{{nosuch .Names}}", "nosuch"),
        ("{{.NoSuchField}}", "NoSuchField"),
    ] {
        let err = fails(&root, &["ps", "-a", "--format", format], 125);
        assert!(
            err.contains(want) && err.contains("template"),
            "{format}: {err}"
        );
        let err = fails(&root, &["images", "--format", format], 125);
        assert!(err.contains("template"), "{format}: {err}");
        let err = fails(&root, &["volume", "ls", "--format", format], 125);
        assert!(err.contains("template"), "{format}: {err}");
    }
}

#[test]
fn inspect_finds_any_object_and_formats_it() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    // Created, not started: the record, its mounts and volumes are real; no process needed.
    root.berth_ok([
        "create",
        "--name",
        "web",
        "-v",
        "data:/data",
        &img,
        "sleep",
        "9",
    ]);
    let f = |args: &[&str]| root.berth_ok(args);

    // Containers: docker's common templates.
    assert_eq!(
        f(&[
            "inspect",
            "-f",
            "{{.State.Running}} {{.State.Status}}",
            "web"
        ]),
        "false created\n"
    );
    assert_eq!(
        f(&[
            "inspect",
            "-f",
            "{{range .Mounts}}{{.Destination}} {{end}}",
            "web"
        ]),
        "/data /cache \n"
    );
    assert_eq!(
        f(&["inspect", "-f", "{{index .Config.Labels \"k\"}}", "web"]),
        "v\n"
    );
    // `--size` adds the writable layer and the whole root's sizes; without it they are absent.
    let sizes = f(&["inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", "web"]);
    let (rw, root_fs) = sizes.trim().split_once(' ').expect("two sizes");
    assert_eq!(rw, "0", "{sizes}");
    assert!(root_fs.parse::<u64>().expect("a number") > 0, "{sizes}");
    let err = fails(&root, &["inspect", "-f", "{{.SizeRw}}", "web"], 125);
    assert!(err.contains("no field \"SizeRw\""), "{err}");
    assert!(
        !err.contains("String("),
        "the error dumps the object: {err}"
    );
    // Lists, maps and nil print as Go prints them, not in Rust's debug form.
    assert_eq!(
        f(&["inspect", "-f", "{{.Config.Labels}}", "web"]),
        "map[k:v org.berth.test.image:formatted]\n"
    );
    assert_eq!(
        f(&[
            "inspect",
            "-f",
            "{{.Config.Cmd}} {{println .Config.Cmd}}",
            "web"
        ]),
        "[sleep 9] [sleep 9]\n\n"
    );
    assert_eq!(
        f(&["inspect", "-f", "{{json .Config.ExposedPorts}}", "web"]),
        "{\"80/tcp\":{}}\n"
    );
    assert_eq!(
        f(&["inspect", "-f", "{{json .Config.Volumes}}", "web"]),
        "{\"/cache\":{}}\n"
    );
    let hc: Value = serde_json::from_str(&f(&[
        "inspect",
        "-f",
        "{{json .Config.Healthcheck}}",
        "web",
    ]))
    .expect("json");
    assert_eq!(hc["Test"], json!(["CMD-SHELL", "true"]));
    let ns: Value = serde_json::from_str(&f(&[
        "container",
        "inspect",
        "-f",
        "{{json .NetworkSettings}}",
        "web",
    ]))
    .expect("json");
    for key in [
        "Networks",
        "IPAddress",
        "Gateway",
        "MacAddress",
        "Ports",
        "SandboxKey",
    ] {
        assert!(ns.get(key).is_some(), "{key}: {ns}");
    }
    assert!(ns["Networks"]["none"].get("IPAddress").is_some(), "{ns}");
    assert_eq!(
        f(&["container", "inspect", "-f", "{{.Name}}", "web"]),
        "/web\n"
    );
    let plain: Value = serde_json::from_str(&f(&["inspect", "web"])).expect("json");
    assert_eq!(plain[0]["Config"]["Labels"]["k"], "v");

    // Images and volumes, found by `inspect` itself or by --type.
    let id = f(&["image", "inspect", "-f", "{{.Id}}", &img]);
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(f(&["inspect", "-f", "{{.Id}}", &img]), id);
    assert_eq!(
        f(&["inspect", "--type", "image", "-f", "{{.Os}}", &img]),
        "linux\n"
    );
    let mp = f(&["inspect", "-f", "{{.Mountpoint}}", "data"]);
    assert!(
        mp.starts_with(&root.path().to_string_lossy().to_string()),
        "{mp}"
    );
    assert_eq!(
        f(&["volume", "inspect", "-f", "{{.Driver}}", "data"]),
        "local\n"
    );
    assert_eq!(
        f(&["inspect", "--type", "volume", "-f", "{{.Name}}", "data"]),
        "data\n"
    );
    // The found ones printed, the missing named, exit 1.
    let out = root.berth(["inspect", "-f", "{{.Name}}", "web", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/web\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such object: nosuch"));
    let err = fails(&root, &["inspect", "--type", "volume", "web"], 1);
    assert!(err.to_lowercase().contains("no such volume"), "{err}");
    assert!(err.contains("web"), "{err}");
    let err = fails(&root, &["container", "inspect", "nosuch"], 1);
    assert!(err.contains("no such container: nosuch"), "{err}");
    let err = fails(
        &root,
        &["container", "inspect", "--type", "image", &img],
        125,
    );
    assert!(err.contains("berth inspect --type image"), "{err}");
    let err = fails(&root, &["inspect", "--type", "plugin", "web"], 125);
    assert!(err.contains("--type"), "{err}");
    let err = fails(&root, &["inspect", "-f", "{{.State.Nope}}", "web"], 125);
    assert!(err.contains("Nope"), "{err}");
    let err = fails(&root, &["image", "inspect", "-f", "{{.Os", &img], 125);
    assert!(err.contains("{{.Os"), "{err}");
}

#[test]
fn version_and_info_templates() {
    let root = TestRoot::new();
    assert_eq!(
        root.berth_ok(["version", "--format", "{{.Server.Version}}"]),
        format!("{}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        root.berth_ok(["info", "-f", "{{.Driver}} {{.Containers}}"]),
        "overlay 0\n"
    );
    let v: Value =
        serde_json::from_str(&root.berth_ok(["info", "--format", "{{json .}}"])).expect("json");
    assert_eq!(v["Driver"], "overlay");
    let err = fails(&root, &["version", "--format", "{{.Server.Version"], 125);
    assert!(err.contains("{{.Server.Version"), "{err}");
}
