//! A container's health check as configured: docker's `Config.Healthcheck` (from the image's
//! `HEALTHCHECK`, with `--health-*` on `create`/`run` applied field by field, or switched off by
//! `--no-healthcheck`), its defaults and docker's checks of the values.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::error::{EngineError, Result};

/// Docker's defaults (a zero field means the default).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_RETRIES: i64 = 3;
/// The shortest duration docker accepts for a non-zero interval, timeout or period.
const MINIMUM: i64 = 1_000_000;

/// Docker's `HealthConfig`: durations in nanoseconds, 0 (absent) for the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    /// `[]` (inherit), `["NONE"]`, `["CMD", args...]` or `["CMD-SHELL", command]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// What the probe runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// `CMD`: the arguments as they are.
    Exec(Vec<String>),
    /// `CMD-SHELL`: the command through the container's shell (`/bin/sh -c` unless `SHELL`).
    Shell(String),
}

impl Healthcheck {
    /// The probe, or `None` when the check is off (`NONE`, no test, an unknown kind).
    pub fn probe(&self) -> Option<Probe> {
        match self.test.first().map(String::as_str) {
            Some("CMD") if self.test.len() > 1 => Some(Probe::Exec(self.test[1..].to_vec())),
            Some("CMD-SHELL") if self.test.len() > 1 => {
                Some(Probe::Shell(self.test[1..].join(" ")))
            }
            _ => None,
        }
    }

    pub fn interval(&self) -> Duration {
        or_default(self.interval, DEFAULT_INTERVAL)
    }

    pub fn timeout(&self) -> Duration {
        or_default(self.timeout, DEFAULT_TIMEOUT)
    }

    pub fn start_period(&self) -> Duration {
        or_default(self.start_period, Duration::ZERO)
    }

    pub fn start_interval(&self) -> Duration {
        or_default(self.start_interval, DEFAULT_START_INTERVAL)
    }

    /// Failures in a row that make the container unhealthy.
    pub fn retries(&self) -> i64 {
        if self.retries <= 0 {
            DEFAULT_RETRIES
        } else {
            self.retries
        }
    }

    /// Docker's checks of a container's health config (the daemon's messages).
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("StartInterval", self.start_interval),
        ] {
            if v != 0 && v < MINIMUM {
                return Err(EngineError::InvalidInput(format!(
                    "{name} in Healthcheck cannot be less than 1ms: give a longer duration (e.g. \
                     500ms, 5s), or 0 for the default"
                )));
            }
        }
        if self.retries < 0 {
            return Err(EngineError::InvalidInput(
                "Retries in Healthcheck cannot be negative: give 0 for the default (3) or more"
                    .into(),
            ));
        }
        match self.test.first().map(String::as_str) {
            None | Some("NONE") => Ok(()),
            Some("CMD" | "CMD-SHELL") if self.test.len() > 1 => Ok(()),
            Some(kind @ ("CMD" | "CMD-SHELL")) => Err(EngineError::InvalidInput(format!(
                "the health check {kind} has no command: give one (--health-cmd CMD)"
            ))),
            Some(other) => Err(EngineError::InvalidInput(format!(
                "unknown health check type {other:?}: use CMD, CMD-SHELL or NONE"
            ))),
        }
    }
}

fn or_default(ns: i64, default: Duration) -> Duration {
    if ns <= 0 {
        default
    } else {
        Duration::from_nanos(ns as u64)
    }
}

/// `--health-*` and `--no-healthcheck` as given (durations in nanoseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthOptions {
    pub cmd: Option<String>,
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub start_period: Option<i64>,
    pub start_interval: Option<i64>,
    pub retries: Option<i64>,
    pub none: bool,
}

impl HealthOptions {
    fn any_setting(&self) -> bool {
        self.cmd.is_some()
            || self.interval.is_some()
            || self.timeout.is_some()
            || self.start_period.is_some()
            || self.start_interval.is_some()
            || self.retries.is_some()
    }

