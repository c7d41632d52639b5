//! The engine's error type: one enum whose variants are the kinds a caller can act on, each
//! keeping the lower error that caused it where there is one.
//!
//! Callers decide by [`EngineError::kind`], never by the text. The text of an `EngineError`
//! (its `Display`) is complete for a user: it already ends with its causes, so a printer stops
//! at the first `EngineError` of a chain ([`EngineError::source`] is for walks that look for a
//! typed cause, e.g. an `io::Error`'s errno or SQLite's code).

use std::error::Error as StdError;
use std::fmt;
use std::path::Path;

/// Any lower error kept as a cause.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Every engine failure. The message always names what failed and, where it helps, what to do.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A reference, flag or argument the user gave is malformed.
    #[error("{0}")]
    InvalidInput(String),
    /// The named image, container, volume or manifest does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A name is taken, or an object is in use.
    #[error("{0}")]
    Conflict(String),
    /// The object exists but its state forbids the operation (e.g. removing a running container).
    #[error("{0}")]
    InvalidState(String),
    /// The registry refused our credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Content did not match its digest or size.
    #[error("{0}")]
    Digest(String),
    /// The registry could not be reached or answered something we cannot use.
    #[error("{0}")]
    Registry(String),
    /// A layer archive is hostile or malformed.
    #[error("{0}")]
    Layer(String),
    /// Creating or running a container failed.
    #[error("{0}")]
    Runtime(String),
    /// The operation stopped because it was asked to (another part of it failed, or the caller
    /// gave up); the failure that caused it is reported elsewhere.
    #[error("{0}")]
    Cancelled(String),
    /// The container's command exists but cannot be run (a directory, no execute permission):
    /// Docker's exit code 126.
    #[error("{0}")]
    NotExecutable(String),
    /// The container's command does not exist: Docker's exit code 127.
    #[error("{0}")]
    CommandNotFound(String),
    /// The container's command could not be run; `code` is Docker's (126 cannot invoke, 127 not
    /// found). Kept for callers that have only the code; new code uses [`EngineError::command`].
    #[error("{message}")]
    Command { message: String, code: i32 },
    /// The state database failed.
    #[error("state database: {0}")]
    State(String),
    /// A filesystem or system call failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A failure of kind `kind` caused by a lower error (libcontainer's, SQLite's, the
    /// registry client's, ...): shows as `message: cause: cause's cause`, leaving out a cause
    /// whose text the message already holds.
    #[error("{}", with_causes(message, source.as_ref()))]
    Caused {
        kind: ErrorKind,
        message: String,
        #[source]
        source: BoxError,
    },
}

/// What kind of failure an [`EngineError`] is: what the CLI and the TUI decide by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InvalidInput,
    NotFound,
    Conflict,
    InvalidState,
    Unauthorized,
    Digest,
    Registry,
    Layer,
    Runtime,
    Cancelled,
    NotExecutable,
    CommandNotFound,
    State,
    Io,
}

/// Shorthand for engine results.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        EngineError::Io {
            context: context.into(),
            source,
        }
    }

    /// Wraps an I/O error that happened on `path` while doing `what`.
    pub fn io_path(what: &str, path: &Path, source: std::io::Error) -> Self {
        EngineError::Io {
            context: format!("{what} {}", path.display()),
            source,
        }
    }

    /// A failure of kind `kind`, described by `message`, caused by `source` (kept for walks).
    pub fn caused(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        EngineError::Caused {
            kind,
            message: message.into(),
            source: source.into(),
        }
    }

    /// A command that cannot be run, by Docker's exit code: 127 is [`ErrorKind::CommandNotFound`],
    /// 126 [`ErrorKind::NotExecutable`], anything else a [`ErrorKind::Runtime`] failure.
    pub fn command(code: i32, message: String) -> Self {
        match code {
            127 => EngineError::CommandNotFound(message),
            126 => EngineError::NotExecutable(message),
            _ => EngineError::Runtime(message),
        }
    }

    /// The kind of failure, whatever variant carries it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::InvalidInput(_) => ErrorKind::InvalidInput,
            EngineError::NotFound(_) => ErrorKind::NotFound,
            EngineError::Conflict(_) => ErrorKind::Conflict,
            EngineError::InvalidState(_) => ErrorKind::InvalidState,
            EngineError::Unauthorized(_) => ErrorKind::Unauthorized,
            EngineError::Digest(_) => ErrorKind::Digest,
            EngineError::Registry(_) => ErrorKind::Registry,
            EngineError::Layer(_) => ErrorKind::Layer,
            EngineError::Runtime(_) => ErrorKind::Runtime,
            EngineError::Cancelled(_) => ErrorKind::Cancelled,
            EngineError::NotExecutable(_) => ErrorKind::NotExecutable,
            EngineError::CommandNotFound(_) => ErrorKind::CommandNotFound,
            EngineError::Command { code: 127, .. } => ErrorKind::CommandNotFound,
            EngineError::Command { code: 126, .. } => ErrorKind::NotExecutable,
            EngineError::Command { .. } => ErrorKind::Runtime,
            EngineError::State(_) => ErrorKind::State,
            EngineError::Io { .. } => ErrorKind::Io,
            EngineError::Caused { kind, .. } => *kind,
        }
    }

    /// Whether this is a failure of kind `kind`.
    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind() == kind
    }

    /// The first cause of type `E` in this error's chain (e.g. the `io::Error` behind an
    /// [`EngineError::Io`], SQLite's error behind a state failure).
    pub fn find_cause<E: StdError + 'static>(&self) -> Option<&E> {
        StdError::source(self)
            .into_iter()
            .flat_map(causes)
            .find_map(|c| c.downcast_ref::<E>())
    }

    /// The CLI exit code for this error (Docker's: 125 for engine errors, 126 when the command
    /// cannot be invoked, 127 when it does not exist).
    pub fn exit_code(&self) -> i32 {
        match self.kind() {
            ErrorKind::NotExecutable => 126,
            ErrorKind::CommandNotFound => 127,
            _ => 125,
        }
    }
}

