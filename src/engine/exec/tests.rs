use super::*;
use crate::engine::container::record::{Config, HostConfig, State};
use crate::engine::container::NetworkMode;

fn record() -> ContainerRecord {
    ContainerRecord {
        id: "cd".repeat(32),
        name: "box".into(),
        image: "img".into(),
        image_id: String::new(),
        lowers: vec![],
        created: chrono::Utc::now(),
        config: Config {
            hostname: "cdcdcdcdcdcd".into(),
            cmd: vec!["sh".into()],
            env: vec!["A=1".into()],
            ..Default::default()
        },
        host_config: HostConfig {
            network_mode: NetworkMode::None,
            ..Default::default()
        },
        state: State {
            status: Status::Running,
            ..Default::default()
        },
        restart_count: 0,
        mounts: vec![],
        networks: Default::default(),
        health: None,
    }
}

fn rootfs() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("etc")).unwrap();
    std::fs::write(
        d.path().join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(d.path().join("etc/group"), "root:x:0:\napp:x:1000:\n").unwrap();
    d
}

fn spec(rec: &ContainerRecord) -> Spec {
    let user = users::ResolvedUser {
        uid: 0,
        gid: 0,
        additional_gids: vec![],
        home: "/root".into(),
    };
    crate::engine::runtime::build_spec(rec, &user, std::path::Path::new("/b")).unwrap()
}

#[test]
fn exec_process_takes_the_container_process_and_the_options() {
    let rec = record();
    let root = rootfs();
    let opts = ExecOptions {
        cmd: vec!["id".into(), "-u".into()],
        env: vec!["A=2".into(), "B=3".into()],
        workdir: Some("/tmp".into()),
        user: Some("app".into()),
        tty: true,
        interactive: true,
    };
    let (p, config) = build(&rec, &spec(&rec), root.path(), &opts).unwrap();
    assert_eq!(p.args().as_ref().unwrap(), &vec!["id", "-u"]);
    assert_eq!(p.user().uid(), 1000);
    assert_eq!(p.user().gid(), 1000);
    assert_eq!(p.cwd().to_str(), Some("/tmp"));
    assert_eq!(p.terminal(), Some(true));
    let env = p.env().clone().unwrap();
    assert!(env.contains(&"A=2".to_string()) && env.contains(&"B=3".to_string()));
    assert!(!env.contains(&"A=1".to_string()));
    assert!(env.contains(&"HOME=/home/app".to_string()), "{env:?}");
    assert!(env.iter().any(|e| e.starts_with("PATH=")));
    // The filter is installed by the executor, which starts with two more capabilities and
    // ends with the container's own.
    assert!(config.seccomp.is_some());
    let start = p.capabilities().clone().unwrap();
    let end = config.capabilities.clone().unwrap();
    assert!(start
        .bounding()
        .as_ref()
        .unwrap()
        .contains(&oci_spec::runtime::Capability::SysAdmin));
    assert!(!end
        .bounding()
        .as_ref()
        .unwrap()
        .contains(&oci_spec::runtime::Capability::SysAdmin));
    assert_eq!(end.bounding().as_ref().unwrap().len(), 14);
}

#[test]
fn bad_exec_options_and_states_are_explained() {
    let rec = record();
    let root = rootfs();
    let bad = |o: ExecOptions| {
        build(&rec, &spec(&rec), root.path(), &o)
            .unwrap_err()
            .to_string()
    };
    assert!(bad(ExecOptions::default()).contains("needs a command"));
    assert!(bad(ExecOptions {
        cmd: vec!["sh".into()],
        workdir: Some("rel".into()),
        ..Default::default()
    })
    .contains("absolute"));
    assert!(bad(ExecOptions {
        cmd: vec!["sh".into()],
        env: vec!["=x".into()],
        ..Default::default()
    })
    .contains("KEY=VALUE"));
    let mut r = record();
    assert!(check_running(&r).is_ok());
    r.state.status = Status::Paused;
    assert!(check_running(&r)
        .unwrap_err()
        .to_string()
        .contains("unpause"));
    r.state.status = Status::Exited;
    let e = check_running(&r).unwrap_err().to_string();
    assert!(e.contains("not running") && e.contains("exited"), "{e}");
}