    /// The container's health config from these options over the image's (`image`: its
    /// `Healthcheck` as stored). Docker's rules: `--no-healthcheck` alone gives `NONE`; any
    /// `--health-*` makes a config whose empty fields the image fills; none keeps the image's.
    pub fn resolve(&self, image: Option<&serde_json::Value>) -> Result<Option<Healthcheck>> {
        if self.none && self.any_setting() {
            return Err(EngineError::InvalidInput(
                "--no-healthcheck conflicts with --health-* options: give one or the other".into(),
            ));
        }
        for (flag, v) in [
            ("--health-interval", self.interval),
            ("--health-timeout", self.timeout),
            ("--health-start-period", self.start_period),
            ("--health-start-interval", self.start_interval),
            ("--health-retries", self.retries),
        ] {
            if v.is_some_and(|v| v < 0) {
                return Err(EngineError::InvalidInput(format!(
                    "{flag} cannot be negative"
                )));
            }
        }
        if self.none {
            return Ok(Some(Healthcheck {
                test: vec!["NONE".into()],
                ..Default::default()
            }));
        }
        let image = match image.filter(|v| !v.is_null()) {
            Some(v) => Some(
                serde_json::from_value::<Healthcheck>(v.clone()).map_err(|e| {
                    EngineError::InvalidInput(format!(
                    "the image's HEALTHCHECK cannot be read ({e}): override it with --health-cmd \
                     or turn it off with --no-healthcheck"
                ))
                })?,
            ),
            None => None,
        };
        if !self.any_setting() {
            if let Some(hc) = &image {
                hc.validate()?;
            }
            return Ok(image);
        }
        let mut hc = Healthcheck {
            test: self
                .cmd
                .as_ref()
                .map(|c| vec!["CMD-SHELL".to_string(), c.clone()])
                .unwrap_or_default(),
            interval: self.interval.unwrap_or(0),
            timeout: self.timeout.unwrap_or(0),
            start_period: self.start_period.unwrap_or(0),
            start_interval: self.start_interval.unwrap_or(0),
            retries: self.retries.unwrap_or(0),
        };
        if let Some(img) = image {
            if hc.test.is_empty() {
                hc.test = img.test;
            }
            let fill = |mine: &mut i64, theirs: i64| {
                if *mine == 0 {
                    *mine = theirs;
                }
            };
            fill(&mut hc.interval, img.interval);
            fill(&mut hc.timeout, img.timeout);
            fill(&mut hc.start_period, img.start_period);
            fill(&mut hc.start_interval, img.start_interval);
            fill(&mut hc.retries, img.retries);
        }
        hc.validate()?;
        Ok(Some(hc))
    }
}

/// Parses a `--health-*` duration in Go's syntax (`30s`, `1m30s`, `500ms`, `-1s`) to
/// nanoseconds.
pub fn parse_duration(flag: &str, s: &str) -> Result<i64> {
    let (negative, body) = match s.trim().strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.trim()),
    };
    let ns = crate::engine::build::config_ops::duration_ns(body)
        .filter(|_| !body.is_empty())
        .and_then(|n| i64::try_from(n).ok())
        .ok_or_else(|| {
            EngineError::InvalidInput(format!(
                "invalid {flag} {s:?}: give a duration such as 30s, 1m30s or 500ms"
            ))
        })?;
    Ok(if negative { -ns } else { ns })
}

