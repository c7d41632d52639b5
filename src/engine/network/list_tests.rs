//! `network ls` writes only to add the missing default network: a listing that changed nothing
//! must not move the state generation (the TUI reloads every list when it moves).

use super::list;
use crate::engine::Engine;

#[test]
fn listing_adds_the_default_network_once_then_only_reads() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    let before = engine.state().generation().unwrap();
    let first = list(&engine).unwrap();
    assert!(first.iter().any(|n| n.name == "bridge"), "{first:?}");
    let after_first = engine.state().generation().unwrap();
    assert!(after_first > before, "the default network was added");
    let second = list(&engine).unwrap();
    assert_eq!(second.len(), first.len());
    assert_eq!(
        engine.state().generation().unwrap(),
        after_first,
        "a listing that changed nothing moved the state generation"
    );
}
