//! `cp` with docker's rules, both ways, stopped and running containers, tar streams, owners,
//! volumes, and the guarantee that a symlink in the container never leads to a host path.

mod common;

use common::pulled_busybox as pulled;

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Stdio;

use common::TestRoot;

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn no_mounts_left(root: &TestRoot) {
    let base = s(root.base());
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let left: Vec<&str> = info.lines().filter(|l| l.contains(&base)).collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn copies_out_of_and_into_a_stopped_container_by_dockers_rules() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    root.berth_ok([
        "run",
        "--name",
        "cc",
        &img,
        "sh",
        "-c",
        "mkdir -p /d/sub && echo a > /d/a && echo b > /d/sub/b && ln -s a /d/link && \
         chown 1234:5678 /d/a",
    ]);
    let host = tempfile::tempdir().unwrap();
    let h = host.path();

    // A file to a new name; owners are the caller's unless -a.
    root.berth_ok(["cp", "cc:/d/a", &s(&h.join("new"))]);
    assert_eq!(std::fs::read(h.join("new")).unwrap(), b"a\n");
    assert_eq!(std::fs::metadata(h.join("new")).unwrap().uid(), 0);
    root.berth_ok(["cp", "-a", "cc:/d/a", &s(&h.join("kept"))]);
    assert_eq!(std::fs::metadata(h.join("kept")).unwrap().uid(), 1234);
    // A directory into an existing directory, its contents with /., to a new name.
    std::fs::create_dir(h.join("into")).unwrap();
    root.berth_ok(["cp", "cc:/d", &s(&h.join("into"))]);
    assert_eq!(std::fs::read(h.join("into/d/sub/b")).unwrap(), b"b\n");
    std::fs::create_dir(h.join("contents")).unwrap();
    root.berth_ok(["cp", "cc:/d/.", &s(&h.join("contents"))]);
    assert_eq!(std::fs::read(h.join("contents/a")).unwrap(), b"a\n");
    root.berth_ok(["cp", "cc:/d", &s(&h.join("fresh"))]);
    assert_eq!(std::fs::read(h.join("fresh/sub/b")).unwrap(), b"b\n");
    // Symlinks are copied as links, followed with -L.
    root.berth_ok(["cp", "cc:/d/link", &s(&h.join("l"))]);
    assert_eq!(std::fs::read_link(h.join("l")).unwrap(), Path::new("a"));
    root.berth_ok(["cp", "-L", "cc:/d/link", &s(&h.join("lf"))]);
    assert_eq!(std::fs::read(h.join("lf")).unwrap(), b"a\n");
    // docker's refusals.
    let err = root.berth_err(["cp", "cc:/d/a/", &s(&h.join("x"))]);
    assert!(err.contains("not a directory"), "{err}");
    let err = root.berth_err(["cp", "cc:/d", &s(&h.join("new"))]);
    assert!(err.contains("cannot copy a directory"), "{err}");
    let out = root.berth(["cp", "cc:/nothing", &s(&h.join("x"))]);
    assert_eq!(out.status.code(), Some(1));
    let err = root.berth_err(["cp", "cc:/d/a", &s(&h.join("no/such/dir/x"))]);
    assert!(err.contains("does not exist"), "{err}");
    let err = root.berth_err(["cp", &s(&h.join("new")), &s(&h.join("y"))]);
    assert!(err.contains("container"), "{err}");

    // Into the container: a file into a directory, a directory to a new name, -a.
    std::fs::write(h.join("up"), b"up\n").unwrap();
    std::os::unix::fs::chown(h.join("up"), Some(4321), Some(4321)).unwrap();
    root.berth_ok(["cp", &s(&h.join("up")), "cc:/d/sub/"]);
    root.berth_ok(["cp", &s(&h.join("into")), "cc:/newdir"]);
    root.berth_ok(["cp", "-a", &s(&h.join("up")), "cc:/owned"]);
    // Read them back out with their owners kept.
    root.berth_ok(["cp", "-a", "cc:/d/sub/up", &s(&h.join("back"))]);
    assert_eq!(std::fs::read(h.join("back")).unwrap(), b"up\n");
    assert_eq!(std::fs::metadata(h.join("back")).unwrap().uid(), 0);
    root.berth_ok(["cp", "-a", "cc:/owned", &s(&h.join("back-owned"))]);
    assert_eq!(std::fs::metadata(h.join("back-owned")).unwrap().uid(), 4321);
    root.berth_ok(["cp", "cc:/newdir/d/a", &s(&h.join("back2"))]);
    assert_eq!(std::fs::read(h.join("back2")).unwrap(), b"a\n");

    // Tar streams both ways.
    let o = root
        .cmd()
        .args(["cp", "cc:/d", "-"])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut names = Vec::new();
    for e in tar::Archive::new(o.stdout.as_slice()).entries().unwrap() {
        names.push(e.unwrap().path().unwrap().to_string_lossy().into_owned());
    }
    assert!(names.contains(&"d/".to_string()) && names.contains(&"d/sub/b".to_string()));
    let mut t = common::tarball::TarBuilder::new();
    t.file("streamed", 0o644, b"via stdin\n");
    std::fs::write(h.join("in.tar"), t.finish()).unwrap();
    let o = root
        .cmd()
        .args(["cp", "-", "cc:/d"])
        .stdin(std::fs::File::open(h.join("in.tar")).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    root.berth_ok(["cp", "cc:/d/streamed", &s(&h.join("streamed"))]);
    assert_eq!(std::fs::read(h.join("streamed")).unwrap(), b"via stdin\n");

    // The container still starts and sees what was copied in.
    no_mounts_left(&root);
    root.berth_ok(["rm", "cc"]);
}

#[test]
fn copies_into_a_running_container_and_its_volume() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    root.berth_ok([
        "run",
        "-d",
        "--name",
        "live",
        "-v",
        "vol:/data",
        &img,
        "sleep",
        "100",
    ]);
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("f"), b"hello\n").unwrap();
    root.berth_ok(["cp", &s(&host.path().join("f")), "live:/tmp/f"]);
    root.berth_ok(["cp", &s(&host.path().join("f")), "live:/data/"]);
    let out = root.berth_ok(["exec", "live", "cat", "/tmp/f", "/data/f"]);
    assert_eq!(out, "hello\nhello\n");
    let vol = root.path().join("volumes/vol/_data/f");
    assert_eq!(std::fs::read(&vol).unwrap(), b"hello\n");
    root.berth_ok(["exec", "live", "sh", "-c", "echo from-inside > /tmp/g"]);
    root.berth_ok(["container", "cp", "live:/tmp/g", &s(&host.path().join("g"))]);
    assert_eq!(
        std::fs::read(host.path().join("g")).unwrap(),
        b"from-inside\n"
    );
    root.berth_ok(["rm", "-f", "live"]);
}

