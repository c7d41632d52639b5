//! docker as the judge of interchange (issue 14): a private dockerd (`common::docker`) loads
//! what `berth save` writes and imports what `berth export` writes, and berth loads what
//! `docker save` writes and imports what `docker export` writes; each image then runs in the
//! other engine with the same output and the same image id. Skipped, with a message, only when
//! dockerd is not installed (`scripts/deps.sh test` installs docker.io).

mod common;

use std::path::Path;

use common::docker::Dockerd;
use common::images;
use common::{Auth, Registry, TestRoot};

/// What both engines must print for an image made from the multi-layer test image: files of
/// three layers, a whiteout, an opaque directory, and what the maker added and removed.
const PROBE: &str = "cat /srv/www/new.html /made; ls /srv/www; \
                     test -e /etc/motd || echo no-motd; test -e /etc/layer3.txt || echo no-layer3";

fn expected(maker: &str) -> String {
    format!("layer 3\n{maker}\nfresh\nnew.html\nno-motd\nno-layer3\n")
}

fn id_in_berth(root: &TestRoot, name: &str) -> String {
    root.berth_ok(["image", "inspect", "--format", "{{.Id}}", name])
        .trim()
        .to_string()
}

fn id_in_docker(docker: &Dockerd, name: &str) -> String {
    docker
        .docker_ok(["image", "inspect", "--format", "{{.Id}}", name])
        .trim()
        .to_string()
}

fn run_in_docker(docker: &Dockerd, image: &str) -> String {
    docker.docker_ok([
        "run",
        "--rm",
        "--network",
        "none",
        image,
        "/bin/sh",
        "-c",
        PROBE,
    ])
}

fn run_in_berth(root: &TestRoot, image: &str) -> String {
    root.berth_ok(["run", "--rm", image, "/bin/sh", "-c", PROBE])
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn berth_save_loads_in_docker_and_docker_save_loads_in_berth() {
    let Some(docker) = Dockerd::start() else {
        return;
    };
    let reg = Registry::start(Auth::None);
    reg.push(images::multi_layer(), "test/multi:v1");
    let base = reg.reference("test/multi:v1");
    let root = TestRoot::new();
    root.berth_ok(["pull", "-q", &base]);

    // berth makes an image (a build: a RUN layer with a whiteout, a COPY layer), saves it,
    // docker loads it and runs it.
    let ctx = tempfile::tempdir().expect("context");
    std::fs::write(ctx.path().join("made"), "made by berth\n").expect("context file");
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!("FROM {base}\nRUN rm /etc/layer3.txt\nCOPY made /made\nCMD [\"sh\"]\n"),
    )
    .expect("Dockerfile");
    root.berth_ok(["build", "-q", "-t", "berthmade:1", path_str(ctx.path())]);
    assert_eq!(
        run_in_berth(&root, "berthmade:1"),
        expected("made by berth")
    );
    let archive = docker.file("berth.tar");
    root.berth_ok(["save", "-o", path_str(&archive), "berthmade:1"]);
    let loaded = docker.docker_ok(["load", "-i", path_str(&archive)]);
    assert!(
        loaded.contains("Loaded image: berthmade:1"),
        "docker load names the tag: {loaded}"
    );
    assert_eq!(
        id_in_docker(&docker, "berthmade:1"),
        id_in_berth(&root, "berthmade:1"),
        "the same image id in both"
    );
    assert_eq!(
        run_in_docker(&docker, "berthmade:1"),
        expected("made by berth"),
        "docker runs berth's image with berth's output"
    );

    // docker makes an image (pull, a container's change committed), saves it, berth loads it.
    docker.docker_ok(["pull", "-q", &base]);
    docker.docker_ok([
        "run",
        "--network",
        "none",
        "--name",
        "maker",
        &base,
        "sh",
        "-c",
        "rm /etc/layer3.txt && echo made by docker > /made",
    ]);
    docker.docker_ok(["commit", "maker", "dockermade:1"]);
    let archive = docker.file("docker.tar");
    docker.docker_ok(["save", "-o", path_str(&archive), "dockermade:1"]);
    let loaded = root.berth_ok(["load", "-i", path_str(&archive)]);
    assert!(
        loaded.contains("Loaded image: dockermade:1"),
        "berth load names the tag: {loaded}"
    );
    assert_eq!(
        id_in_berth(&root, "dockermade:1"),
        id_in_docker(&docker, "dockermade:1"),
        "the same image id in both"
    );
    assert_eq!(
        run_in_berth(&root, "dockermade:1"),
        run_in_docker(&docker, "dockermade:1"),
        "berth runs docker's image with docker's output"
    );
    assert_eq!(
        run_in_berth(&root, "dockermade:1"),
        expected("made by docker")
    );
}

#[test]
fn berth_export_imports_in_docker_and_docker_export_imports_in_berth() {
    let Some(docker) = Dockerd::start() else {
        return;
    };
    let reg = Registry::start(Auth::None);
    reg.push(images::multi_layer(), "test/multi:v1");
    let base = reg.reference("test/multi:v1");
    let root = TestRoot::new();
    root.berth_ok(["pull", "-q", &base]);

    // A berth container's filesystem → docker import → docker run.
    root.berth_ok([
        "run",
        "--name",
        "maker",
        &base,
        "sh",
        "-c",
        "rm /etc/layer3.txt && echo exported by berth > /made",
    ]);
    let archive = docker.file("berth-fs.tar");
    root.berth_ok(["export", "-o", path_str(&archive), "maker"]);
    docker.docker_ok(["import", path_str(&archive), "fromberth:1"]);
    assert_eq!(
        run_in_docker(&docker, "fromberth:1"),
        expected("exported by berth"),
        "docker runs the filesystem berth exported"
    );

    // A docker container's filesystem → berth import → berth run.
    docker.docker_ok(["pull", "-q", &base]);
    docker.docker_ok([
        "run",
        "--network",
        "none",
        "--name",
        "dmaker",
        &base,
        "sh",
        "-c",
        "rm /etc/layer3.txt && echo exported by docker > /made",
    ]);
    let archive = docker.file("docker-fs.tar");
    docker.docker_ok(["export", "-o", path_str(&archive), "dmaker"]);
    root.berth_ok(["import", path_str(&archive), "fromdocker:1"]);
    assert_eq!(
        run_in_berth(&root, "fromdocker:1"),
        expected("exported by docker"),
        "berth runs the filesystem docker exported"
    );
}
