//! `berth pull` against a real docker-registry on loopback.

mod regsupport;

use std::path::Path;
use std::time::{Duration, Instant};

use regsupport::{berth, listing, AuthMode, Registry, SlowProxy};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("root")
    }
    fn config(&self) -> std::path::PathBuf {
        self.dir.path().join("config")
    }
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        berth(&self.root(), &self.config(), args)
    }
}

fn ok(r: (i32, String, String)) -> String {
    assert_eq!(r.0, 0, "berth failed: stdout {} stderr {}", r.1, r.2);
    r.1
}

fn images_json(env: &Env) -> Vec<serde_json::Value> {
    ok(env.run(&["images", "--format", "json"]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Nothing of a pull remains but verified blobs: no partials, no staging dirs.
fn assert_no_garbage(root: &Path) {
    assert_eq!(
        listing(&root.join("ingest")),
        Vec::<String>::new(),
        "ingest"
    );
    assert_eq!(listing(&root.join("tmp")), Vec::<String>::new(), "tmp");
}

#[test]
fn pulls_each_image_kind_with_the_registrys_digests() {
    let reg = Registry::start(AuthMode::None);
    let env = Env::new();
    let single = reg.push(&regsupport::single_layer(), "test/busybox:latest");
    let schema2 = reg.push(&regsupport::schema2(), "test/schema2:v1");
    let index = reg.push(&regsupport::index(), "test/multi:latest");

    let name = format!("{}/test/busybox:latest", reg.addr);
    let out = ok(env.run(&["pull", &name]));
    assert!(
        out.contains(&format!("Digest: {}", single.manifest)),
        "{out}"
    );
    assert!(out.contains("Status: Downloaded newer image for"), "{out}");
    assert_eq!(single.manifest, reg.head_digest("test/busybox", "latest"));
    let layer_dir = env
        .root()
        .join("layers")
        .join(single.layers[0].trim_start_matches("sha256:"));
    // One layer: the chain id is the diff id, not the blob digest; find the dir by content.
    let layers = listing(&env.root().join("layers"));
    assert!(
        layers.iter().any(|l| l.ends_with("bin/busybox")),
        "{layers:?}"
    );
    assert!(!layer_dir.exists(), "layer dirs are named by chain id");

    ok(env.run(&["pull", &format!("{}/test/schema2:v1", reg.addr)]));
    ok(env.run(&["pull", &format!("{}/test/multi", reg.addr)]));
    let images = images_json(&env);
    let find = |repo: &str| {
        images
            .iter()
            .find(|i| i["Repository"] == format!("{}/{repo}", reg.addr))
            .unwrap_or_else(|| panic!("{repo} not listed: {images:?}"))
            .clone()
    };
    assert_eq!(find("test/busybox")["Digest"], single.manifest);
    assert_eq!(find("test/busybox")["Id"], single.config, "{images:?}");
    assert_eq!(find("test/schema2")["Digest"], schema2.manifest);
    assert_eq!(find("test/schema2")["Tag"], "v1");
    let multi = find("test/multi");
    assert_eq!(
        multi["Digest"], index.manifest,
        "the index digest, as docker shows"
    );
    assert_eq!(multi["Id"], index.config, "the amd64 image was chosen");
    assert_eq!(multi["Platform"], "linux/amd64");

    // --platform picks another entry; a platform the index lacks names what it has.
    let (code, _, err) = env.run(&[
        "pull",
        "--platform",
        "linux/s390x",
        &format!("{}/test/multi", reg.addr),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("linux/amd64"), "{err}");
    ok(env.run(&[
        "pull",
        "-q",
        "--platform",
        "linux/arm64",
        &format!("{}/test/multi", reg.addr),
    ]));
    let inspect: serde_json::Value = serde_json::from_str(&ok(env.run(&[
        "image",
        "inspect",
        &format!("{}/test/multi", reg.addr),
    ])))
    .unwrap();
    assert_eq!(inspect[0]["Architecture"], "arm64");

    // Pulling again fetches nothing and says so.
    let out = ok(env.run(&["pull", &name]));
    assert!(out.contains("Already exists"), "{out}");
    assert!(out.contains("Image is up to date"), "{out}");
    assert_no_garbage(&env.root());
}

#[test]
fn missing_image_and_unreachable_registry_fail_clearly() {
    let reg = Registry::start(AuthMode::None);
    let env = Env::new();
    let (code, _, err) = env.run(&["pull", &format!("{}/test/nothing:here", reg.addr)]);
    assert_ne!(code, 0);
    assert!(err.contains("not found"), "{err}");
    assert!(err.contains(&reg.addr), "names the registry: {err}");
    assert!(err.contains("test/nothing:here"), "names the image: {err}");
    assert!(images_json(&env).is_empty());

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, err) = env.run(&["pull", &format!("127.0.0.1:{port}/x/y")]);
    assert_ne!(code, 0);
    assert!(err.contains("cannot reach registry"), "{err}");
}

#[test]
fn basic_auth_login_pull_and_refusal() {
    let reg = Registry::start(AuthMode::Basic {
        user: "alice".into(),
        pass: "s3cret".into(),
    });
    let env = Env::new();
    reg.push(&regsupport::single_layer(), "priv/busybox:latest");
    let name = format!("{}/priv/busybox:latest", reg.addr);

    let (code, _, err) = env.run(&["pull", &name]);
    assert_ne!(code, 0);
    assert!(
        err.contains("unauthorized") && err.contains(&reg.addr),
        "{err}"
    );

    let (code, _, err) = env.run(&["login", "-u", "alice", "-p", "wrong", &reg.addr]);
    assert_ne!(code, 0);
    assert!(err.contains("unauthorized"), "{err}");
    assert!(
        !env.config().join("auth.json").exists(),
        "nothing stored on failure"
    );

    let out = ok(env.run(&["login", "-u", "alice", "-p", "s3cret", &reg.addr]));
    assert!(out.contains("Login Succeeded"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.config().join("auth.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    ok(env.run(&["pull", &name]));

    ok(env.run(&["logout", &reg.addr]));
    // Docker's own config file is read as well.
    let docker = env.config().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths":{{"http://{}":{{"auth":"YWxpY2U6czNjcmV0"}}}}}}"#,
            reg.addr
        ),
    )
    .unwrap();
    ok(env.run(&["rmi", &name]));
    ok(env.run(&["pull", &name]));
}

#[test]
fn a_corrupted_blob_is_refused_and_leaves_nothing() {
    let reg = Registry::start(AuthMode::None);
    let env = Env::new();
    let pushed = reg.push(&regsupport::big(3 << 20), "test/bad:latest");
    // Replace the big layer's bytes in the registry's storage (same size).
    let path = reg.blob_file(&pushed.layers[1]);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();

    let (code, out, err) = env.run(&["pull", &format!("{}/test/bad", reg.addr)]);
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains(&pushed.layers[1]),
        "names the expected digest: {err}"
    );
    assert!(
        err.contains("got sha256:"),
        "names the actual digest: {err}"
    );
    assert!(images_json(&env).is_empty());
    assert_eq!(listing(&env.root().join("layers")), Vec::<String>::new());
    assert!(!env
        .root()
        .join("blobs/sha256")
        .join(pushed.layers[1].trim_start_matches("sha256:"))
        .exists());
    assert_no_garbage(&env.root());
}

#[test]
fn two_processes_pull_the_same_image_at_once() {
    let reg = Registry::start(AuthMode::None);
    let env = Env::new();
    reg.push(&regsupport::big(8 << 20), "test/both:latest");
    let name = format!("{}/test/both:latest", reg.addr);
    // The engine root must exist before two processes race to create its database.
    ok(env.run(&["images"]));
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
            .arg("--root")
            .arg(env.root())
            .args(["pull", "-q", &name])
            .env("BERTH_CONFIG_DIR", env.config())
            .output()
            .unwrap()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap(), b.join().unwrap())
    });
    for o in [&a, &b] {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(images_json(&env).len(), 1);
    assert_eq!(
        listing(&env.root().join("layers"))
            .iter()
            .filter(|l| !l.contains('/'))
            .count(),
        2
    );
    assert_no_garbage(&env.root());
}

#[test]
fn a_pull_killed_mid_layer_resumes_and_leaves_no_garbage() {
    let reg = Registry::start(AuthMode::None);
    let env = Env::new();
    let size = 6 << 20;
    let pushed = reg.push(&regsupport::big(size), "test/big:latest");
    let proxy = SlowProxy::start(&reg.addr, 2 << 20);
    let name = format!("{}/test/big:latest", proxy.addr);
    let partial = env.root().join("ingest").join(format!(
        "{}.partial",
        pushed.layers[1].trim_start_matches("sha256:")
    ));

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--root")
        .arg(env.root())
        .args(["pull", "-q", &name])
        .env("BERTH_CONFIG_DIR", env.config())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0) < (1 << 20) {
        assert!(Instant::now() < deadline, "download never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "pull ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();
    let kept = std::fs::metadata(&partial).unwrap().len();
    assert!(kept > 0 && kept < size as u64);
    assert!(images_json(&env).is_empty(), "a killed pull lists nothing");

    let before = proxy.relayed.load(std::sync::atomic::Ordering::Relaxed);
    ok(env.run(&["pull", "-q", &name]));
    let second = proxy.relayed.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(
        second < size as u64 - kept / 2,
        "the second pull resumed instead of starting over ({second} bytes relayed, {kept} kept)"
    );
    assert_eq!(images_json(&env).len(), 1);
    assert_no_garbage(&env.root());
}