#[test]
fn a_symlink_in_the_container_never_reaches_the_host() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    let tag = format!("{:x}", rand_u64());
    let secret = std::env::temp_dir().join(format!("berth-cp-secret-{tag}"));
    std::fs::write(&secret, b"SECRET\n").unwrap();
    let target = std::env::temp_dir().join(format!("berth-cp-target-{tag}"));
    let _cleanup = Cleanup(vec![secret.clone(), target.clone()]);
    root.berth_ok([
        "run",
        "--name",
        "evil",
        &img,
        "sh",
        "-c",
        &format!(
            "ln -s / /escape && ln -s {} /pointer && ln -s {} /leak && mkdir -p /tmp",
            s(&target),
            s(&secret)
        ),
    ]);
    let host = tempfile::tempdir().unwrap();
    // Reading through links: the container's own (missing) files, never the host's.
    for src in [
        format!("evil:/escape{}", s(&secret)),
        "evil:/leak".to_string(),
    ] {
        let out = root.berth(["cp", "-L", &src, &s(&host.path().join("got"))]);
        let got = std::fs::read(host.path().join("got")).unwrap_or_default();
        assert_ne!(got, b"SECRET\n", "{src} read the host's file");
        assert!(!out.status.success(), "{src}");
    }
    // Writing through links: into the container, never onto the host.
    std::fs::write(host.path().join("payload"), b"PAYLOAD\n").unwrap();
    root.berth_ok(["cp", &s(&host.path().join("payload")), "evil:/pointer"]);
    assert!(!target.exists(), "cp wrote through /pointer onto the host");
    let dir = target.parent().unwrap().to_string_lossy().into_owned();
    root.berth_ok([
        "cp",
        &s(&host.path().join("payload")),
        &format!("evil:/escape{dir}/"),
    ]);
    assert!(
        !std::env::temp_dir().join("payload").exists()
            || std::fs::read(std::env::temp_dir().join("payload")).unwrap() != b"PAYLOAD\n",
        "cp wrote through /escape onto the host"
    );
    // It landed in the container instead.
    root.berth_ok([
        "cp",
        &format!("evil:{dir}/payload"),
        &s(&host.path().join("back")),
    ]);
    assert_eq!(
        std::fs::read(host.path().join("back")).unwrap(),
        b"PAYLOAD\n"
    );
    assert_eq!(std::fs::read(&secret).unwrap(), b"SECRET\n");
    no_mounts_left(&root);
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut b)
        .unwrap();
    u64::from_le_bytes(b)
}

struct Cleanup(Vec<std::path::PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[test]
fn names_that_look_like_whiteouts_are_plain_files_both_ways() {
    let root = TestRoot::new();
    let (_reg, img) = pulled(&root);
    root.berth_ok([
        "run",
        "--name",
        "wh",
        &img,
        "sh",
        "-c",
        "mkdir /d && echo keep > /d/keep",
    ]);
    let host = tempfile::tempdir().unwrap();
    let h = host.path();
    std::fs::create_dir(h.join("src")).unwrap();
    std::fs::write(h.join("src/.wh.keep"), b"not a whiteout\n").unwrap();
    std::fs::write(h.join("src/.wh..wh..opq"), b"not opaque\n").unwrap();
    // Into the container: the files arrive as files, and nothing is hidden or deleted.
    root.berth_ok(["cp", &format!("{}/.", s(&h.join("src"))), "wh:/d"]);
    let back = tempfile::tempdir().unwrap();
    root.berth_ok(["cp", "wh:/d", &s(&back.path().join("d"))]);
    let b = back.path().join("d");
    assert_eq!(std::fs::read(b.join("keep")).unwrap(), b"keep\n");
    assert_eq!(
        std::fs::read(b.join(".wh.keep")).unwrap(),
        b"not a whiteout\n"
    );
    assert_eq!(
        std::fs::read(b.join(".wh..wh..opq")).unwrap(),
        b"not opaque\n"
    );
    no_mounts_left(&root);
}
