//! Unit tests of volume operations against a real state database in a temp dir.

use super::*;
use crate::engine::events::EngineEvent;

fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    (dir, engine)
}

fn named(name: &str) -> CreateVolume {
    CreateVolume {
        name: Some(name.to_owned()),
        ..Default::default()
    }
}

fn anonymous() -> CreateVolume {
    CreateVolume {
        anonymous: true,
        ..Default::default()
    }
}

/// Adds a container whose record mounts `volumes`.
fn use_volumes(engine: &Engine, container: &str, volumes: &[&str]) {
    let mounts: Vec<_> = volumes
        .iter()
        .map(|v| serde_json::json!({"Type": "volume", "Name": v, "Destination": format!("/{v}"), "RW": true}))
        .collect();
    let record = serde_json::json!({ "mounts": mounts }).to_string();
    engine
        .state()
        .write(|tx| {
            tx.execute(
                "INSERT INTO containers(id, name, image_id, record, created) VALUES (?1, ?1, 'i', ?2, 'now')",
                rusqlite::params![container, record],
            )?;
            Ok(())
        })
        .unwrap();
}

fn names(engine: &Engine) -> Vec<String> {
    ops::list(engine, &VolumeFilter::default())
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect()
}

#[test]
fn create_is_idempotent_and_keeps_first_labels() {
    let (_d, engine) = engine();
    let mut events = engine.subscribe();
    let mut req = named("data");
    req.labels.insert("a".into(), "1".into());
    let v = ops::create(&engine, &req).unwrap();
    assert_eq!(
        v.mountpoint,
        engine.layout().root().join("volumes/data/_data")
    );
    assert!(v.mountpoint.is_dir());
    assert_eq!(v.driver, "local");
    assert!(!v.anonymous);
    assert_eq!(events.try_recv().unwrap(), EngineEvent::VolumesChanged);

    std::fs::write(v.mountpoint.join("f"), b"keep").unwrap();
    let again = ops::create(&engine, &named("data")).unwrap();
    assert_eq!(again.labels, v.labels);
    assert_eq!(again.created_at, v.created_at);
    assert_eq!(std::fs::read(again.mountpoint.join("f")).unwrap(), b"keep");
    assert!(
        events.try_recv().is_err(),
        "no event for an existing volume"
    );

    let gen = ops::create(&engine, &anonymous()).unwrap();
    assert_eq!(gen.name.len(), 64);
    assert!(gen.anonymous);
    assert_eq!(names(&engine).len(), 2);
}

#[test]
fn bad_name_creates_nothing() {
    let (_d, engine) = engine();
    let err = ops::create(&engine, &named("../x")).unwrap_err();
    assert!(matches!(err, EngineError::InvalidInput(_)), "{err}");
    assert!(names(&engine).is_empty());
    let left: Vec<_> = std::fs::read_dir(engine.layout().volumes_dir())
        .unwrap()
        .collect();
    assert!(left.is_empty());
}

#[test]
fn failed_transaction_removes_new_directories() {
    let (_d, engine) = engine();
    let layout = engine.layout();
    let r: Result<()> = engine.state().write(|tx| {
        let mut dirs = NewDirs::default();
        create_in(tx, layout, &named("gone"), &mut dirs)?;
        assert!(data_dir(layout, "gone").is_dir());
        Err(EngineError::Conflict("later step failed".into()))
    });
    assert!(r.is_err());
    assert!(!volume_dir(layout, "gone").exists());
    assert!(names(&engine).is_empty());
}

#[test]
fn remove_refuses_volume_in_use_naming_containers() {
    let (_d, engine) = engine();
    let v = ops::create(&engine, &named("data")).unwrap();
    use_volumes(&engine, "web", &["data"]);
    use_volumes(&engine, "db", &["data"]);
    for force in [false, true] {
        let err = ops::remove(&engine, "data", force).unwrap_err();
        assert!(matches!(err, EngineError::Conflict(_)));
        let msg = err.to_string();
        assert!(msg.contains("db, web"), "{msg}");
    }
    assert!(v.mountpoint.is_dir());
    let inspected = ops::inspect(&engine, "data").unwrap();
    assert_eq!(inspected.used_by, vec!["db", "web"]);
    assert_eq!(inspected.size, Some(0));
}

#[test]
fn remove_deletes_record_and_data() {
    let (_d, engine) = engine();
    let v = ops::create(&engine, &named("data")).unwrap();
    std::fs::create_dir(v.mountpoint.join("sub")).unwrap();
    std::fs::write(v.mountpoint.join("sub/f"), b"12345").unwrap();
    assert_eq!(ops::inspect(&engine, "data").unwrap().size, Some(5));
    assert!(ops::remove(&engine, "data", false).unwrap());
    assert!(!volume_dir(engine.layout(), "data").exists());
    assert!(names(&engine).is_empty());
    let tmp: Vec<_> = std::fs::read_dir(engine.layout().tmp_dir())
        .unwrap()
        .collect();
    assert!(tmp.is_empty(), "trash left behind");
    let err = ops::remove(&engine, "data", false).unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)));
    assert!(!ops::remove(&engine, "data", true).unwrap());
    assert!(matches!(
        ops::inspect(&engine, "data").unwrap_err(),
        EngineError::NotFound(_)
    ));
}

