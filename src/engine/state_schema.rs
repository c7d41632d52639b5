//! The versions of `state.db`'s schema. The version lives in SQLite's `PRAGMA user_version`;
//! [`MIGRATIONS`]`[n]` takes a database from version `n` to `n + 1`. Opening applies the
//! missing ones in one exclusive transaction, and refuses a database from a newer berth, whose
//! records this one could misread.

use std::path::Path;

use rusqlite::Connection;

use super::error::{EngineError, Result};

/// Version 1: the tables berth had before the schema was versioned (a database from then has
/// user_version 0 and these tables already; `IF NOT EXISTS` makes the step a no-op for it).
const V1: &str = r#"
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

/// Version 2: networks, the endpoints (address leases) of running containers, and the host
/// ports they publish.
const V2_NETWORKS: &str = r#"
CREATE TABLE IF NOT EXISTS networks (
    id      TEXT PRIMARY KEY,              -- 64 hex
    name    TEXT NOT NULL UNIQUE,
    record  TEXT NOT NULL,                 -- JSON: driver, subnet, gateway, options, labels
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS endpoints (
    container_id TEXT NOT NULL,
    network_id   TEXT NOT NULL,
    ip           TEXT NOT NULL,            -- the lease: unique within the network
    record       TEXT NOT NULL,            -- JSON: interface, mac, aliases, gateway
    PRIMARY KEY (container_id, network_id),
    UNIQUE (network_id, ip)
);
CREATE TABLE IF NOT EXISTS published_ports (
    container_id   TEXT NOT NULL,
    host_ip        TEXT NOT NULL,
    host_port      INTEGER NOT NULL,
    proto          TEXT NOT NULL,
    container_port INTEGER NOT NULL,
    PRIMARY KEY (container_id, host_ip, host_port, proto)
);
"#;

/// Version 3: the events journal (`engine::journal`), appended in the transaction of each
/// change and trimmed to its newest rows.
const V3_EVENTS: &str = r#"
CREATE TABLE IF NOT EXISTS events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    time_nano  INTEGER NOT NULL,           -- Unix time in nanoseconds
    type       TEXT NOT NULL,              -- container, image, volume, network
    action     TEXT NOT NULL,              -- create, start, die, ...
    actor_id   TEXT NOT NULL,              -- container or image id, volume name
    attributes TEXT NOT NULL               -- JSON object of strings
);
CREATE INDEX IF NOT EXISTS events_time ON events(time_nano);
"#;

/// Version 4: containers' health (docker's `State.Health`), written by the health checker of
/// each container with a health check, apart from the record so that no save of a record
/// overwrites a newer result.
const V4_HEALTH: &str = r#"
CREATE TABLE IF NOT EXISTS health (
    container_id TEXT PRIMARY KEY,         -- 64 hex
    state        TEXT NOT NULL             -- JSON: Status, FailingStreak, Log
);
"#;

/// Every migration, in order; append only.
pub const MIGRATIONS: &[&str] = &[V1, V2_NETWORKS, V3_EVENTS, V4_HEALTH];

/// The schema version this berth writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

fn refuse_newer(path: &Path, found: i64) -> EngineError {
    EngineError::State(format!(
        "{} has schema version {found}, written by a newer berth; this berth reads versions up \
         to {VERSION}: use the newer berth (or a backup of the database it replaced)",
        path.display()
    ))
}

/// Brings the database at `path` to [`VERSION`], or refuses a newer one.
pub fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let found = version(conn)?;
    if found == VERSION {
        return Ok(());
    }
    if found > VERSION {
        return Err(refuse_newer(path, found));
    }
    conn.execute_batch("BEGIN EXCLUSIVE")?;
    let applied = (|| {
        // Another process may have migrated it meanwhile.
        let found = version(conn)?;
        if found > VERSION {
            return Err(refuse_newer(path, found));
        }
        for step in &MIGRATIONS[found.max(0) as usize..] {
            conn.execute_batch(step)?;
        }
        conn.pragma_update(None, "user_version", VERSION)?;
        Ok(())
    })();
    match applied {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_unversioned_databases_migrate_and_newer_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(V1).unwrap();
        conn.execute("INSERT INTO volumes VALUES ('v', '{}', 'now')", [])
            .unwrap();
        migrate(&conn, &path).unwrap();
        assert_eq!(version(&conn).unwrap(), VERSION);
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM volumes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        // The later versions' tables exist and are empty.
        for table in [
            "networks",
            "endpoints",
            "published_ports",
            "events",
            "health",
        ] {
            let n: i64 = conn
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 0, "{table}");
        }
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        let e = migrate(&conn, &path).unwrap_err().to_string();
        assert!(
            e.contains("newer berth") && e.contains(&format!("up to {VERSION}")),
            "{e}"
        );
    }

    /// A database of version 1 (before networks and the journal) opens through the pooled
    /// handle, and its rows read through the stores; a write from a second thread works too.
    #[test]
    fn a_version_1_database_opens_and_reads_through_the_stores() {
        use crate::engine::state::StateStore;
        use crate::engine::volume::store::VolumeStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(V1).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO volumes VALUES ('data', '{\"driver\": \"local\"}', 'then')",
                [],
            )
            .unwrap();
        }
        let state = std::sync::Arc::new(StateStore::open(&path).unwrap());
        let volumes = state.read(|tx| VolumeStore::of(tx).list()).unwrap();
        assert_eq!(volumes.len(), 1);
        assert_eq!(
            (volumes[0].0.as_str(), volumes[0].2.as_str()),
            ("data", "then")
        );
        assert_eq!(volumes[0].1.driver, "local");
        let writer = {
            let state = state.clone();
            std::thread::spawn(move || state.write(|tx| VolumeStore::of(tx).delete("data")))
        };
        writer.join().unwrap().unwrap();
        assert!(state
            .read(|tx| VolumeStore::of(tx).list())
            .unwrap()
            .is_empty());
        let version: i64 = state
            .read(|tx| Ok(tx.query_row("PRAGMA user_version", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(version, VERSION);
    }
}
