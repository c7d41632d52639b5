//! Signal names and numbers as Docker accepts them (`KILL`, `SIGKILL`, `9`).

use nix::sys::signal::Signal;

use crate::engine::error::{EngineError, Result};

/// Parses a signal given by name (with or without `SIG`, any case) or number.
pub fn parse(s: &str) -> Result<Signal> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| bad(s));
    }
    let upper = t.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>().map_err(|_| bad(s))
}

fn bad(s: &str) -> EngineError {
    EngineError::InvalidInput(format!(
        "invalid signal {s:?}: use a name like TERM or SIGKILL, or a number"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("KILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse("sigterm").unwrap(), Signal::SIGTERM);
        assert_eq!(parse("9").unwrap(), Signal::SIGKILL);
        assert!(parse("NOPE").is_err());
        assert!(parse("99").is_err());
    }
}