#[test]
fn prune_removes_only_unused_anonymous_unless_all() {
    let (_d, engine) = engine();
    let unused_anon = ops::create(&engine, &anonymous()).unwrap();
    std::fs::write(unused_anon.mountpoint.join("f"), vec![1u8; 100]).unwrap();
    let used_anon = ops::create(&engine, &anonymous()).unwrap();
    ops::create(&engine, &named("kept")).unwrap();
    ops::create(&engine, &named("busy")).unwrap();
    use_volumes(&engine, "c1", &[&used_anon.name, "busy"]);

    let report = ops::prune(&engine, &PruneVolumes::default()).unwrap();
    assert_eq!(report.volumes_deleted, vec![unused_anon.name.clone()]);
    assert_eq!(report.space_reclaimed, 100);
    assert!(!unused_anon.mountpoint.exists());

    let mut expect = vec![used_anon.name.clone(), "busy".into(), "kept".into()];
    expect.sort();
    assert_eq!(names(&engine), expect);

    let report = ops::prune(
        &engine,
        &PruneVolumes {
            all: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(report.volumes_deleted, vec!["kept".to_owned()]);
    let mut expect = vec![used_anon.name.clone(), "busy".into()];
    expect.sort();
    assert_eq!(names(&engine), expect);
}

#[test]
fn prune_honours_label_filters_and_refuses_others() {
    let (_d, engine) = engine();
    let mut keep = anonymous();
    keep.labels.insert("keep".into(), "".into());
    let kept = ops::create(&engine, &keep).unwrap();
    let gone = ops::create(&engine, &anonymous()).unwrap();
    let opts = PruneVolumes {
        all: false,
        filter: VolumeFilter::parse(&["label!=keep"]).unwrap(),
    };
    let report = ops::prune(&engine, &opts).unwrap();
    assert_eq!(report.volumes_deleted, vec![gone.name]);
    assert_eq!(names(&engine), vec![kept.name]);
    let bad = PruneVolumes {
        all: false,
        filter: VolumeFilter::parse(&["dangling=true"]).unwrap(),
    };
    assert!(ops::prune(&engine, &bad).is_err());
}

#[test]
fn list_filters_dangling_and_names() {
    let (_d, engine) = engine();
    ops::create(&engine, &named("db-data")).unwrap();
    ops::create(&engine, &named("cache")).unwrap();
    use_volumes(&engine, "db", &["db-data"]);
    let dangling = VolumeFilter::parse(&["dangling=true"]).unwrap();
    let got: Vec<_> = ops::list(&engine, &dangling).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].name, "cache");
    assert!(got[0].size.is_none());
    let used = VolumeFilter::parse(&["name=db"]).unwrap();
    let got = ops::list(&engine, &used).unwrap();
    assert_eq!(got[0].used_by, vec!["db"]);
}

#[test]
fn remove_anonymous_spares_named_and_shared() {
    let (_d, engine) = engine();
    let a = ops::create(&engine, &anonymous()).unwrap();
    let shared = ops::create(&engine, &anonymous()).unwrap();
    ops::create(&engine, &named("named")).unwrap();
    use_volumes(&engine, "other", &[&shared.name]);
    let removed = ops::remove_anonymous(
        &engine,
        &[
            a.name.clone(),
            shared.name.clone(),
            "named".into(),
            "missing".into(),
        ],
    )
    .unwrap();
    assert_eq!(removed, vec![a.name]);
    let mut expect = vec![shared.name, "named".to_owned()];
    expect.sort();
    assert_eq!(names(&engine), expect);
}

#[test]
fn labels_parse_like_docker() {
    let l = parse_labels(&["a=1", "b", "c=x=y"]).unwrap();
    assert_eq!(l["a"], "1");
    assert_eq!(l["b"], "");
    assert_eq!(l["c"], "x=y");
    assert!(parse_labels(&["=v"]).is_err());
}

#[tokio::test]
async fn async_api_round_trip() {
    let (_d, engine) = engine();
    let v = engine.create_volume(named("x1")).await.unwrap();
    assert_eq!(
        engine.volumes(VolumeFilter::default()).await.unwrap(),
        vec![v]
    );
    assert_eq!(
        engine.inspect_volume("x1".into()).await.unwrap().size,
        Some(0)
    );
    assert!(engine.remove_volume("x1".into(), false).await.unwrap());
    let report = engine.prune_volumes(PruneVolumes::default()).await.unwrap();
    assert!(report.volumes_deleted.is_empty());
}

#[test]
fn prune_sweeps_data_left_by_an_interrupted_remove() {
    let (_d, engine) = engine();
    let stale = engine.layout().tmp_dir().join("volume-rm-0123456789abcdef");
    std::fs::create_dir_all(stale.join("_data/sub")).unwrap();
    let other = engine.layout().tmp_dir().join("someone-elses-staging");
    std::fs::create_dir(&other).unwrap();
    ops::prune(&engine, &PruneVolumes::default()).unwrap();
    assert!(!stale.exists());
    assert!(other.exists());
}
