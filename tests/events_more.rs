//! The events of networks, volume mounts and pushes, against the real binary as root, each
//! read by `events --since` from another process: network create/connect/disconnect/destroy
//! (a container's start and exit connect and disconnect it, as in docker; `network connect`
//! and `disconnect` on a running one too), volume mount at a start and unmount at the exit,
//! image push. Networking runs only in the namespaces `NetTest` makes.

mod common;
mod network_support;

use common::TestRoot;
use network_support::NetTest;

/// The lines of an output.
fn lines(out: String) -> Vec<String> {
    out.lines().map(|l| l.trim_end().to_string()).collect()
}

#[test]
fn networks_and_volume_mounts_are_recorded_by_whoever_changes_them() {
    let t = NetTest::new();
    let since = chrono::Utc::now().to_rfc3339();
    t.ok(&["network", "create", "evnet"]);
    let out = t.run(
        &[
            "-d",
            "--name",
            "ev",
            "--network",
            "evnet",
            "-v",
            "evdata:/data",
        ],
        &["sleep", "300"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // Live on a running container: the CLI records these.
    t.ok(&["network", "connect", "bridge", "ev"]);
    t.ok(&["network", "disconnect", "bridge", "ev"]);
    // The exit: the monitor disconnects and unmounts.
    t.ok(&["stop", "-t", "1", "ev"]);
    t.ok(&["rm", "ev"]);
    t.ok(&["network", "rm", "evnet"]);
    // Each event as "ACTION ACTOR attr=value…" (the attributes named).
    let read = |filter: &str, attrs: &[&str]| -> Vec<String> {
        let out = t.ok(&[
            "events", "--since", &since, "--until", "0s", "--filter", filter, "--format", "json",
        ]);
        out.lines()
            .map(|l| {
                let e: serde_json::Value = serde_json::from_str(l).expect("event json");
                let mut s = format!(
                    "{} {}",
                    e["Action"].as_str().unwrap(),
                    e["Actor"]["ID"].as_str().unwrap()
                );
                for a in attrs {
                    if let Some(v) = e["Actor"]["Attributes"][*a].as_str() {
                        s.push_str(&format!(" {a}={v}"));
                    }
                }
                s
            })
            .collect()
    };
    let net_id = |list: &[String]| list[0].split(' ').nth(1).unwrap().to_string();
    let net = read("type=network", &["name", "type", "container"]);
    let evnet = net_id(&net);
    let bridge = net
        .iter()
        .find(|l| l.contains("name=bridge"))
        .map(|l| l.split(' ').nth(1).unwrap().to_string())
        .expect("bridge events");
    assert_eq!(
        net,
        [
            format!("create {evnet} name=evnet type=bridge"),
            format!("connect {evnet} name=evnet type=bridge container={id}"),
            format!("connect {bridge} name=bridge type=bridge container={id}"),
            format!("disconnect {bridge} name=bridge type=bridge container={id}"),
            format!("disconnect {evnet} name=evnet type=bridge container={id}"),
            format!("destroy {evnet} name=evnet type=bridge"),
        ]
    );
    // `network=` takes the name as well as the id.
    let by_name: Vec<String> = read("network=evnet", &[])
        .iter()
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(by_name, ["create", "connect", "disconnect", "destroy"]);
    let vol = read(
        "type=volume",
        &["container", "destination", "read/write", "driver"],
    );
    assert_eq!(
        vol,
        [
            "create evdata driver=local".to_string(),
            format!("mount evdata container={id} destination=/data read/write=true driver=local"),
            format!("unmount evdata container={id} driver=local"),
        ]
    );
    assert!(t.leftovers().is_empty(), "{:?}", t.leftovers());
}

#[test]
fn a_push_is_an_image_event() {
    let root = TestRoot::new();
    let (reg, image) = common::pulled_busybox(&root);
    let since = chrono::Utc::now().to_rfc3339();
    let dest = reg.reference("test/pushed:v1");
    root.berth_ok(["tag", &image, &dest]);
    root.berth_ok(["push", &dest]);
    let out = root.berth_ok([
        "events",
        "--since",
        &since,
        "--until",
        "0s",
        "--filter",
        "event=push",
        "--format",
        "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}",
    ]);
    assert_eq!(lines(out), [format!("image push {dest} {dest}")]);
}
