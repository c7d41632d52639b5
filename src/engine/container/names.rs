//! Container names: validation and Docker-style generated names (`adjective_noun`).

use rand::seq::SliceRandom;
use rusqlite::Transaction;

use super::store::ContainerStore;
use crate::engine::error::{EngineError, Result};

const ADJECTIVES: [&str; 40] = [
    "amber", "bold", "brave", "bright", "calm", "clever", "cosy", "crisp", "curious", "daring",
    "eager", "early", "fancy", "fond", "gentle", "glad", "golden", "happy", "hardy", "keen",
    "kind", "lively", "lucid", "merry", "misty", "nimble", "noble", "patient", "plucky", "proud",
    "quiet", "rapid", "rustic", "serene", "sharp", "steady", "sunny", "swift", "tidy", "witty",
];

const NOUNS: [&str; 40] = [
    "anchor",
    "badger",
    "beacon",
    "bollard",
    "breeze",
    "buoy",
    "cabin",
    "canal",
    "cargo",
    "compass",
    "crane",
    "dinghy",
    "dock",
    "ferry",
    "galley",
    "gull",
    "harbor",
    "hull",
    "island",
    "jetty",
    "keel",
    "lantern",
    "lighthouse",
    "mast",
    "mooring",
    "oar",
    "otter",
    "pier",
    "pilot",
    "quay",
    "reef",
    "rudder",
    "sail",
    "schooner",
    "skiff",
    "tide",
    "tugboat",
    "voyage",
    "wharf",
    "yacht",
];

/// Checks a user-given name (Docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`).
pub fn validate(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = name.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(EngineError::InvalidInput(format!(
            "invalid container name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at \
             least two characters"
        )))
    }
}

/// A free generated name (adds a number after many collisions).
pub fn generate(tx: &Transaction<'_>) -> Result<String> {
    let mut rng = rand::thread_rng();
    for attempt in 0..100 {
        let adj = ADJECTIVES.choose(&mut rng).copied().unwrap_or("quiet");
        let noun = NOUNS.choose(&mut rng).copied().unwrap_or("harbor");
        let name = if attempt < 10 {
            format!("{adj}_{noun}")
        } else {
            format!("{adj}_{noun}{}", attempt)
        };
        if !ContainerStore::of(tx).name_taken(&name)? {
            return Ok(name);
        }
    }
    Err(EngineError::Conflict(
        "cannot find a free container name: give one with --name".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(validate("web").is_ok());
        assert!(validate("a.b-c_d").is_ok());
        assert!(validate("-x").is_err());
        assert!(validate("x").is_err());
        assert!(validate("we b").is_err());
    }
}
