//! What a build reads besides the context directory: `ADD URL` from a server on 127.0.0.1 the
//! test starts (kept as a file, with `--checksum`), ADD of xz and bzip2 archives with their
//! owners kept for nested entries, and contexts on stdin as tar.xz and tar.bz2.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use common::file_server::{FileServer, LAST_MODIFIED_SECS};
use common::images::single_layer;
use common::{sha256_digest, Auth, Registry, TestRoot};

fn setup() -> (Registry, TestRoot, String) {
    let reg = Registry::start(Auth::None);
    reg.push(single_layer(), "test/busybox:latest");
    let image = reg.reference("test/busybox:latest");
    (reg, TestRoot::new(), image)
}

/// What is in the root's `tmp/`, less the directories of removed containers, which `run --rm`
/// deletes in the background.
fn staging_dirs(t: &TestRoot) -> Vec<String> {
    fs::read_dir(t.path().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("removed-"))
        .collect()
}

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

fn tar(args: &[&str], dir: &Path) {
    let st = Command::new("tar")
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success(), "tar {args:?}");
}

/// A tree whose entries have owners and modes of their own, nested.
fn owned_tree(dir: &Path) {
    write(dir, "d/e/f", "nested\n");
    let chown = |rel: &str, u: u32, g: u32, mode: u32| {
        let p = dir.join(rel);
        std::os::unix::fs::chown(&p, Some(u), Some(g)).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    };
    chown("d", 1000, 1000, 0o750);
    chown("d/e", 1001, 1001, 0o711);
    chown("d/e/f", 1001, 1002, 0o640);
}

fn build_stdin(t: &TestRoot, data: &[u8], tag: &str) -> std::process::Output {
    let mut child = t
        .cmd()
        .args(["build", "-q", "-t", tag, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn add_fetches_urls_and_unpacks_xz_and_bzip2_archives_keeping_owners() {
    let (_reg, t, image) = setup();
    let server = FileServer::start();
    server.put("/files/hello.txt", b"hello from the server\n");
    let tgz_dir = tempfile::tempdir().unwrap();
    write(tgz_dir.path(), "inner", "x\n");
    tar(&["czf", "data.tar.gz", "inner"], tgz_dir.path());
    server.put(
        "/files/data.tar.gz",
        &fs::read(tgz_dir.path().join("data.tar.gz")).unwrap(),
    );
    let sum = sha256_digest(b"hello from the server\n");

    let ctx = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    owned_tree(tree.path());
    let xz = ctx.path().join("nested.tar.xz");
    let bz = ctx.path().join("b.tar.bz2");
    tar(&["cJf", xz.to_str().unwrap(), "d"], tree.path());
    tar(&["cjf", bz.to_str().unwrap(), "d"], tree.path());
    write(
        ctx.path(),
        "Dockerfile",
        &format!(
            "FROM {image}\nADD nested.tar.xz /x/\nADD b.tar.bz2 /b\nADD {hello} /dl/\n\
             ADD --checksum={sum} {hello} /dl/checked.txt\nADD {tgz} /dl/\n\
             ENTRYPOINT [\"/bin/sh\", \"-c\"]\n",
            hello = server.url("/files/hello.txt"),
            tgz = server.url("/files/data.tar.gz"),
        ),
    );
    let dir = ctx.path().to_str().unwrap();
    t.berth_ok(["build", "-t", "adds:1", dir]);
    let script = "stat -c '%u:%g %a' /x/d /x/d/e /x/d/e/f /b/d/e/f; cat /b/d/e/f; \
                  cat /dl/hello.txt /dl/checked.txt; stat -c '%a %Y' /dl/hello.txt; \
                  test -f /dl/data.tar.gz && test ! -e /dl/inner && echo kept-packed";
    let out = t.berth_ok(["run", "--rm", "adds:1", script]);
    assert_eq!(
        out,
        format!(
            "1000:1000 750\n1001:1001 711\n1001:1002 640\n1001:1002 640\nnested\n\
             hello from the server\nhello from the server\n600 {LAST_MODIFIED_SECS}\n\
             kept-packed\n"
        )
    );

    // A wrong checksum fails the step and leaves nothing; the file is fetched each build.
    let hits = server.hits();
    write(
        ctx.path(),
        "Dockerfile",
        &format!(
            "FROM {image}\nADD --checksum=sha256:{} {} /dl/x\n",
            "0".repeat(64),
            server.url("/files/hello.txt")
        ),
    );
    let bad = t.berth(["build", "-t", "adds:bad", dir]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("checksum") && err.contains(&sum), "{err}");
    assert!(server.hits() > hits);
    assert!(!t.berth_ok(["images"]).contains("bad"));
    assert_eq!(staging_dirs(&t), Vec::<String>::new());
    // A missing file is named with the server's answer.
    write(
        ctx.path(),
        "Dockerfile",
        &format!("FROM {image}\nADD {} /dl/\n", server.url("/nope")),
    );
    let missing = t.berth(["build", dir]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"));
    // COPY cannot fetch.
    write(
        ctx.path(),
        "Dockerfile",
        &format!(
            "FROM {image}\nCOPY {} /dl/\n",
            server.url("/files/hello.txt")
        ),
    );
    let copy = t.berth(["build", dir]);
    assert!(String::from_utf8_lossy(&copy.stderr).contains("use ADD"));
}

#[test]
fn contexts_on_stdin_may_be_xz_or_bzip2() {
    let (_reg, t, image) = setup();
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        "Dockerfile",
        &format!("FROM {image}\nCOPY msg /msg\nCMD [\"cat\", \"/msg\"]\n"),
    );
    write(ctx.path(), "msg", "from a compressed context\n");
    for (flag, tag) in [("cJf", "ctx:xz"), ("cjf", "ctx:bz2")] {
        let out = Command::new("tar")
            .args([flag, "-", "-C", ctx.path().to_str().unwrap(), "."])
            .output()
            .unwrap();
        assert!(out.status.success());
        let built = build_stdin(&t, &out.stdout, tag);
        assert!(
            built.status.success(),
            "{tag}: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        assert_eq!(
            t.berth_ok(["run", "--rm", tag]),
            "from a compressed context\n"
        );
    }
    // A truncated xz context is refused, and nothing is left.
    let out = Command::new("tar")
        .args(["cJf", "-", "-C", ctx.path().to_str().unwrap(), "."])
        .output()
        .unwrap();
    let cut = &out.stdout[..out.stdout.len() / 2];
    let bad = build_stdin(&t, cut, "ctx:cut");
    assert!(!bad.status.success());
    assert_eq!(staging_dirs(&t), Vec::<String>::new());
}
