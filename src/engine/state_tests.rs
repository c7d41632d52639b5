use super::*;

/// A WAL the automatic checkpoints could not start over (a reader of another connection
/// open at every commit) is emptied by the next open, with nothing lost.
#[test]
fn an_open_empties_a_wal_grown_past_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let wal = dir.path().join("state.db-wal");
    let store = StateStore::open(&path).unwrap();
    // A reader that holds its snapshot across the writes, as another process might.
    let reader = Connection::open(&path).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM meta;")
        .unwrap();
    let blob = "x".repeat(64 * 1024);
    let mut n = 0;
    while std::fs::metadata(&wal).map_or(0, |m| m.len()) <= WAL_LIMIT {
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    rusqlite::params![format!("filler-{n}"), blob],
                )?;
                Ok(())
            })
            .unwrap();
        n += 1;
        assert!(n < 1000, "the WAL never grew past the limit");
    }
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    drop(store);
    let store = StateStore::open(&path).unwrap();
    assert!(
        std::fs::metadata(&wal).map_or(0, |m| m.len()) < 1 << 20,
        "the WAL was not emptied"
    );
    let rows: i64 = store
        .read(|tx| {
            Ok(tx.query_row(
                "SELECT count(*) FROM meta WHERE key LIKE 'filler-%'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(rows, n);
}

#[test]
fn many_openers_of_a_fresh_database_all_succeed() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(12));
        let openers: Vec<_> = (0..12)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    StateStore::open(&path).map(|_| ())
                })
            })
            .collect();
        for o in openers {
            o.join()
                .unwrap()
                .expect("a concurrent open of a new database");
        }
    }
}

#[test]
fn writes_bump_generation_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let s = StateStore::open(&path).unwrap();
    let g0 = s.generation().unwrap();
    s.write(|tx| {
        tx.execute(
            "INSERT INTO volumes(name, record, created) VALUES ('v', '{}', 'now')",
            [],
        )?;
        Ok(())
    })
    .unwrap();
    assert_eq!(s.generation().unwrap(), g0 + 1);
    drop(s);
    let s = StateStore::open(&path).unwrap();
    let n: i64 = s
        .read(|tx| Ok(tx.query_row("SELECT COUNT(*) FROM volumes", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(n, 1);
}

/// A thread reads while another is inside a write transaction (WAL readers do not wait for
/// the writer), and a second writer waits for the first and then commits too.
#[test]
fn threads_read_and_write_at_once() {
    use std::sync::mpsc::channel;
    let dir = tempfile::tempdir().unwrap();
    let s = std::sync::Arc::new(StateStore::open(&dir.path().join("state.db")).unwrap());
    let g0 = s.generation().unwrap();
    let (in_tx, writing) = channel();
    let (release, go_on) = channel::<()>();
    let writer = {
        let s = s.clone();
        std::thread::spawn(move || {
            s.write(|tx| {
                tx.execute(
                    "INSERT INTO volumes(name, record, created) VALUES ('a', '{}', 'now')",
                    [],
                )?;
                in_tx.send(()).unwrap();
                go_on.recv().unwrap();
                Ok(())
            })
        })
    };
    writing.recv().unwrap();
    // The first write is open: a read answers now, from the snapshot before it.
    let (answer, read) = channel();
    let reader = {
        let s = s.clone();
        std::thread::spawn(move || {
            let n: Result<i64> =
                s.read(|tx| Ok(tx.query_row("SELECT COUNT(*) FROM volumes", [], |r| r.get(0))?));
            answer.send(n).unwrap();
        })
    };
    let n = read
        .recv_timeout(Duration::from_secs(10))
        .expect("a read while another thread writes must not wait for the writer");
    assert_eq!(n.unwrap(), 0);
    // A second writer starts while the first is open and commits after it.
    let second = {
        let s = s.clone();
        std::thread::spawn(move || {
            s.write(|tx| {
                tx.execute(
                    "INSERT INTO volumes(name, record, created) VALUES ('b', '{}', 'now')",
                    [],
                )?;
                Ok(())
            })
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    release.send(()).unwrap();
    writer.join().unwrap().expect("the first write");
    second.join().unwrap().expect("the second write");
    reader.join().unwrap();
    let n: i64 = s
        .read(|tx| Ok(tx.query_row("SELECT COUNT(*) FROM volumes", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(s.generation().unwrap(), g0 + 2);
}

#[test]
fn failed_write_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = StateStore::open(&dir.path().join("state.db")).unwrap();
    let r: Result<()> = s.write(|tx| {
        tx.execute(
            "INSERT INTO volumes(name, record, created) VALUES ('v', '{}', 'now')",
            [],
        )?;
        Err(EngineError::Conflict("stop".into()))
    });
    assert!(r.is_err());
    let n: i64 = s
        .read(|tx| Ok(tx.query_row("SELECT COUNT(*) FROM volumes", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(n, 0);
}

/// A lean handle's connections, the pooled one and one opened while it is busy, keep a small
/// page cache; a handle that is not lean keeps SQLite's.
#[test]
fn lean_connections_keep_small_caches() {
    let dir = tempfile::tempdir().unwrap();
    let s = StateStore::open(&dir.path().join("state.db")).unwrap();
    let cache = |tx: &Transaction<'_>| -> Result<i64> {
        Ok(tx.query_row("PRAGMA cache_size", [], |r| r.get(0))?)
    };
    assert_eq!(s.read(cache).unwrap(), -2000);
    s.make_lean();
    assert_eq!(s.read(cache).unwrap(), -LEAN_CACHE_KIB);
    let (outer, inner) = s.read(|tx| Ok((cache(tx)?, s.read(cache)?))).unwrap();
    assert_eq!((outer, inner), (-LEAN_CACHE_KIB, -LEAN_CACHE_KIB));
    let n: i64 = s
        .read(|tx| Ok(tx.query_row("SELECT COUNT(*) FROM meta", [], |r| r.get(0))?))
        .unwrap();
    assert!(n >= 1, "a lean connection reads as any other");
}
