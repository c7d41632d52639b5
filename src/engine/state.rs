//! The state database: one SQLite file (WAL) shared by every berth process.
//!
//! Every change runs in an exclusive transaction ([`StateStore::write`]), so concurrent CLI calls,
//! monitors and the TUI never lose an update. Each write bumps a generation counter that readers
//! (the TUI) can poll cheaply to learn that something changed.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::error::{EngineError, Result};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
    id              TEXT PRIMARY KEY,      -- config digest, sha256:...
    manifest_digest TEXT NOT NULL,         -- digest of the platform manifest
    repo_digests    TEXT NOT NULL,         -- JSON array of repo@digest
    record          TEXT NOT NULL,         -- JSON: config, layers, size, created, os, arch
    created         TEXT NOT NULL          -- when berth stored it (RFC 3339)
);
CREATE TABLE IF NOT EXISTS tags (
    name     TEXT PRIMARY KEY,             -- domain/path:tag
    image_id TEXT NOT NULL REFERENCES images(id)
);
CREATE INDEX IF NOT EXISTS tags_image ON tags(image_id);
CREATE TABLE IF NOT EXISTS containers (
    id       TEXT PRIMARY KEY,             -- 64 hex
    name     TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL,
    record   TEXT NOT NULL,                -- JSON: config, host config, state
    created  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS volumes (
    name    TEXT PRIMARY KEY,
    record  TEXT NOT NULL,                 -- JSON: labels, anonymous, driver
    created TEXT NOT NULL
);
INSERT OR IGNORE INTO meta(key, value) VALUES ('generation', '0');
"#;

/// Handle on `state.db`.
pub struct StateStore {
    conn: Mutex<Connection>,
}

impl StateStore {
    /// Opens (and creates or migrates) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)
            .map_err(|e| EngineError::State(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(Duration::from_secs(60))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Short-lived processes (every CLI call, every monitor) would otherwise checkpoint the
        // WAL into the database and fsync both when they close the last connection, and the
        // next writer would sync the restarted WAL's header: leave checkpoints to SQLite's
        // automatic one (every 1000 pages). Nothing is less durable: the WAL is the database.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        // Creating the schema is itself a write; serialise it like every other write.
        conn.execute_batch(&format!("BEGIN EXCLUSIVE; {SCHEMA} COMMIT;"))?;
        Ok(StateStore {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable: SQLite rolls back.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in an exclusive transaction and commits when it returns `Ok`; bumps the
    /// generation counter.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
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
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// A counter that grows with every committed write by any process.
    pub fn generation(&self) -> Result<u64> {
        let conn = self.lock();
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
