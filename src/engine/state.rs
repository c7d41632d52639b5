//! The state database: one SQLite file (WAL) shared by every berth process.
//!
//! Every change runs in an exclusive transaction ([`StateStore::write`]), so concurrent CLI calls,
//! monitors and the TUI never lose an update. Each write bumps a generation counter that readers
//! (the TUI) can poll cheaply to learn that something changed. The schema is versioned
//! ([`super::state_schema`]); a damaged or emptied file is reported before SQLite touches it
//! ([`super::state_file`]).
//!
//! A handle keeps a small pool of connections: each read or write takes one (opening another
//! when all are busy), so threads of one process (the TUI's blocking pool) read while another
//! writes, as WAL allows, instead of queueing on one connection. The SQL of each table lives in
//! its store type, over a transaction from here: `ContainerStore`, `ImageStore`, `VolumeStore`,
//! `NetworkStore`, `EventStore`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::error::{EngineError, ErrorKind, Result};
use super::{state_file, state_schema};

/// The WAL size past which an open checkpoints and empties it ([`StateStore::shrink_wal`]):
/// about 30 `create`s.
const WAL_LIMIT: u64 = 1 << 20;

/// Idle connections kept for reuse; more are opened while more threads use the database at once.
const POOL_IDLE: usize = 4;

/// Handle on `state.db`.
pub struct StateStore {
    idle: Mutex<Vec<Connection>>,
    path: PathBuf,
}

/// A connection taken from the pool, given back when dropped.
struct Pooled<'a> {
    conn: Option<Connection>,
    store: &'a StateStore,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a pooled connection is present until dropped")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("a pooled connection is present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut idle = self.store.idle_list();
            if idle.len() < POOL_IDLE {
                idle.push(conn);
            }
        }
    }
}

impl StateStore {
    /// Opens (and creates or migrates) the database at `path`. Refuses a damaged file, and an
    /// empty or missing one next to existing containers or volumes.
    pub fn open(path: &Path) -> Result<Self> {
        state_file::preflight(path)?;
        Self::open_unchecked(path)
    }

    /// Opens or creates the database without [`state_file::preflight`] (`system check
    /// --repair`, after it moved a damaged file aside).
    pub fn open_unchecked(path: &Path) -> Result<Self> {
        let damage = |e: rusqlite::Error| {
            if state_file::is_damage(&e) {
                state_file::damaged(path, &e.to_string())
            } else {
                EngineError::caused(
                    ErrorKind::State,
                    format!("state database: cannot open {}", path.display()),
                    e,
                )
            }
        };
        let conn = Self::connect(path).map_err(damage)?;
        // Turning a new database to WAL takes an exclusive lock without calling the busy
        // handler: when several processes open a fresh root at once (a `run` and the `logs`
        // polling it), the losers see SQLITE_BUSY at once. Wait for the winner instead.
        let started = std::time::Instant::now();
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && started.elapsed() < Duration::from_secs(60) =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                r => break r.map_err(damage)?,
            }
        }
        state_schema::migrate(&conn, path).map_err(|e| Self::named(path, e))?;
        Self::shrink_wal(&conn, path);
        Ok(StateStore {
            idle: Mutex::new(vec![conn]),
            path: path.to_path_buf(),
        })
    }

    /// Checkpoints and empties the WAL when it has grown past [`WAL_LIMIT`]. Why SQLite does
    /// not keep it short itself here: a process that opens the database while no other has it
    /// open rebuilds the shared WAL index by reading every frame of the WAL, and the rebuilt
    /// index counts none of them as copied into the database. SQLite starts a WAL over only at
    /// a write after a checkpoint that copied every frame, in the same run of the index, so
    /// with one or two writes per process (every CLI call) its automatic checkpoint (at 1000
    /// pages) copied the whole WAL into the database at every commit and the WAL never started
    /// over: `create` took twice as long after 300 of them, and every command read the whole
    /// WAL at open (4 ms at 9 MB). Emptying it at 1 MiB keeps both small. Never waits: when
    /// another process is reading or writing, a later open does it.
    fn shrink_wal(conn: &Connection, path: &Path) {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let big = std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_LIMIT);
        if big && conn.busy_timeout(Duration::ZERO).is_ok() {
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            let _ = conn.busy_timeout(Duration::from_secs(60));
        }
    }

    /// Opens one connection with the settings every connection has (the journal mode is the
    /// file's, set once by [`Self::open_unchecked`]).
    fn connect(path: &Path) -> rusqlite::Result<Connection> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(60))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Short-lived processes (every CLI call, every monitor) would otherwise checkpoint the
        // WAL into the database and fsync both when they close the last connection, and the
        // next writer would sync the restarted WAL's header: leave checkpoints to SQLite's
        // automatic one (every 1000 pages). Nothing is less durable: the WAL is the database.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        Ok(conn)
    }

    /// Closes the idle connections (their page caches and prepared statements), as a process
    /// that will not use the database for a long time does; the next use opens one again.
    pub fn close_idle(&self) {
        self.idle_list().clear();
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Turns SQLite's word for a damaged file into one naming the file and what to do.
    fn named(path: &Path, e: EngineError) -> EngineError {
        match e.find_cause::<rusqlite::Error>() {
            Some(sqlite) if state_file::is_damage(sqlite) => {
                state_file::damaged(path, &sqlite.to_string())
            }
            _ => e,
        }
    }

    fn idle_list(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // The list is only pushed to and popped from: a panic elsewhere leaves it consistent.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection, or a new one when every connection is in use. A transaction that a
    /// panic left open is rolled back when its `Transaction` drops, before the connection
    /// comes back.
    fn conn(&self) -> Result<Pooled<'_>> {
        let reused = self.idle_list().pop();
        let conn = match reused {
            Some(c) => c,
            None => Self::connect(&self.path).map_err(|e| {
                EngineError::caused(
                    ErrorKind::State,
                    format!("state database: cannot open {}", self.path.display()),
                    e,
                )
            })?,
        };
        Ok(Pooled {
            conn: Some(conn),
            store: self,
        })
    }

    /// Runs `f` in an exclusive transaction and commits when it returns `Ok`; bumps the
    /// generation counter.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.write_inner(f).map_err(|e| Self::named(&self.path, e))
    }

    fn write_inner<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        let out = f(&tx)?;
        tx.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'",
            [],
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in a read transaction (a consistent snapshot).
    pub fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.read_inner(f).map_err(|e| Self::named(&self.path, e))
    }

    fn read_inner<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// A counter that grows with every committed write by any process.
    pub fn generation(&self) -> Result<u64> {
        let conn = self.conn()?;
        let v: String =
            conn.query_row("SELECT value FROM meta WHERE key = 'generation'", [], |r| {
                r.get(0)
            })?;
        Ok(v.parse().unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
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
                let n: Result<i64> = s
                    .read(|tx| Ok(tx.query_row("SELECT COUNT(*) FROM volumes", [], |r| r.get(0))?));
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
}
