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
use std::sync::atomic::{AtomicBool, Ordering};
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

/// Page cache of each connection of a lean handle ([`StateStore::make_lean`]), in KiB.
const LEAN_CACHE_KIB: i64 = 256;

/// Handle on `state.db`.
pub struct StateStore {
    idle: Mutex<Vec<Connection>>,
    path: PathBuf,
    /// Set by [`StateStore::make_lean`].
    lean: AtomicBool,
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
            if self.store.lean.load(Ordering::Relaxed) {
                // Gives the page cache and the statements' memory back to the allocator.
                let _ = conn.execute_batch("PRAGMA shrink_memory");
            }
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
            lean: AtomicBool::new(false),
        })
    }

    /// For a long-lived process that reads now and then (the TUI): every connection keeps a
    /// page cache of [`LEAN_CACHE_KIB`] instead of SQLite's 2 MB, and gives its memory back
    /// whenever it returns to the pool. Each connection's cache filled up reading 1,000
    /// containers, and the pool keeps up to [`POOL_IDLE`] of them (heaptrack of the TUI on
    /// 1,000 containers: 8.8 MB of page caches). Another process's write empties a
    /// connection's cache anyway, so a long-lived reader gains little from keeping it, and the
    /// file's pages stay in the kernel's cache.
    pub fn make_lean(&self) {
        self.lean.store(true, Ordering::Relaxed);
        for conn in self.idle_list().iter() {
            let _ = Self::lean_cache(conn);
        }
    }

    fn lean_cache(conn: &Connection) -> rusqlite::Result<()> {
        conn.pragma_update(None, "cache_size", -LEAN_CACHE_KIB)?;
        conn.execute_batch("PRAGMA shrink_memory")
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
            None => {
                let open = |e| {
                    EngineError::caused(
                        ErrorKind::State,
                        format!("state database: cannot open {}", self.path.display()),
                        e,
                    )
                };
                let conn = Self::connect(&self.path).map_err(open)?;
                if self.lean.load(Ordering::Relaxed) {
                    Self::lean_cache(&conn).map_err(open)?;
                }
                conn
            }
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
#[path = "state_tests.rs"]
mod tests;
