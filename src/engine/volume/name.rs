//! Volume names: the grammar docker's local driver accepts, and generated names for anonymous
//! volumes.

use rand::RngCore;

use crate::engine::error::{EngineError, Result};

/// Longest accepted name: one path component under `volumes/`.
const MAX_LEN: usize = 255;

/// Checks `name` against `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (at least two characters, as docker
/// requires) and the file-name length limit.
pub fn validate(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err(EngineError::InvalidInput(
            "volume name is empty; give a name such as `data` or leave it out for a generated one"
                .into(),
        ));
    };
    if name.contains('/') || name.starts_with('.') || name.starts_with('~') {
        return Err(EngineError::InvalidInput(format!(
            "invalid volume name {name:?}: a volume name cannot contain `/` or start with `.` or \
             `~`; to mount a host directory use an absolute path (e.g. /srv/data)"
        )));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(EngineError::InvalidInput(format!(
            "invalid volume name {name:?}: it must start with a letter or digit \
             (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]+)"
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(EngineError::InvalidInput(format!(
            "invalid volume name {name:?}: character {bad:?} is not allowed \
             (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]+)"
        )));
    }
    if name.len() < 2 {
        return Err(EngineError::InvalidInput(format!(
            "invalid volume name {name:?}: names need at least two characters"
        )));
    }
    if name.len() > MAX_LEN {
        return Err(EngineError::InvalidInput(format!(
            "invalid volume name: {} characters is longer than the {MAX_LEN} allowed",
            name.len()
        )));
    }
    Ok(())
}

/// A fresh random name of 64 lowercase hex digits, like docker's anonymous volumes.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_docker_grammar() {
        for ok in ["ab", "data", "my_vol.1-x", "0a", "A-B"] {
            validate(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        validate(&"a".repeat(255)).unwrap();
    }

    #[test]
    fn refuses_bad_names_with_reason() {
        let cases = [
            ("", "empty"),
            ("a", "at least two"),
            ("-ab", "start with"),
            ("_ab", "start with"),
            ("a b", "' '"),
            ("a:b", "':'"),
            ("./data", "absolute path"),
            ("data/x", "absolute path"),
            ("~/x", "absolute path"),
            ("é1", "start with"),
            ("aé", "'é'"),
        ];
        for (name, want) in cases {
            let err = validate(name).unwrap_err().to_string();
            assert!(err.contains(want), "{name:?}: {err}");
        }
        assert!(validate(&"a".repeat(256))
            .unwrap_err()
            .to_string()
            .contains("longer"));
    }

    #[test]
    fn generated_names_are_valid_and_distinct() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), 64);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
        validate(&a).unwrap();
    }
}
