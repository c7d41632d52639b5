//! `network rm` against a lease taken at the same time: the check for leases and the deletion
//! are one transaction, and a lease is only taken on a network that still exists, so either the
//! lease comes first (the removal is refused) or the network is gone (the lease is refused).

use std::sync::Arc;

use super::attach::lease;
use super::ops::{self, CreateNetwork};
use super::record::{EndpointConfig, NetworkRecord};
use super::store::NetworkStore;
use crate::engine::container::record::{ContainerRecord, Status};
use crate::engine::error::{ErrorKind, Result};
use crate::engine::syscall::fake::RecordingSyscall;
use crate::engine::Engine;

fn open_engine(dir: &tempfile::TempDir) -> Engine {
    Engine::open_with(dir.path(), Arc::new(RecordingSyscall::default())).unwrap()
}

fn network(engine: &Engine, name: &str) -> NetworkRecord {
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

/// Takes a lease on `net` for a container, as a start or `network connect` does.
fn lease_on(engine: &Engine, net: &NetworkRecord) -> Result<()> {
    let rec = ContainerRecord::for_tests(&"ab".repeat(32), "app", Status::Created);
    engine.state().write(|tx| {
        let ep = lease(tx, &rec, net, &EndpointConfig::default(), "eth0".into())?;
        NetworkStore::of(tx).put_endpoint(&ep)
    })
}

#[test]
fn a_lease_taken_first_refuses_the_removal() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(&dir);
    let net = network(&engine, "rmrace-a");
    lease_on(&engine, &net).unwrap();
    let err = ops::remove(&engine, "rmrace-a").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("active endpoints"), "{err}");
}

#[test]
fn a_removed_network_gives_no_lease() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(&dir);
    // Read before the removal, as `network connect` reads it before leasing.
    let net = network(&engine, "rmrace-b");
    assert_eq!(ops::remove(&engine, "rmrace-b").unwrap(), "rmrace-b");
    let err = lease_on(&engine, &net).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    // A network of the same name made again is another network: the stale record gets nothing.
    network(&engine, "rmrace-b");
    let err = lease_on(&engine, &net).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}
