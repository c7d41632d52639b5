//! Looking at `state.db` before SQLite does. An empty or missing database next to existing
//! containers or volumes means the records were lost, not that the root is new: starting afresh
//! would forget data that is still on disk. A file that is not a SQLite database, or one cut
//! short, is damaged; SQLite would treat an emptied file as a new database (and, while a monitor
//! holds the old one open, wait for its lock for a minute). Both are reported at once, naming
//! the file and `berth system check --repair`.

use std::io::Read;
use std::path::Path;

use super::error::{EngineError, Result};

/// What to tell the user to run.
pub const REPAIR_HINT: &str =
    "run `berth system check` to see what is on disk and `berth system check --repair` to move \
     the damaged database aside and rebuild the records of volumes from disk";

/// The error for a damaged database at `path`.
pub fn damaged(path: &Path, why: &str) -> EngineError {
    EngineError::State(format!(
        "{} is damaged ({why}): {REPAIR_HINT}",
        path.display()
    ))
}

/// Whether a SQLite error says the file is damaged (rather than busy or missing).
pub fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

fn non_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
}

/// Checks the file at `path` (in an engine root) before it is opened.
pub fn preflight(path: &Path) -> Result<()> {
    let root = path.parent().unwrap_or(Path::new("."));
    let len = match std::fs::metadata(path) {
        Ok(m) => Some(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(EngineError::io_path("cannot read", path, e)),
    };
    if len.unwrap_or(0) == 0 {
        let held: Vec<&str> = ["containers", "volumes"]
            .into_iter()
            .filter(|d| non_empty_dir(&root.join(d)))
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        return Err(EngineError::State(format!(
            "{} is {} but {} under {} still hold data; berth will not start afresh and forget \
             them: {REPAIR_HINT}",
            path.display(),
            if len.is_some() { "empty" } else { "missing" },
            held.join(" and "),
            root.display()
        )));
    }
    let mut header = [0u8; 100];
    let mut file =
        std::fs::File::open(path).map_err(|e| EngineError::io_path("cannot open", path, e))?;
    if file.read_exact(&mut header).is_err() {
        return Err(damaged(path, "shorter than a database header"));
    }
    if &header[..16] != b"SQLite format 3\0" {
        return Err(damaged(path, "not a SQLite database"));
    }
    let page = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    if page < 512 || !page.is_power_of_two() {
        return Err(damaged(path, "invalid page size in the header"));
    }
    if len.unwrap_or(0) % page != 0 {
        return Err(damaged(path, "cut short in the middle of a page"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_database_next_to_data_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        preflight(&db).unwrap();
        std::fs::create_dir_all(dir.path().join("volumes/v")).unwrap();
        let e = preflight(&db).unwrap_err().to_string();
        assert!(e.contains("missing") && e.contains("--repair"), "{e}");
        std::fs::write(&db, "").unwrap();
        assert!(preflight(&db).unwrap_err().to_string().contains("empty"));
        std::fs::write(&db, "garbage that is not a database at all").unwrap();
        let e = preflight(&db).unwrap_err().to_string();
        assert!(e.contains("is damaged"), "{e}");
    }
}
