//! `berth build` against the harness registry: every instruction, `.dockerignore`, build args,
//! heredocs, the cache (hits, a miss after a source changes), a failing RUN that leaves nothing,
//! multi-stage with `COPY --from` and `--target`, ONBUILD, a tar.gz context on stdin and a
//! reproducible digest with SOURCE_DATE_EPOCH. The built images run and inspect as docker's.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::images::single_layer;
use common::{Auth, Registry, TestRoot};

fn setup() -> (Registry, TestRoot, String) {
    let reg = Registry::start(Auth::None);
    reg.push(single_layer(), "test/busybox:latest");
    let image = reg.reference("test/busybox:latest");
    let t = TestRoot::new();
    (reg, t, image)
}

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

const FULL: &str = r#"# syntax=docker/dockerfile:1
ARG BASE
FROM $BASE AS base
ARG GREETING=hello
ENV APP_HOME=/app \
    MODE=prod
LABEL org.example.name="demo app" version=1
WORKDIR $APP_HOME
COPY --chown=1000:1000 src/ ./src/
COPY *.txt /app/docs/
ADD files.tar.gz /opt/
COPY --chmod=755 <<EOF /app/run.sh
echo script
EOF
RUN <<EOF
echo "$GREETING from heredoc" > /app/greeting
EOF
RUN echo built by $GREETING && test -f /app/src/main.sh
USER app
EXPOSE 8080/tcp 53/udp
VOLUME /data
HEALTHCHECK --interval=30s --retries=3 CMD test -f /app/greeting
STOPSIGNAL SIGQUIT
SHELL ["/bin/sh", "-c"]
ONBUILD RUN echo triggered > /tmp/onbuild
MAINTAINER someone@example.com
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/greeting"]
"#;

