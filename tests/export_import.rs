//! `export` and `import`: a container's filesystem out as a tar (stopped: mounted read-only for
//! the export and unmounted after; running: read where it is), GNU tar as the judge of the
//! archive, and back in as a one-layer image that runs; bad input leaves nothing.

mod common;

use common::pulled_busybox as pulled;

use std::io::Read;
use std::process::Stdio;

use common::TestRoot;

/// path → (entry type byte, link target, content) of every entry of a tar.
fn listing(data: &[u8]) -> std::collections::BTreeMap<String, (u8, String, Vec<u8>)> {
    let mut a = tar::Archive::new(data);
    let mut out = std::collections::BTreeMap::new();
    for e in a.entries().expect("tar") {
        let mut e = e.expect("entry");
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let kind = e.header().entry_type().as_byte();
        let link = e
            .link_name()
            .unwrap()
            .map(|l| l.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut body = Vec::new();
        e.read_to_end(&mut body).unwrap();
        out.insert(path.trim_end_matches('/').to_string(), (kind, link, body));
    }
    out
}

fn mounts_of(root: &TestRoot) -> Vec<String> {
    let base = root.base().to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&base))
        .map(String::from)
        .collect()
}

#[test]
fn export_of_a_stopped_container_imports_back_and_runs() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    root.berth_ok([
        "run",
        "--name",
        "maker",
        &img,
        "sh",
        "-c",
        "echo made > /made && ln -s / /hostroot && ln /made /made-link && mkfifo /fifo && \
         rm /bin/sleep && chown 1234:5678 /made",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fs.tar");
    root.berth_ok(["export", "-o", out.to_str().unwrap(), "maker"]);
    assert!(mounts_of(&root).is_empty(), "the export's mount is gone");
    assert_eq!(
        std::fs::read_dir(root.path().join("tmp")).unwrap().count(),
        0,
        "no staging dir left"
    );
    let data = std::fs::read(&out).unwrap();
    let entries = listing(&data);
    assert_eq!(entries["made"].2, b"made\n");
    assert_eq!(entries["hostroot"].0, b'2', "a symlink, not followed");
    assert_eq!(entries["hostroot"].1, "/");
    assert!(!entries.keys().any(|k| k.starts_with("hostroot/")));
    assert_eq!(entries["made-link"].0, b'1', "a hard link");
    assert_eq!(entries["fifo"].0, b'6');
    assert!(entries.contains_key("bin/busybox"));
    assert!(!entries.contains_key("bin/sleep"), "the deletion shows");
    // GNU tar reads it and keeps the owner.
    let tv = std::process::Command::new("tar")
        .args(["-tvf", out.to_str().unwrap(), "made"])
        .output()
        .unwrap();
    assert!(tv.status.success());
    assert!(
        String::from_utf8_lossy(&tv.stdout).contains("1234/5678"),
        "{}",
        String::from_utf8_lossy(&tv.stdout)
    );

    // Back in, with changes and a message; it runs.
    let id = root.berth_ok([
        "import",
        "-c",
        r#"CMD ["cat", "/made"]"#,
        "-c",
        "ENV FROM=import",
        "-m",
        "round trip",
        out.to_str().unwrap(),
        "imported/fs:v1",
    ]);
    assert!(id.trim().starts_with("sha256:"), "{id}");
    let ran = root.berth_ok(["run", "--rm", "imported/fs:v1"]);
    assert_eq!(ran, "made\n");
    let v: serde_json::Value =
        serde_json::from_str(&root.berth_ok(["image", "inspect", "imported/fs:v1"])).unwrap();
    assert_eq!(v[0]["Id"], id.trim());
    assert_eq!(v[0]["Config"]["Cmd"], serde_json::json!(["cat", "/made"]));
    assert!(v[0]["Config"]["Env"].to_string().contains("FROM=import"));
    assert_eq!(v[0]["RootFS"]["Layers"].as_array().unwrap().len(), 1);

    // gzip on stdin, no name: the id only.
    let gz = common::tarball::gzip(&data, flate2::Compression::fast());
    let gz_path = dir.path().join("fs.tar.gz");
    std::fs::write(&gz_path, gz).unwrap();
    let o = root
        .cmd()
        .args(["import", "-"])
        .stdin(std::fs::File::open(&gz_path).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("sha256:"));
}

#[test]
fn export_of_a_running_container_streams_to_stdout() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    root.berth_ok([
        "run",
        "-d",
        "--name",
        "live",
        &img,
        "sh",
        "-c",
        "echo live > /state && exec sleep 100",
    ]);
    // Wait for the file.
    for _ in 0..100 {
        if root
            .berth(["exec", "live", "cat", "/state"])
            .status
            .success()
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let o = root
        .cmd()
        .args(["container", "export", "live"])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let entries = listing(&o.stdout);
    assert_eq!(entries["state"].2, b"live\n");
    root.berth_ok(["rm", "-f", "live"]);
}

#[test]
fn bad_imports_and_exports_fail_clearly_and_keep_nothing() {
    let root = TestRoot::new();
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, b"not a tar at all").unwrap();
    let err = root.berth_err(["import", garbage.to_str().unwrap(), "bad:v1"]);
    assert!(err.contains("not a tar"), "{err}");
    let junk = dir.path().join("junk.tar");
    std::fs::write(&junk, vec![0x41u8; 8192]).unwrap();
    let out = root.berth(["import", junk.to_str().unwrap(), "bad:v2"]);
    assert_eq!(out.status.code(), Some(125));
    let err = root.berth_err(["import", "-c", "RUN true", garbage.to_str().unwrap()]);
    assert!(err.contains("RUN is not a valid change command"), "{err}");
    // A URL nothing answers on, and one the server does not have.
    let err = root.berth_err(["import", "http://127.0.0.1:1/x.tar"]);
    assert!(
        err.contains("cannot fetch http://127.0.0.1:1/x.tar"),
        "{err}"
    );
    let server = common::file_server::FileServer::start();
    let err = root.berth_err(["import", &server.url("/missing.tar")]);
    assert!(err.contains("404"), "{err}");
    assert_eq!(root.berth_ok(["images", "-q"]), "");
    for d in ["blobs/sha256", "layers", "tmp", "ingest"] {
        let n = std::fs::read_dir(root.path().join(d))
            .map(|r| r.count())
            .unwrap_or(0);
        assert_eq!(n, 0, "{d} is empty");
    }
    let out = root.berth(["export", "-o", "/dev/null", "nothing-here"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such container"));
}

#[test]
fn import_of_a_url_fetches_an_xz_rootfs_and_runs_it() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    root.berth_ok(["create", "--name", "src", &img, "true"]);
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("fs.tar");
    root.berth_ok(["export", "-o", tar.to_str().unwrap(), "src"]);
    let st = std::process::Command::new("xz")
        .args(["-1", tar.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());
    let server = common::file_server::FileServer::start();
    server.put(
        "/rootfs/fs.tar.xz",
        &std::fs::read(dir.path().join("fs.tar.xz")).unwrap(),
    );
    let url = server.url("/rootfs/fs.tar.xz");
    let id = root.berth_ok([
        "import",
        "-c",
        "CMD [\"echo\", \"from-url\"]",
        &url,
        "fromurl:1",
    ]);
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert_eq!(server.hits(), 1);
    assert_eq!(root.berth_ok(["run", "--rm", "fromurl:1"]), "from-url\n");
    let hist = root.berth_ok([
        "history",
        "--no-trunc",
        "--format",
        "{{.Comment}}",
        "fromurl:1",
    ]);
    assert!(hist.contains(&url), "{hist}");
    // (`run --rm` removes its container's directory in the background: not ours.)
    let left: Vec<String> = std::fs::read_dir(root.path().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("removed-"))
        .collect();
    assert!(left.is_empty(), "the download is gone: {left:?}");
}