/// `e` and every error below it. Unlike walking [`StdError::source`], this looks inside an
/// `io::Error` that wraps another error (its `source` skips the wrapped error itself), which is
/// how hyper hands up a TLS failure.
pub fn causes<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |cur: &&'a (dyn StdError + 'static)| {
        let cur: &'a (dyn StdError + 'static) = *cur;
        match cur
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => cur.source(),
        }
    })
}

/// An error and all its causes, joined with ": ", leaving out a cause whose text an outer
/// message already contains (many wrappers repeat their source).
pub fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `message` followed by the causes from `source` on that it does not already hold.
fn with_causes(message: &str, source: &(dyn StdError + 'static)) -> String {
    let mut out = message.to_string();
    let mut cur = Some(source);
    while let Some(s) = cur {
        let text = s.to_string();
        if !text.is_empty() && !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

/// Writes `e` for a user: every message down to and including the first [`EngineError`] (whose
/// text already ends with its own causes), then nothing more. For the CLI's anyhow chains.
pub fn render(e: &(dyn StdError + 'static), f: &mut impl fmt::Write) -> fmt::Result {
    let mut cur = Some(e);
    let mut first = true;
    while let Some(err) = cur {
        if !first {
            f.write_str(": ")?;
        }
        first = false;
        write!(f, "{err}")?;
        if err.downcast_ref::<EngineError>().is_some() {
            break;
        }
        cur = err.source();
    }
    Ok(())
}

impl From<rusqlite::Error> for EngineError {
    fn from(e: rusqlite::Error) -> Self {
        EngineError::caused(ErrorKind::State, "state database", e)
    }
}

impl From<serde_json::Error> for EngineError {
    fn from(e: serde_json::Error) -> Self {
        EngineError::caused(ErrorKind::State, "state database: malformed record", e)
    }
}

/// Adds path context to `std::io::Result`s.
pub trait IoContext<T> {
    /// Maps the error to [`EngineError::Io`] naming `what` and `path`.
    fn ctx(self, what: &str, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, what: &str, path: &Path) -> Result<T> {
        self.map_err(|e| EngineError::io_path(what, path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_survive_wrapping_and_causes_are_walkable() {
        let io = std::io::Error::from_raw_os_error(libc::ENOENT);
        let e = EngineError::caused(ErrorKind::Runtime, "failed to unix syscall", io);
        assert_eq!(e.kind(), ErrorKind::Runtime);
        assert_eq!(
            e.find_cause::<std::io::Error>()
                .and_then(|e| e.raw_os_error()),
            Some(libc::ENOENT)
        );
        let text = e.to_string();
        assert!(
            text.starts_with("failed to unix syscall: No such file or directory"),
            "{text}"
        );
        assert_eq!(
            EngineError::NotFound("x".into()).kind(),
            ErrorKind::NotFound
        );
        assert!(EngineError::Cancelled("x".into()).is(ErrorKind::Cancelled));
    }

    #[test]
    fn command_kinds_carry_dockers_exit_codes() {
        assert_eq!(EngineError::command(127, "x".into()).exit_code(), 127);
        assert_eq!(EngineError::command(126, "x".into()).exit_code(), 126);
        assert_eq!(EngineError::command(1, "x".into()).exit_code(), 125);
        assert!(EngineError::command(127, "x".into()).is(ErrorKind::CommandNotFound));
        let legacy = EngineError::Command {
            message: "x".into(),
            code: 126,
        };
        assert_eq!(legacy.kind(), ErrorKind::NotExecutable);
        assert_eq!(legacy.exit_code(), 126);
        assert_eq!(EngineError::Runtime("x".into()).exit_code(), 125);
    }

    #[test]
    fn rendering_stops_at_the_engine_error_so_causes_show_once() {
        let io = std::io::Error::from_raw_os_error(libc::ENOTDIR);
        let e = anyhow::Error::from(EngineError::io("cannot create /x", io)).context("ps");
        let mut out = String::new();
        render(e.as_ref(), &mut out).unwrap();
        assert_eq!(out, "ps: cannot create /x: Not a directory (os error 20)");
    }

    #[test]
    fn sqlite_errors_keep_their_code() {
        let err = rusqlite::Connection::open_in_memory()
            .unwrap()
            .execute("select * from nope", [])
            .unwrap_err();
        let e = EngineError::from(err);
        assert!(e.is(ErrorKind::State));
        assert!(e.find_cause::<rusqlite::Error>().is_some());
        assert!(
            e.to_string().starts_with("state database: no such table"),
            "{e}"
        );
    }
}