fn full_context(dir: &Path) {
    write(dir, "Dockerfile", FULL);
    write(
        dir,
        ".dockerignore",
        "secret.txt\nsrc/*.tmp\n!src/keep.tmp\n",
    );
    write(dir, "src/main.sh", "echo main\n");
    write(dir, "src/junk.tmp", "junk\n");
    write(dir, "src/keep.tmp", "keep\n");
    write(dir, "a.txt", "doc a\n");
    write(dir, "secret.txt", "do not send\n");
    write(dir, "tarsrc/inner/file", "from the tar\n");
    let st = Command::new("tar")
        .args(["czf", "files.tar.gz", "-C", "tarsrc", "."])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn every_instruction_builds_and_the_image_runs_as_docker_would() {
    let (_reg, t, image) = setup();
    let ctx = tempfile::tempdir().unwrap();
    full_context(ctx.path());
    let base_arg = format!("BASE={image}");
    let out = t.berth_ok([
        "build",
        "-t",
        "demo:1",
        "--build-arg",
        &base_arg,
        "--build-arg",
        "GREETING=hi",
        "--build-arg",
        "UNUSED=x",
        "--label",
        "extra=yes",
        ctx.path().to_str().unwrap(),
    ]);
    assert!(out.starts_with("Step 1/22 : ARG BASE\n"), "{out}");
    assert!(out.contains("Step 2/22 : FROM $BASE AS base"), "{out}");
    assert!(out.contains("built by hi\n"), "RUN output streamed: {out}");
    assert!(
        out.contains("[Warning] One or more build-args [UNUSED] were not consumed"),
        "{out}"
    );
    assert!(out.contains("Successfully built "), "{out}");
    assert!(
        out.trim_end().ends_with("Successfully tagged demo:1"),
        "{out}"
    );

    // The image's default command, user and workdir.
    assert_eq!(t.berth_ok(["run", "--rm", "demo:1"]), "hi from heredoc\n");
    let script =
        "id -u; pwd; echo $MODE; cat src/main.sh src/keep.tmp docs/a.txt /opt/inner/file; \
        test -e src/junk.tmp || echo no-junk; test -e docs/secret.txt || echo no-secret; \
        stat -c '%u %a' src/main.sh run.sh; ./run.sh";
    let out = t.berth_ok(["run", "--rm", "demo:1", script]);
    assert_eq!(
        out,
        "1000\n/app\nprod\necho main\nkeep\ndoc a\nfrom the tar\nno-junk\nno-secret\n\
         1000 644\n0 755\nscript\n"
    );
    let v: serde_json::Value =
        serde_json::from_str(&t.berth_ok(["image", "inspect", "demo:1"])).unwrap();
    let c = &v[0]["Config"];
    assert_eq!(c["User"], "app");
    assert_eq!(c["WorkingDir"], "/app");
    assert!(
        c["Env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "APP_HOME=/app"),
        "{c}"
    );
    assert_eq!(c["Entrypoint"], serde_json::json!(["/bin/sh", "-c"]));
    assert_eq!(c["Cmd"], serde_json::json!(["cat /app/greeting"]));
    assert!(c["Volumes"]["/data"].is_object(), "{c}");
    assert!(c["ExposedPorts"]["8080/tcp"].is_object() && c["ExposedPorts"]["53/udp"].is_object());
    assert_eq!(
        c["Healthcheck"]["Test"],
        serde_json::json!(["CMD-SHELL", "test -f /app/greeting"])
    );
    assert_eq!(c["Healthcheck"]["Interval"], 30_000_000_000u64);
    assert_eq!(c["StopSignal"], "SIGQUIT");
    assert_eq!(
        c["OnBuild"],
        serde_json::json!(["RUN echo triggered > /tmp/onbuild"])
    );
    assert_eq!(c["Labels"]["org.example.name"], "demo app");
    assert_eq!(c["Labels"]["extra"], "yes");
    assert_eq!(v[0]["Author"], "someone@example.com");
    let hist = t.berth_ok([
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        "demo:1",
    ]);
    assert!(hist.lines().next().unwrap().starts_with("CMD"), "{hist}");
    assert!(hist.contains("RUN echo built by $GREETING"), "{hist}");

    // ONBUILD: the trigger runs when the image is a base.
    let child = tempfile::tempdir().unwrap();
    write(
        child.path(),
        "Dockerfile",
        "FROM demo:1\nRUN test -f /tmp/onbuild\n",
    );
    t.berth_ok([
        "build",
        "-q",
        "-t",
        "child:1",
        child.path().to_str().unwrap(),
    ]);
    assert_eq!(
        t.berth_ok(["run", "--rm", "child:1", "cat /tmp/onbuild"]),
        "triggered\n"
    );
    let v: serde_json::Value =
        serde_json::from_str(&t.berth_ok(["image", "inspect", "child:1"])).unwrap();
    assert!(
        v[0]["Config"]["OnBuild"].is_null(),
        "triggers are not inherited"
    );
}

fn count(s: &str, what: &str) -> usize {
    s.matches(what).count()
}

#[test]
fn the_cache_hits_until_a_source_changes() {
    let (_reg, t, image) = setup();
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        "Dockerfile",
        &format!(
            "FROM {image}\nCOPY app/ /app/\nRUN cat /app/* > /all\nCOPY other.txt /\n\
             CMD [\"cat\", \"/all\"]\n"
        ),
    );
    write(ctx.path(), "app/a", "a1\n");
    write(ctx.path(), "app/b", "b1\n");
    write(ctx.path(), "other.txt", "o\n");
    let dir = ctx.path().to_str().unwrap();
    let first = t.berth_ok(["build", "-t", "c:1", dir]);
    assert_eq!(count(&first, "Using cache"), 0, "{first}");
    let id1 = t.berth_ok(["images", "-q", "--no-trunc", "c:1"]);
    let second = t.berth_ok(["build", "-t", "c:1", dir]);
    assert_eq!(count(&second, "Using cache"), 4, "{second}");
    assert!(!second.contains("Running in"), "{second}");
    assert_eq!(t.berth_ok(["images", "-q", "--no-trunc", "c:1"]), id1);
    write(ctx.path(), "app/b", "b2\n");
    let third = t.berth_ok(["build", "-t", "c:2", dir]);
    assert_eq!(
        count(&third, "Using cache"),
        0,
        "COPY and everything after it miss: {third}"
    );
    assert_eq!(t.berth_ok(["run", "--rm", "c:2"]), "a1\nb2\n");
    let nocache = t.berth_ok(["build", "--no-cache", "-t", "c:3", dir]);
    assert_eq!(count(&nocache, "Using cache"), 0, "{nocache}");
    // `builder prune` forgets the cache.
    let pruned = t.berth_ok(["builder", "prune", "-f"]);
    assert!(
        pruned.starts_with("Deleted build cache objects: "),
        "{pruned}"
    );
    let after = t.berth_ok(["build", "-t", "c:4", dir]);
    assert_eq!(count(&after, "Using cache"), 0, "{after}");
}

#[test]
fn a_failing_run_names_its_line_and_leaves_nothing() {
    let (_reg, t, image) = setup();
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        "Dockerfile",
        &format!(
            "FROM {image}\nRUN echo step one > /one\n\nRUN echo failing; exit 3\nRUN echo never\n"
        ),
    );
    let out = t.berth(["build", "-t", "bad:1", ctx.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 4") && stderr.contains("non-zero code: 3"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("failing\n") && !stdout.contains("never"),
        "{stdout}"
    );
    assert_eq!(
        t.berth_ok(["ps", "-a", "-q"]),
        "",
        "no build container left"
    );
    assert!(!t.berth_ok(["images"]).contains("bad"), "no image tagged");
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(t.path().to_str().unwrap()),
        "no mount left"
    );
    // The completed step stays cached.
    let again = t.berth(["build", ctx.path().to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("Using cache"));
    // A Dockerfile error exits 1 and names the line.
    write(ctx.path(), "Dockerfile", "FROM x\nFROB y\n");
    let err = t.berth(["build", ctx.path().to_str().unwrap()]);
    assert_eq!(err.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&err.stderr).contains("line 2"));
}

