//! The engine's error type: one enum whose variants are the kinds a caller can act on.

use std::path::Path;

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
    /// The container's command could not be run; `code` is Docker's (126 cannot invoke, 127 not
    /// found).
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

    /// The CLI exit code for this error (Docker's: 125 for engine errors).
    pub fn exit_code(&self) -> i32 {
        match self {
            EngineError::Command { code, .. } => *code,
            _ => 125,
        }
    }
}

impl From<rusqlite::Error> for EngineError {
    fn from(e: rusqlite::Error) -> Self {
        EngineError::State(e.to_string())
    }
}

impl From<serde_json::Error> for EngineError {
    fn from(e: serde_json::Error) -> Self {
        EngineError::State(format!("malformed record: {e}"))
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
