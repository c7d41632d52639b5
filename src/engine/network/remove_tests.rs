//! `network rm` against a lease taken at the same time: the check for leases and the deletion
//! are one transaction, and a lease is only taken on a network that still exists, so either the
//! lease comes first (the removal is refused) or the network is gone (the lease is refused).

use std::sync::Arc;

use chrono::Utc;

use super::attach::lease;
use super::ops::{self, CreateNetwork};
use super::record::EndpointConfig;
use super::store::NetworkStore;
use crate::engine::container::record::{Config, ContainerRecord, HostConfig, State, Status};
use crate::engine::error::ErrorKind;
use crate::engine::syscall::fake::RecordingSyscall;
use crate::engine::Engine;

fn container() -> ContainerRecord {
    ContainerRecord {
        id: "ab".repeat(32),
        name: "app".into(),
        image: "busybox".into(),
        image_id: String::new(),
        lowers: Vec::new(),
        created: Utc::now(),
        config: Config::default(),
        host_config: HostConfig::default(),
        state: State {
            status: Status::Created,
            ..State::default()
        },
        restart_count: 0,
        mounts: Vec::new(),
        networks: Default::default(),
        health: None,
    }
}

fn network(engine: &Engine, name: &str) -> super::record::NetworkRecord {
    ops::create(
        engine,
        &CreateNetwork {
            name: name.into(),
            // Outside anything on this machine: the network never gets a bridge here.
            subnet: Some("10.213.7.0/24".into()),
            ..CreateNetwork::default()
        },
    )
    .unwrap()
}

#[test]
fn a_lease_taken_first_refuses_the_removal() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open_with(dir.path(), Arc::new(RecordingSyscall::default())).unwrap();
    let net = network(&engine, "rmrace-a");
    let rec = container();
    engine
        .state()
        .write(|tx| {
            let ep = lease(tx, &rec, &net, &EndpointConfig::default(), "eth0".into())?;
            NetworkStore::of(tx).put_endpoint(&ep)
        })
        .unwrap();
    let err = ops::remove(&engine, "rmrace-a").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("active endpoints"), "{err}");
}

#[test]
fn a_removed_network_gives_no_lease() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open_with(dir.path(), Arc::new(RecordingSyscall::default())).unwrap();
    // Read before the removal, as `network connect` reads it before leasing.
    let net = network(&engine, "rmrace-b");
    assert_eq!(ops::remove(&engine, "rmrace-b").unwrap(), "rmrace-b");
    let err = engine
        .state()
        .write(|tx| {
            lease(
                tx,
                &container(),
                &net,
                &EndpointConfig::default(),
                "eth0".into(),
            )
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    // A network of the same name made again is another network: the stale record gets nothing.
    network(&engine, "rmrace-b");
    let err = engine
        .state()
        .write(|tx| {
            lease(
                tx,
                &container(),
                &net,
                &EndpointConfig::default(),
                "eth0".into(),
            )
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}