#[test]
fn multi_stage_targets_and_a_tar_gz_context_on_stdin() {
    let (_reg, t, image) = setup();
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        "Dockerfile",
        &format!(
            "FROM {image} AS builder\nCOPY in.txt /src/\nRUN tr a-z A-Z < /src/in.txt > /artifact\n\
             FROM {image} AS broken\nRUN exit 7\n\
             FROM {image}\nCOPY --from=builder /artifact /out/artifact\n\
             CMD [\"cat\", \"/out/artifact\"]\n"
        ),
    );
    write(ctx.path(), "in.txt", "shout\n");
    let dir = ctx.path().to_str().unwrap();
    // The broken stage is not needed by the final one, so it is not built.
    let out = t.berth_ok(["build", "-t", "ms:1", dir]);
    assert!(!out.contains("exit 7"), "{out}");
    assert_eq!(t.berth_ok(["run", "--rm", "ms:1"]), "SHOUT\n");
    let out = t.berth_ok(["build", "--target", "builder", "-t", "ms:builder", dir]);
    assert!(!out.contains("COPY --from"), "{out}");
    assert_eq!(
        t.berth_ok(["run", "--rm", "ms:builder", "cat", "/artifact"]),
        "SHOUT\n"
    );
    let err = t.berth(["build", "--target", "broken", dir]);
    assert_eq!(err.status.code(), Some(1));

    // The same context as a tar.gz on stdin.
    let tgz = Command::new("tar")
        .args(["czf", "-", "-C", dir, "."])
        .output()
        .unwrap();
    assert!(tgz.status.success());
    let mut child = t
        .cmd()
        .args(["build", "-q", "--iidfile"])
        .arg(ctx.path().join("iid"))
        .args(["-t", "ms:stdin", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&tgz.stdout).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(fs::read_to_string(ctx.path().join("iid")).unwrap(), id);
    assert_eq!(t.berth_ok(["run", "--rm", "ms:stdin"]), "SHOUT\n");
}

#[test]
fn source_date_epoch_makes_builds_reproducible() {
    let (_reg, t, image) = setup();
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        "Dockerfile",
        &format!("FROM {image}\nCOPY f /f\nRUN echo made > /made && mkdir -p /var/x\nENV A=1\n"),
    );
    write(ctx.path(), "f", "content\n");
    let dir = ctx.path().to_str().unwrap();
    let build = || {
        let out = t
            .cmd()
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(["build", "-q", "--no-cache", dir])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let a = build();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = build();
    assert_eq!(a, b, "same inputs, same image digest");
}
