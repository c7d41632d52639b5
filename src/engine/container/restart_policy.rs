//! `--restart no|on-failure[:N]|always|unless-stopped`: the policy, whether an exit restarts the
//! container, and docker's backoff (100 ms doubling up to a minute, back to 100 ms after the
//! container ran 10 s). The container's monitor applies it ([`crate::engine::monitor`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::error::{EngineError, Result};

/// Docker's `HostConfig.RestartPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicy {
    /// `no`, `always`, `on-failure` or `unless-stopped`.
    pub name: String,
    /// `on-failure:N`: at most N restarts (0: without a limit).
    pub maximum_retry_count: u32,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            name: "no".into(),
            maximum_retry_count: 0,
        }
    }
}

/// The first delay before a restart.
pub const FIRST_DELAY: Duration = Duration::from_millis(100);
/// The longest delay.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// A container that ran this long restarts after [`FIRST_DELAY`] again.
pub const RESET_AFTER: Duration = Duration::from_secs(10);

impl RestartPolicy {
    /// Parses `--restart`.
    pub fn parse(s: &str) -> Result<RestartPolicy> {
        let bad = |why: &str| {
            EngineError::InvalidInput(format!(
                "invalid restart policy {s:?}: {why}; use no, always, unless-stopped or \
                 on-failure[:max-retries]"
            ))
        };
        let (name, count) = match s.split_once(':') {
            Some((n, c)) => (n, Some(c)),
            None => (s, None),
        };
        let maximum_retry_count = match (name, count) {
            ("" | "no" | "always" | "unless-stopped", None) => 0,
            ("no" | "always" | "unless-stopped", Some(_)) => {
                return Err(bad("only on-failure takes a maximum retry count"))
            }
            ("on-failure", None) => 0,
            ("on-failure", Some(c)) => c
                .parse::<u32>()
                .map_err(|_| bad("the maximum retry count must be a whole number"))?,
            _ => return Err(bad("unknown policy")),
        };
        Ok(RestartPolicy {
            name: if name.is_empty() { "no" } else { name }.to_string(),
            maximum_retry_count,
        })
    }

    /// Whether the policy restarts at all.
    pub fn is_none(&self) -> bool {
        self.name == "no" || self.name.is_empty()
    }

    /// Whether an exit with `code` restarts the container that was restarted `restarts`
    /// times, unless a user stopped it (`stop`, `rm -f`: `manually_stopped`).
    pub fn restarts(&self, code: i32, restarts: u32, manually_stopped: bool) -> bool {
        if manually_stopped {
            return false;
        }
        match self.name.as_str() {
            "always" | "unless-stopped" => true,
            "on-failure" => {
                code != 0 && (self.maximum_retry_count == 0 || restarts < self.maximum_retry_count)
            }
            _ => false,
        }
    }

    /// Whether `system restore` starts the container after a reboot (it was not stopped by a
    /// user, or the policy is `always`).
    pub fn restores(&self, manually_stopped: bool) -> bool {
        match self.name.as_str() {
            "always" => true,
            "unless-stopped" => !manually_stopped,
            _ => false,
        }
    }
}

/// The delay before the next restart: doubled after each short run, from [`FIRST_DELAY`] up to
/// [`MAX_DELAY`]; [`FIRST_DELAY`] again after a run of [`RESET_AFTER`] or longer.
pub fn next_delay(previous: Option<Duration>, ran_for: Duration) -> Duration {
    match previous {
        Some(d) if ran_for < RESET_AFTER => (d * 2).min(MAX_DELAY),
        _ => FIRST_DELAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_as_docker_takes_them() {
        assert_eq!(
            RestartPolicy::parse("no").unwrap(),
            RestartPolicy::default()
        );
        assert_eq!(RestartPolicy::parse("always").unwrap().name, "always");
        let p = RestartPolicy::parse("on-failure:3").unwrap();
        assert_eq!((p.name.as_str(), p.maximum_retry_count), ("on-failure", 3));
        for bad in ["sometimes", "always:3", "on-failure:x", "on-failure:-1"] {
            let e = RestartPolicy::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad) && e.contains("unless-stopped"), "{e}");
        }
    }

    #[test]
    fn which_exits_restart() {
        let p = |s| RestartPolicy::parse(s).unwrap();
        assert!(!p("no").restarts(1, 0, false));
        assert!(p("always").restarts(0, 50, false));
        assert!(!p("always").restarts(0, 0, true));
        assert!(p("unless-stopped").restarts(137, 0, false));
        assert!(!p("on-failure").restarts(0, 0, false));
        assert!(p("on-failure").restarts(1, 99, false));
        assert!(p("on-failure:2").restarts(1, 1, false));
        assert!(!p("on-failure:2").restarts(1, 2, false));
        assert!(p("always").restores(true) && !p("unless-stopped").restores(true));
        assert!(p("unless-stopped").restores(false) && !p("on-failure").restores(false));
    }

    #[test]
    fn backoff_doubles_and_resets_after_a_long_run() {
        let short = Duration::from_secs(1);
        let mut d = next_delay(None, short);
        assert_eq!(d, FIRST_DELAY);
        d = next_delay(Some(d), short);
        assert_eq!(d, Duration::from_millis(200));
        d = next_delay(Some(d), short);
        assert_eq!(d, Duration::from_millis(400));
        assert_eq!(next_delay(Some(d), RESET_AFTER), FIRST_DELAY);
        assert_eq!(next_delay(Some(Duration::from_secs(50)), short), MAX_DELAY);
    }
}