/// A duration as Go prints it (`30s`, `1m0s`, `1.5s`, `500ms`), for docker's messages.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    let frac = |value: u128, unit: u128, suffix: &str| {
        let whole = value / unit;
        let rest = value % unit;
        if rest == 0 {
            format!("{whole}{suffix}")
        } else {
            let digits = unit.ilog10() as usize;
            let f = format!("{rest:0digits$}");
            format!("{whole}.{}{suffix}", f.trim_end_matches('0'))
        }
    };
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return frac(ns, 1_000, "µs");
    }
    if ns < 1_000_000_000 {
        return frac(ns, 1_000_000, "ms");
    }
    let secs_ns = ns % 60_000_000_000;
    let minutes = ns / 60_000_000_000;
    let s = frac(secs_ns, 1_000_000_000, "s");
    match (minutes / 60, minutes % 60) {
        (0, 0) => s,
        (0, m) => format!("{m}m{s}"),
        (h, m) => format!("{h}h{m}m{s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts() -> HealthOptions {
        HealthOptions::default()
    }

    #[test]
    fn flags_fill_in_over_the_image_field_by_field() {
        let image = json!({"Test": ["CMD", "true"], "Interval": 5_000_000_000i64, "Retries": 2});
        // Nothing given: the image's.
        let hc = opts().resolve(Some(&image)).unwrap().unwrap();
        assert_eq!(hc.test, ["CMD", "true"]);
        assert_eq!(hc.interval(), Duration::from_secs(5));
        // One flag: the rest from the image.
        let o = HealthOptions {
            timeout: Some(2_000_000_000),
            ..opts()
        };
        let hc = o.resolve(Some(&image)).unwrap().unwrap();
        assert_eq!(
            (hc.timeout, hc.retries, hc.interval),
            (2_000_000_000, 2, 5_000_000_000)
        );
        assert_eq!(hc.probe(), Some(Probe::Exec(vec!["true".into()])));
        // A command replaces the image's test.
        let o = HealthOptions {
            cmd: Some("wget -q localhost".into()),
            ..opts()
        };
        let hc = o.resolve(Some(&image)).unwrap().unwrap();
        assert_eq!(hc.probe(), Some(Probe::Shell("wget -q localhost".into())));
        // No image check, no flags: none.
        assert_eq!(opts().resolve(None).unwrap(), None);
    }

    #[test]
    fn no_healthcheck_turns_it_off_and_conflicts_with_settings() {
        let o = HealthOptions {
            none: true,
            ..opts()
        };
        let hc = o
            .resolve(Some(&json!({"Test": ["CMD", "true"]})))
            .unwrap()
            .unwrap();
        assert_eq!(hc.test, ["NONE"]);
        assert_eq!(hc.probe(), None);
        let o = HealthOptions {
            none: true,
            retries: Some(1),
            ..opts()
        };
        let e = o.resolve(None).unwrap_err().to_string();
        assert!(e.contains("conflicts"), "{e}");
    }

    #[test]
    fn bad_values_are_refused_with_docker_words() {
        let o = HealthOptions {
            interval: Some(-1),
            ..opts()
        };
        assert!(o
            .resolve(None)
            .unwrap_err()
            .to_string()
            .contains("--health-interval cannot be negative"));
        let o = HealthOptions {
            cmd: Some("true".into()),
            timeout: Some(10),
            ..opts()
        };
        let e = o.resolve(None).unwrap_err().to_string();
        assert!(
            e.contains("Timeout in Healthcheck cannot be less than 1ms"),
            "{e}"
        );
        let bad_image = json!({"Test": "not a list"});
        let e = opts().resolve(Some(&bad_image)).unwrap_err().to_string();
        assert!(e.contains("--no-healthcheck"), "{e}");
        assert!(parse_duration("--health-interval", "soon").is_err());
        assert_eq!(
            parse_duration("--health-interval", "1m30s").unwrap(),
            90_000_000_000
        );
        assert_eq!(
            parse_duration("--health-interval", "-1s").unwrap(),
            -1_000_000_000
        );
    }

    #[test]
    fn durations_print_like_go() {
        let ms = Duration::from_millis;
        assert_eq!(go_duration(ms(30_000)), "30s");
        assert_eq!(go_duration(ms(60_000)), "1m0s");
        assert_eq!(go_duration(ms(1_500)), "1.5s");
        assert_eq!(go_duration(ms(500)), "500ms");
        assert_eq!(go_duration(ms(3_723_000)), "1h2m3s");
        assert_eq!(go_duration(Duration::ZERO), "0s");
    }
}
