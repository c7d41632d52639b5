//! How a probe's result moves a container's health (docker's rules), and when the next probe
//! runs. Pure: the checker process applies them, tests drive them with made-up times.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::config::Healthcheck;
use crate::engine::compat::health::{Health, HealthStatus, HealthcheckResult};

/// Docker keeps this many results.
pub const MAX_LOG: usize = 5;

/// The health of a container that has just started: `starting` with no failures; the results
/// of earlier runs stay in the log (as in docker).
pub fn started(previous: Option<Health>) -> Health {
    let mut h = previous.unwrap_or_default();
    h.status = HealthStatus::Starting;
    h.failing_streak = 0;
    h
}

/// Applies `result` to `h` for a container started at `started_at`. A failure while still
/// `starting` within the start period does not count; otherwise `retries` failures in a row
/// make it unhealthy and one success healthy. Returns whether the status changed.
pub fn apply(
    h: &mut Health,
    result: HealthcheckResult,
    hc: &Healthcheck,
    started_at: DateTime<Utc>,
) -> bool {
    let before = h.status;
    let success = result.exit_code == 0;
    let in_start_period = h.status == HealthStatus::Starting
        && (result.start - started_at)
            .to_std()
            .map(|since| since < hc.start_period())
            .unwrap_or(true);
    h.log.push(result);
    if h.log.len() > MAX_LOG {
        let drop = h.log.len() - MAX_LOG;
        h.log.drain(..drop);
    }
    if success {
        h.failing_streak = 0;
        h.status = HealthStatus::Healthy;
    } else if !in_start_period {
        h.failing_streak += 1;
        if h.failing_streak >= hc.retries() {
            h.status = HealthStatus::Unhealthy;
        }
    }
    h.status != before
}

/// How long to wait before the next probe (docker's schedule): the start interval while the
/// container is still `starting` inside its start period, the interval otherwise, and never past
/// the end of the start period.
pub fn next_wait(hc: &Healthcheck, status: HealthStatus, since_start: Duration) -> Duration {
    let interval = hc.interval();
    let period = hc.start_period();
    if since_start >= period {
        return interval;
    }
    let left = period - since_start;
    if left < interval {
        return left;
    }
    if status == HealthStatus::Starting {
        hc.start_interval()
    } else {
        interval
    }
}

/// Keeps at most `MAX_OUTPUT` bytes of a probe's output, marking a cut with `...`.
pub const MAX_OUTPUT: usize = 4096;

pub fn output_text(bytes: &[u8], truncated: bool) -> String {
    let mut s = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_OUTPUT)]).into_owned();
    if truncated || bytes.len() > MAX_OUTPUT {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(at: DateTime<Utc>, code: i64) -> HealthcheckResult {
        HealthcheckResult {
            start: at,
            end: at,
            exit_code: code,
            output: String::new(),
        }
    }

    fn hc(retries: i64, start_period_s: i64) -> Healthcheck {
        Healthcheck {
            test: vec!["CMD".into(), "true".into()],
            retries,
            start_period: start_period_s * 1_000_000_000,
            ..Default::default()
        }
    }

    #[test]
    fn starting_healthy_unhealthy_and_back() {
        let t0 = Utc::now();
        let s = chrono::TimeDelta::seconds;
        let hc = hc(2, 0);
        let mut h = started(None);
        assert_eq!(h.status, HealthStatus::Starting);
        assert!(apply(&mut h, result(t0 + s(1), 0), &hc, t0));
        assert_eq!(h.status, HealthStatus::Healthy);
        // One failure: still healthy, the streak counts.
        assert!(!apply(&mut h, result(t0 + s(2), 1), &hc, t0));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Healthy, 1));
        // The second in a row: unhealthy.
        assert!(apply(&mut h, result(t0 + s(3), 1), &hc, t0));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Unhealthy, 2));
        // One success: healthy again, streak reset.
        assert!(apply(&mut h, result(t0 + s(4), 0), &hc, t0));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Healthy, 0));
        // Only the last five results stay, oldest first.
        for i in 5..10 {
            apply(&mut h, result(t0 + s(i), 0), &hc, t0);
        }
        assert_eq!(h.log.len(), MAX_LOG);
        assert_eq!(h.log[0].start, t0 + s(5));
        // A new start: starting again, the log kept.
        let h = started(Some(h));
        assert_eq!(
            (h.status, h.failing_streak, h.log.len()),
            (HealthStatus::Starting, 0, 5)
        );
    }

    #[test]
    fn failures_in_the_start_period_do_not_count() {
        let t0 = Utc::now();
        let s = chrono::TimeDelta::seconds;
        let hc = hc(1, 10);
        let mut h = started(None);
        assert!(!apply(&mut h, result(t0 + s(3), 1), &hc, t0));
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Starting, 0));
        // After the period a failure counts (retries 1: unhealthy at once).
        assert!(apply(&mut h, result(t0 + s(11), 1), &hc, t0));
        assert_eq!(h.status, HealthStatus::Unhealthy);
    }

    #[test]
    fn the_schedule_follows_the_start_period() {
        let mut hc = hc(3, 60);
        hc.interval = 30_000_000_000;
        hc.start_interval = 2_000_000_000;
        let s = Duration::from_secs;
        assert_eq!(next_wait(&hc, HealthStatus::Starting, s(0)), s(2));
        // Healthy inside the period: the normal interval.
        assert_eq!(next_wait(&hc, HealthStatus::Healthy, s(0)), s(30));
        // Near the end of the period: never past it.
        assert_eq!(next_wait(&hc, HealthStatus::Healthy, s(50)), s(10));
        assert_eq!(next_wait(&hc, HealthStatus::Starting, s(70)), s(30));
        // No start period: the interval from the first probe on.
        assert_eq!(
            next_wait(&self::hc(3, 0), HealthStatus::Starting, s(0)),
            s(30)
        );
    }

    #[test]
    fn output_is_cut_at_4_kb() {
        let long = vec![b'x'; 5000];
        let out = output_text(&long, false);
        assert_eq!(out.len(), 4096 + 3);
        assert!(out.ends_with("..."));
        assert_eq!(output_text(b"ok\n", false), "ok\n");
    }
}
