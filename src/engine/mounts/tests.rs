//! Unit tests of mount parsing, planning, materializing and the OCI form.

use std::path::PathBuf;

use super::parse::{parse_mount_flag, parse_tmpfs_flag, parse_volume_flag, parse_volumes_from};
use super::*;
use crate::engine::volume::{self, NewDirs};
use crate::engine::Engine;

fn err_of<T: std::fmt::Debug>(r: crate::engine::Result<T>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn volume_flag_forms() {
    let r = parse_volume_flag("data:/var/lib/db").unwrap();
    assert_eq!(
        r.source,
        MountSource::Volume {
            name: Some("data".into()),
            labels: Default::default()
        }
    );
    assert_eq!(r.destination, "/var/lib/db");
    assert!(!r.read_only);
    assert_eq!(r.propagation, "");

    let r = parse_volume_flag("/srv/www/:/usr/share/html/:ro").unwrap();
    assert_eq!(
        r.source,
        MountSource::Bind {
            path: PathBuf::from("/srv/www"),
            create: true
        }
    );
    assert_eq!(r.destination, "/usr/share/html");
    assert!(r.read_only);
    assert_eq!(r.propagation, "rprivate");
    assert_eq!(r.mode, "ro");

    let r = parse_volume_flag("/cache").unwrap();
    assert!(matches!(r.source, MountSource::Volume { name: None, .. }));
    let r = parse_volume_flag("v1:/d:ro,nocopy").unwrap();
    assert!(r.read_only && r.no_copy);
    let r = parse_volume_flag("/h:/d:rshared,z").unwrap();
    assert_eq!(r.propagation, "rshared");
    assert_eq!(
        parse_volume_flag("v1:/a/./b/../c//").unwrap().destination,
        "/a/c"
    );
}

#[test]
fn volume_flag_errors() {
    for (spec, want) in [
        ("./data:/d", "relative"),
        ("data/x:/d", "relative"),
        ("~/x:/d", "relative"),
        ("data:d", "absolute path inside the container"),
        ("relative", "absolute path inside the container"),
        ("data:/", "root"),
        ("data:/..", "root"),
        (":/d", "empty"),
        ("data:", "missing"),
        ("/data:ro", "anonymous volume takes no mode"),
        ("a:/b:c:d", "too many"),
        ("data:/d:ro,rw", "both"),
        ("data:/d:rx", "unknown mode"),
        ("data:/d:rshared", "host paths"),
        ("/h:/d:nocopy", "volumes"),
        ("a b:/d", "not allowed"),
    ] {
        let e = err_of(parse_volume_flag(spec));
        assert!(e.contains(want), "{spec}: {e}");
        assert!(
            e.contains(&format!("-v {spec}")),
            "{spec}: names the flag: {e}"
        );
    }
}

#[test]
fn mount_flag_forms() {
    let r = parse_mount_flag("type=bind,src=/h,dst=/c,readonly,bind-propagation=rslave").unwrap();
    assert_eq!(
        r.source,
        MountSource::Bind {
            path: "/h".into(),
            create: false
        }
    );
    assert!(r.read_only);
    assert_eq!(r.propagation, "rslave");

    let r = parse_mount_flag("source=data,target=/d,volume-label=a=1,volume-nocopy").unwrap();
    let MountSource::Volume { name, labels } = &r.source else {
        panic!("volume expected")
    };
    assert_eq!(name.as_deref(), Some("data"));
    assert_eq!(labels["a"], "1");
    assert!(r.no_copy && !r.read_only);

    let r = parse_mount_flag("type=volume,dst=/anon,ro=false").unwrap();
    assert!(matches!(r.source, MountSource::Volume { name: None, .. }));

    let r = parse_mount_flag("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770").unwrap();
    assert_eq!(
        r.source,
        MountSource::Tmpfs {
            options: vec!["size=67108864".into(), "mode=1770".into()]
        }
    );
    let r = parse_mount_flag("\"type=bind\",\"src=/a,b\",dst=/x").unwrap();
    assert_eq!(
        r.source,
        MountSource::Bind {
            path: "/a,b".into(),
            create: false
        }
    );
}

#[test]
fn mount_flag_errors() {
    for (spec, want) in [
        ("type=bind,src=rel,dst=/c", "relative"),
        ("type=bind,dst=/c", "needs source"),
        ("type=tmpfs,src=x,dst=/t", "no source"),
        ("type=npipe,dst=/t", "unknown mount type"),
        ("type=volume,src=v", "destination"),
        ("type=volume,dst=rel", "absolute"),
        ("type=volume,dst=/d,bind-propagation=shared", "type=bind"),
        ("type=bind,src=/h,dst=/d,tmpfs-size=1m", "type=tmpfs"),
        ("type=tmpfs,dst=/t,tmpfs-size=lots", "not a size"),
        ("type=tmpfs,dst=/t,tmpfs-mode=999", "bad value"),
        ("type=volume,dst=/d,readonly=maybe", "true or false"),
        ("type=volume,dst=/d,colour=red", "unknown key"),
        ("type=volume,dst=/d,volume-driver=nfs", "only `local`"),
        ("type=volume,dst=/d,volume-opt=o=x", "not supported"),
        ("type=bind,src=\"/h,dst=/d", "quote"),
    ] {
        let e = err_of(parse_mount_flag(spec));
        assert!(e.contains(want), "{spec}: {e}");
    }
}

#[test]
fn tmpfs_and_volumes_from_flags() {
    let r = parse_tmpfs_flag("/run:rw,size=64m,mode=1777,noexec").unwrap();
    assert_eq!(r.destination, "/run");
    assert!(!r.read_only);
    assert_eq!(
        r.source,
        MountSource::Tmpfs {
            options: vec!["size=64m".into(), "mode=1777".into(), "noexec".into()]
        }
    );
    assert!(parse_tmpfs_flag("/t:ro").unwrap().read_only);
    assert!(err_of(parse_tmpfs_flag("/t:size=big")).contains("bad value"));
    assert!(err_of(parse_tmpfs_flag("/t:bogus")).contains("unknown tmpfs option"));
    assert!(err_of(parse_tmpfs_flag("t")).contains("absolute"));

    assert_eq!(
        parse_volumes_from("data:ro").unwrap(),
        VolumesFrom {
            container: "data".into(),
            read_only: Some(true)
        }
    );
    assert_eq!(parse_volumes_from("data").unwrap().read_only, None);
    assert_eq!(parse_volumes_from("d:rw").unwrap().read_only, Some(false));
    assert!(err_of(parse_volumes_from("d:rx")).contains("unknown mode"));
    assert!(err_of(parse_volumes_from(":ro")).contains("missing"));
}

fn opts(v: &[&str], m: &[&str], t: &[&str], f: &[&str]) -> MountOptions {
    let s = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
    MountOptions {
        volumes: s(v),
        mounts: s(m),
        tmpfs: s(t),
        volumes_from: s(f),
    }
}

fn inherited(kind: MountType, name: &str, source: &str, dest: &str, rw: bool) -> MountPoint {
    MountPoint {
        kind,
        name: name.into(),
        source: source.into(),
        destination: dest.into(),
        driver: String::new(),
        mode: String::new(),
        rw,
        propagation: String::new(),
        options: vec![],
        no_copy: false,
    }
}

#[test]
fn plan_resolves_precedence_and_conflicts() {
    let parsed = parse(&opts(&["a1:/data"], &[], &["/tmp"], &["box:ro"])).unwrap();
    let from = vec![(
        parsed.volumes_from[0].clone(),
        vec![
            inherited(
                MountType::Volume,
                "boxvol",
                "/v/boxvol/_data",
                "/data",
                true,
            ),
            inherited(MountType::Volume, "logs", "/v/logs/_data", "/logs", true),
            inherited(MountType::Tmpfs, "", "", "/scratch", true),
        ],
    )];
    let image = vec![
        "/logs".to_string(),
        "/cache/".to_string(),
        "/data".to_string(),
    ];
    let planned = plan(&parsed, &from, &image).unwrap();
    let dests: Vec<_> = planned.iter().map(|p| p.destination().to_owned()).collect();
    assert_eq!(dests, vec!["/data", "/tmp", "/logs", "/cache"]);
    let Planned::Inherited { mount, from } = &planned[2] else {
        panic!("inherited expected")
    };
    assert_eq!(
        (mount.name.as_str(), mount.rw, from.as_str()),
        ("logs", false, "box")
    );
    let Planned::New(r) = &planned[3] else {
        panic!("new expected")
    };
    assert!(matches!(r.source, MountSource::Volume { name: None, .. }));

    let dup = parse(&opts(&["a1:/d"], &[], &["/d"], &[])).unwrap();
    let e = err_of(plan(&dup, &[], &[]));
    assert!(
        e.contains("duplicate mount point /d") && e.contains("--tmpfs /d"),
        "{e}"
    );

    let two = parse(&opts(&[], &[], &[], &["c1", "c2"])).unwrap();
    let from = vec![
        (
            two.volumes_from[0].clone(),
            vec![inherited(MountType::Volume, "x", "/v/x", "/d", true)],
        ),
        (
            two.volumes_from[1].clone(),
            vec![inherited(MountType::Volume, "y", "/v/y", "/d", true)],
        ),
    ];
    let e = err_of(plan(&two, &from, &[]));
    assert!(e.contains("c1") && e.contains("c2"), "{e}");
    assert!(err_of(plan(&ParsedMounts::default(), &[], &["rel".into()])).contains("image declares"));
}

#[test]
fn materialize_creates_volumes_and_host_dirs_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(&dir.path().join("root")).unwrap();
    let layout = engine.layout();
    let host = dir.path().join("host/new/deep");
    let exists = dir.path().join("exists");
    std::fs::create_dir(&exists).unwrap();
    let parsed = parse(&opts(
        &["named1:/n", "/anon", &format!("{}:/h:ro", host.display())],
        &[&format!("type=bind,src={},dst=/e", exists.display())],
        &["/t:size=1m"],
        &[],
    ))
    .unwrap();
    let planned = plan(&parsed, &[], &[]).unwrap();
    let (mounts, dirs) = engine
        .state()
        .write(|tx| {
            let mut dirs = NewDirs::default();
            let m = materialize(tx, layout, &planned, &mut dirs)?;
            Ok((m, dirs))
        })
        .unwrap();
    dirs.keep();
    assert_eq!(mounts.len(), 5);
    assert_eq!(mounts[0].kind, MountType::Volume);
    assert_eq!(mounts[0].name, "named1");
    assert_eq!(
        PathBuf::from(&mounts[0].source),
        volume::data_dir(layout, "named1")
    );
    assert_eq!(mounts[1].name.len(), 64);
    assert!(host.is_dir());
    assert_eq!(mounts[2].source, host.to_string_lossy());
    assert!(!mounts[2].rw);
    assert_eq!(mounts[3].kind, MountType::Bind);
    assert_eq!(mounts[4].kind, MountType::Tmpfs);
    let anon = volume::ops::inspect(&engine, &mounts[1].name).unwrap();
    assert!(anon.anonymous);
    assert!(!volume::ops::inspect(&engine, "named1").unwrap().anonymous);

    // The stored shape is Docker's.
    let json = serde_json::to_value(&mounts[0]).unwrap();
    assert_eq!(json["Type"], "volume");
    assert_eq!(json["RW"], true);
    assert_eq!(json["Destination"], "/n");

    // A failing later step (missing --mount bind source) creates nothing at all.
    let host2 = dir.path().join("host2/x");
    let parsed = parse(&opts(
        &["named2:/n", &format!("{}:/h", host2.display())],
        &[&format!(
            "type=bind,src={},dst=/m",
            dir.path().join("nope").display()
        )],
        &[],
        &[],
    ))
    .unwrap();
    let planned = plan(&parsed, &[], &[]).unwrap();
    let e = engine
        .state()
        .write(|tx| {
            let mut dirs = NewDirs::default();
            materialize(tx, layout, &planned, &mut dirs)
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
    assert!(!dir.path().join("host2").exists());
    assert!(!volume::volume_dir(layout, "named2").exists());
    assert!(volume::ops::inspect(&engine, "named2").is_err());

    // A transaction that fails after materializing removes what it made.
    let parsed = parse(&opts(
        &["named3:/n", &format!("{}:/h", host2.display())],
        &[],
        &[],
        &[],
    ))
    .unwrap();
    let planned = plan(&parsed, &[], &[]).unwrap();
    let r: crate::engine::Result<()> = engine.state().write(|tx| {
        let mut dirs = NewDirs::default();
        materialize(tx, layout, &planned, &mut dirs)?;
        assert!(host2.is_dir());
        Err(crate::engine::EngineError::Conflict("name taken".into()))
    });
    assert!(r.is_err());
    assert!(!dir.path().join("host2").exists());
    assert!(!volume::volume_dir(layout, "named3").exists());
}

#[test]
fn oci_form_and_order() {
    let mut v = inherited(MountType::Volume, "v", "/v/_data", "/a/b", false);
    v.propagation = String::new();
    let o = oci_mount(&v);
    assert_eq!(o["type"], "bind");
    assert_eq!(o["options"], serde_json::json!(["rbind", "rprivate", "ro"]));
    let mut t = inherited(MountType::Tmpfs, "", "", "/t", true);
    t.options = vec!["exec".into(), "size=1m".into()];
    let o = oci_mount(&t);
    assert_eq!(o["type"], "tmpfs");
    assert_eq!(
        o["options"],
        serde_json::json!(["nosuid", "nodev", "exec", "size=1m", "rw"])
    );
    let mut all = vec![v, t, inherited(MountType::Bind, "", "/h", "/a", true)];
    sort_for_mounting(&mut all);
    let order: Vec<_> = all.iter().map(|m| m.destination.as_str()).collect();
    assert_eq!(order, vec!["/t", "/a", "/a/b"]);
    assert_eq!(volume_names(&all), vec!["v"]);
}

#[test]
fn copy_up_fills_only_empty_volumes_without_nocopy() {
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("etc/app")).unwrap();
    std::fs::write(rootfs.join("etc/app/conf"), b"x=1").unwrap();
    let mk = |n: &str| {
        let p = dir.path().join(n);
        std::fs::create_dir(&p).unwrap();
        p
    };
    let (a, b, c) = (mk("a"), mk("b"), mk("c"));
    std::fs::write(c.join("mine"), b"").unwrap();
    let mut ma = inherited(
        MountType::Volume,
        "a",
        &a.to_string_lossy(),
        "/etc/app",
        true,
    );
    let mut mb = ma.clone();
    mb.name = "b".into();
    mb.source = b.to_string_lossy().into_owned();
    mb.no_copy = true;
    let mut mc = ma.clone();
    mc.name = "c".into();
    mc.source = c.to_string_lossy().into_owned();
    ma.rw = false;
    let copied = copy_up(&rootfs, &[ma, mb, mc]).unwrap();
    assert_eq!(copied, vec!["a"]);
    assert_eq!(std::fs::read(a.join("conf")).unwrap(), b"x=1");
    assert!(!b.join("conf").exists());
    assert!(!c.join("conf").exists());
}

#[test]
fn prepare_finds_volumes_from_containers() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    let layout = engine.layout();
    let data_mount = inherited(
        MountType::Volume,
        "shared",
        "/v/shared/_data",
        "/data",
        true,
    );
    let record = serde_json::json!({ "mounts": [data_mount] }).to_string();
    engine
        .state()
        .write(|tx| {
            for (id, name) in [("abc111", "store"), ("abc222", "other")] {
                tx.execute(
                    "INSERT INTO containers(id, name, image_id, record, created) VALUES (?1, ?2, 'i', ?3, 'now')",
                    rusqlite::params![id, name, record],
                )?;
            }
            Ok(())
        })
        .unwrap();
    let run = |flags: &[&str]| {
        let parsed = parse(&opts(&[], &[], &[], flags)).unwrap();
        engine.state().write(|tx| {
            let mut dirs = NewDirs::default();
            let m = prepare(tx, layout, &parsed, &["/data".into()], &mut dirs)?;
            dirs.keep();
            Ok(m)
        })
    };
    let m = run(&["store:ro"]).unwrap();
    assert_eq!(
        m.len(),
        1,
        "the image VOLUME is covered by the inherited mount"
    );
    assert_eq!((m[0].name.as_str(), m[0].rw), ("shared", false));
    assert_eq!(run(&["abc2"]).unwrap()[0].name, "shared");
    let e = err_of(run(&["nobody"]));
    assert!(
        e.contains("--volumes-from nobody: no such container"),
        "{e}"
    );
    let e = err_of(run(&["abc"]));
    assert!(e.contains("matches 2 containers"), "{e}");
}
