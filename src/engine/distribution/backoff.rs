//! How often and how patiently registry calls are retried: shared by the registry client, the
//! plain-HTTP probe and blob downloads.

use std::time::Duration;

/// Attempts a registry call or a download makes before giving up.
pub const ATTEMPTS: u32 = 4;

/// The wait before the second attempt; it doubles with every further one.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Backoff before retry number `attempt` (1-based).
pub fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1).min(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_stops_growing() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(6), Duration::from_millis(8000));
        assert_eq!(backoff(60), Duration::from_millis(8000));
    }
}
