//! Volumes and mounts in real containers (as root): `-v`, `--mount`, `--tmpfs`,
//! `--volumes-from`, copy-up, image `VOLUME`s, `rm -v`, in-use refusal and prune.

mod containers_support;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use containers_support::{stderr, stdout, TestRoot};

fn volume_names(t: &TestRoot) -> Vec<String> {
    t.ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn inspect(t: &TestRoot, what: &[&str]) -> serde_json::Value {
    let mut args = vec!["inspect"];
    args.extend_from_slice(what);
    serde_json::from_str::<serde_json::Value>(&t.ok(&args)).expect("inspect JSON")[0].clone()
}

/// Adds `/data` with content owned by uid 1000 to the test rootfs (the "image" content).
fn seed_image_data(t: &TestRoot) {
    let data = t.rootfs().join("data");
    if data.exists() {
        return;
    }
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("seed"), b"from the image\n").unwrap();
    std::os::unix::fs::symlink("seed", data.join("link")).unwrap();
    for p in [data.join("seed"), data.join("sub"), data.clone()] {
        std::os::unix::fs::lchown(&p, Some(1000), Some(1000)).unwrap();
    }
    std::fs::set_permissions(
        data.join("seed"),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o750)).unwrap();
}

#[test]
fn named_volume_outlives_its_container_and_is_shared() {
    let t = TestRoot::new();
    let out = t.run(
        &["--name", "writer", "-v", "dbdata:/var/lib/db"],
        &["sh", "-c", "echo persisted > /var/lib/db/f"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    t.ok(&["rm", "writer"]);
    assert_eq!(volume_names(&t), vec!["dbdata"]);
    let out = t.run(&["--rm", "-v", "dbdata:/d"], &["cat", "/d/f"]);
    assert_eq!(stdout(&out), "persisted\n", "{}", stderr(&out));
    // `--rm` keeps named volumes.
    assert_eq!(volume_names(&t), vec!["dbdata"]);
}

#[test]
fn read_only_mounts_refuse_writes() {
    let t = TestRoot::new();
    let host = t.root().join("host-share");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("f"), b"original").unwrap();
    let h = host.to_string_lossy().into_owned();
    for flags in [
        vec!["-v".to_owned(), format!("{h}:/share:ro")],
        vec![
            "--mount".to_owned(),
            format!("type=bind,src={h},dst=/share,readonly"),
        ],
    ] {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let out = t.run(
            &[&["--rm"], flags.as_slice()].concat(),
            &["sh", "-c", "cat /share/f && echo changed > /share/f"],
        );
        assert_eq!(stdout(&out), "original", "{}", stderr(&out));
        assert_ne!(out.status.code(), Some(0), "the write must fail");
        assert!(stderr(&out).contains("Read-only"), "{}", stderr(&out));
        assert_eq!(std::fs::read(host.join("f")).unwrap(), b"original");
    }
    // A writable bind does change the host, and a missing -v host directory is created.
    let fresh = t.root().join("made/by/run");
    let out = t.run(
        &["--rm", "-v", &format!("{}:/out", fresh.display())],
        &["sh", "-c", "echo hi > /out/g"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(fresh.join("g")).unwrap(), b"hi\n");
    // A read-only named volume too.
    let out = t.run(&["--rm", "-v", "ro1:/v:ro"], &["touch", "/v/x"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(!t.root().join("volumes/ro1/_data/x").exists());
}

#[test]
fn new_volume_receives_image_content_once() {
    let t = TestRoot::new();
    seed_image_data(&t);
    let out = t.run(&["--rm", "-v", "fresh:/data"], &["cat", "/data/seed"]);
    assert_eq!(stdout(&out), "from the image\n", "{}", stderr(&out));
    let data = t.root().join("volumes/fresh/_data");
    let seed = std::fs::metadata(data.join("seed")).unwrap();
    assert_eq!(
        (seed.uid(), seed.gid(), seed.mode() & 0o7777),
        (1000, 1000, 0o640)
    );
    let top = std::fs::metadata(&data).unwrap();
    assert_eq!((top.uid(), top.mode() & 0o7777), (1000, 0o750));
    assert_eq!(
        std::fs::read_link(data.join("link")).unwrap(),
        Path::new("seed")
    );
    assert!(data.join("sub").is_dir());

    // A volume with content keeps it: the image's files are not copied over it again.
    std::fs::remove_file(data.join("seed")).unwrap();
    let out = t.run(&["--rm", "-v", "fresh:/data"], &["ls", "/data"]);
    assert_eq!(stdout(&out), "link\nsub\n", "{}", stderr(&out));

    // nocopy leaves a new volume empty.
    let out = t.run(&["--rm", "-v", "bare:/data:nocopy"], &["ls", "-A", "/data"]);
    assert_eq!(stdout(&out), "", "{}", stderr(&out));
}

#[test]
fn image_volume_becomes_an_anonymous_volume() {
    use berth::engine::container::{self, image_source, CreateOptions};
    let t = TestRoot::new();
    seed_image_data(&t);
    let engine = t.engine();
    let mut volumes = BTreeMap::new();
    volumes.insert("/data".to_owned(), serde_json::json!({}));
    let img = image_source::ResolvedImage {
        name: "vol-image".into(),
        id: String::new(),
        config: image_source::ImageRunConfig {
            cmd: Some(vec!["cat".into(), "/data/seed".into()]),
            volumes: Some(volumes),
            ..Default::default()
        },
        lowers: vec![t.rootfs()],
    };
    let opts = CreateOptions {
        name: Some("imgvol".into()),
        ..Default::default()
    };
    let rec = container::create::create_from(&engine, &opts, img).unwrap();
    assert_eq!(rec.mounts.len(), 1);
    let name = rec.mounts[0].name.clone();
    assert_eq!(name.len(), 64);
    assert_eq!(rec.mounts[0].destination, "/data");
    let v: serde_json::Value = serde_json::from_str(&t.ok(&["volume", "inspect", &name])).unwrap();
    assert_eq!(v[0]["Anonymous"], true);
    assert_eq!(v[0]["UsedBy"][0], "imgvol");

    assert_eq!(t.ok(&["start", "-a", "imgvol"]), "from the image\n");
    let mounts = &inspect(&t, &["imgvol"])["Mounts"];
    assert_eq!(mounts[0]["Type"], "volume");
    assert_eq!(mounts[0]["Name"], name.as_str());
    assert_eq!(mounts[0]["RW"], true);

    // `rm -v` removes the container's anonymous volume (and keeps unrelated ones).
    t.ok(&["volume", "create", "keep"]);
    t.ok(&["rm", "-v", "imgvol"]);
    assert_eq!(volume_names(&t), vec!["keep"]);
}

#[test]
fn volumes_from_reuses_a_data_containers_volumes() {
    let t = TestRoot::new();
    let out = t.run(
        &["--name", "store", "-v", "shared:/shared", "-v", "/scratch"],
        &["sh", "-c", "echo s > /shared/f; echo a > /scratch/g"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = t.run(
        &["--rm", "--volumes-from", "store"],
        &[
            "sh",
            "-c",
            "cat /shared/f /scratch/g; echo more >> /shared/f",
        ],
    );
    assert_eq!(stdout(&out), "s\na\n", "{}", stderr(&out));
    let out = t.run(
        &["--rm", "--volumes-from", "store:ro"],
        &["sh", "-c", "cat /shared/f; echo no > /shared/f"],
    );
    assert_eq!(stdout(&out), "s\nmore\n", "{}", stderr(&out));
    assert_ne!(out.status.code(), Some(0), "writes through :ro fail");

    // `run --rm` removed its container but not store's anonymous volume, still in use.
    assert_eq!(volume_names(&t).len(), 2);
    let err = t.berth(&["volume", "rm", "shared"]);
    assert_eq!(err.status.code(), Some(1));
    assert!(
        stderr(&err).contains("in use by container store"),
        "{}",
        stderr(&err)
    );
}

#[test]
fn rm_v_and_run_rm_remove_only_anonymous_volumes() {
    let t = TestRoot::new();
    let out = t.run(
        &["--name", "c1", "-v", "named1:/n", "-v", "/anon"],
        &["true"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(volume_names(&t).len(), 2);
    t.ok(&["rm", "-v", "c1"]);
    assert_eq!(volume_names(&t), vec!["named1"]);

    let out = t.run(&["--rm", "-v", "/anon2", "-v", "named1:/n"], &["true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(volume_names(&t), vec!["named1"]);
}

#[test]
fn in_use_volumes_are_refused_and_prune_removes_only_unused() {
    let t = TestRoot::new();
    let rootfs = t.rootfs().to_string_lossy().into_owned();
    t.ok(&[
        "create", "--name", "holder", "-v", "held:/d", "-v", "/anon", "--rootfs", &rootfs, "true",
    ]);
    t.ok(&["volume", "create", "loose"]);
    let anon_loose = t.ok(&["volume", "create"]).trim().to_owned();
    let out = t.berth(&["volume", "rm", "held"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("in use by container holder"),
        "{}",
        stderr(&out)
    );

    let pruned = t.ok(&["volume", "prune", "-f"]);
    assert!(pruned.contains(&anon_loose), "{pruned}");
    let pruned = t.ok(&["volume", "prune", "-f", "--all"]);
    assert!(pruned.contains("loose"), "{pruned}");
    let left = volume_names(&t);
    assert_eq!(
        left.len(),
        2,
        "held and holder's anonymous volume stay: {left:?}"
    );
    assert!(left.contains(&"held".to_owned()));

    t.ok(&["rm", "holder"]);
    t.ok(&["volume", "prune", "-f", "--all"]);
    assert!(volume_names(&t).is_empty());
}

#[test]
fn bad_mounts_are_explained_and_create_nothing() {
    let t = TestRoot::new();
    let missing_host = t.root().join("never-made");
    let m = missing_host.to_string_lossy().into_owned();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["-v".into(), "rel/dir:/x".into()], "relative"),
        (
            vec!["-v".into(), "vol1:x".into()],
            "absolute path inside the container",
        ),
        (
            vec!["--volumes-from".into(), "ghost".into()],
            "no such container",
        ),
        (
            vec!["-v".into(), "vol1:/x".into(), "--tmpfs".into(), "/x".into()],
            "duplicate mount point /x",
        ),
        (
            vec![
                "-v".into(),
                format!("{m}:/h"),
                "--mount".into(),
                format!("type=bind,src={m}/nope,dst=/b"),
            ],
            "does not exist",
        ),
        (vec!["--mount".into(), "type=bind,dst=/b".into()], "source"),
        (vec!["--tmpfs".into(), "/t:size=huge".into()], "tmpfs"),
    ];
    for (flags, want) in cases {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let out = t.run(&flags, &["true"]);
        assert_eq!(out.status.code(), Some(125), "{flags:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{flags:?}: {}", stderr(&out));
    }
    assert_eq!(t.ok(&["ps", "-a", "-q"]), "");
    assert!(volume_names(&t).is_empty());
    assert!(!missing_host.exists());
    let leftovers: Vec<_> = std::fs::read_dir(t.root().join("containers"))
        .unwrap()
        .collect();
    assert!(leftovers.is_empty(), "container dirs left: {leftovers:?}");
}

#[test]
fn tmpfs_mounts_are_fresh_and_sized() {
    let t = TestRoot::new();
    let out = t.run(
        &[
            "--rm",
            "--tmpfs",
            "/scratch:size=1m,mode=1777",
            "--mount",
            "type=tmpfs,dst=/t2,tmpfs-size=2m",
        ],
        &[
            "sh",
            "-c",
            "grep -E ' /(scratch|t2) ' /proc/mounts; stat -c %a /scratch",
        ],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("/scratch tmpfs") && text.contains("size=1024k"),
        "{text}"
    );
    assert!(
        text.contains("/t2 tmpfs") && text.contains("size=2048k"),
        "{text}"
    );
    assert!(text.contains("nosuid") && text.contains("noexec"), "{text}");
    assert!(text.ends_with("1777\n"), "{text}");
}

#[test]
fn binds_of_device_nodes_sockets_and_fifos_work_as_files() {
    let t = TestRoot::new();
    // A device node (docker's `-v /dev/null:/x` idiom), read-only or not, below a missing
    // directory; the image's rootfs is not changed by it.
    let out = t.run(
        &[
            "--rm",
            "-v",
            "/dev/null:/x",
            "-v",
            "/dev/null:/deep/er/y:ro",
        ],
        &[
            "sh",
            "-c",
            "test -c /x && echo hi > /x && test -c /deep/er/y && grep ' /deep/er/y ' /proc/mounts",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(" ro,"), "{}", stdout(&out));
    assert!(!t.rootfs().join("deep").exists());
    // A Unix socket (the `-v /run/app.sock:/app.sock` idiom) and a FIFO.
    let sock = t.root().join("app.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let fifo = t.root().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let out = t.run(
        &[
            "--rm",
            "-v",
            &format!("{}:/run/app.sock", sock.display()),
            "-v",
            &format!("{}:/f", fifo.display()),
        ],
        &["sh", "-c", "test -S /run/app.sock && test -p /f"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // Onto a directory of the image: refused, named, nothing left running.
    let out = t.run(&["--rm", "-v", "/dev/null:/bin"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("/bin"), "{}", stderr(&out));
    assert!(t.mounts().is_empty(), "{:?}", t.mounts());
}
