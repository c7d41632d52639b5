//! `--log-driver` and `--log-opt`: Docker's `HostConfig.LogConfig` (`{"Type", "Config"}`), checked
//! with docker's messages, and the policy the monitor's writer follows.
//!
//! Drivers: `json-file` (docker's options `max-size`, `max-file`, `compress`), `local` (the
//! same options with docker's `local` defaults, 20m x 5, compressed; berth keeps its json-lines
//! format on disk for it) and `none` (nothing is written; `logs` cannot read). Unlike docker,
//! whose json-file default is unbounded, berth caps every log: without `max-size`/`max-file`,
//! json-file keeps 5 files of 20m like `local`, and the values used are recorded in `Config`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::error::{EngineError, Result};

/// The default size of one log file (docker's `local` driver: 20m).
pub const DEFAULT_MAX_SIZE: &str = "20m";
/// The default number of log files (docker's `local` driver: 5).
pub const DEFAULT_MAX_FILE: &str = "5";

/// Docker's `HostConfig.LogConfig`, as recorded with the container (defaults filled in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub driver: String,
    #[serde(rename = "Config", default)]
    pub config: BTreeMap<String, String>,
}

impl Default for LogConfig {
    /// A container recorded before log options existed: json-file with berth's cap.
    fn default() -> Self {
        LogConfig::parse(None, &[]).unwrap_or(LogConfig {
            driver: "json-file".into(),
            config: BTreeMap::new(),
        })
    }
}

/// Which writer the monitor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDriver {
    JsonFile,
    Local,
    None,
}

/// What the monitor's writer does: rotate at `max_size` bytes, keep `max_file` files
/// (the current one included), gzip the rotated ones with `compress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPolicy {
    pub driver: LogDriver,
    pub max_size: u64,
    pub max_file: u32,
    pub compress: bool,
}

impl LogPolicy {
    /// A policy that never rotates (for tests and tools).
    pub fn unbounded() -> LogPolicy {
        LogPolicy {
            driver: LogDriver::JsonFile,
            max_size: u64::MAX,
            max_file: 1,
            compress: false,
        }
    }

    /// Whether `logs` can read what this driver writes.
    pub fn readable(&self) -> bool {
        self.driver != LogDriver::None
    }
}

/// The error `logs` gives for a container whose driver writes nothing (docker's words).
pub fn not_readable() -> EngineError {
    EngineError::InvalidState(
        "configured logging driver does not support reading: the container was created with \
         --log-driver none; recreate it with --log-driver json-file or local to keep its output"
            .into(),
    )
}

fn bad(msg: String) -> EngineError {
    EngineError::InvalidInput(msg)
}

impl LogConfig {
    /// Checks `--log-driver` and `--log-opt KEY=VALUE` as docker does and fills in berth's
    /// defaults.
    pub fn parse(driver: Option<&str>, opts: &[String]) -> Result<LogConfig> {
        let driver = driver.unwrap_or("json-file").trim().to_string();
        let mut config = BTreeMap::new();
        for o in opts {
            let (k, v) = o.split_once('=').unwrap_or((o.as_str(), ""));
            config.insert(k.to_string(), v.to_string());
        }
        match driver.as_str() {
            "none" => {
                if !config.is_empty() {
                    return Err(bad(format!(
                        "invalid logging opts for driver none: the none driver takes no \
                         --log-opt ({})",
                        config.keys().cloned().collect::<Vec<_>>().join(", ")
                    )));
                }
            }
            "json-file" | "local" => {
                for k in config.keys() {
                    if !matches!(k.as_str(), "max-size" | "max-file" | "compress") {
                        let msg = if driver == "local" {
                            format!("unknown log opt '{k}' for log driver local")
                        } else {
                            format!("unknown log opt '{k}' for json-file log driver")
                        };
                        return Err(bad(format!(
                            "{msg}: berth supports max-size, max-file and compress"
                        )));
                    }
                }
                let local = driver == "local";
                let has_size = config.contains_key("max-size");
                if !has_size {
                    config.insert("max-size".into(), DEFAULT_MAX_SIZE.into());
                }
                if !config.contains_key("max-file") && (local || !has_size) {
                    config.insert("max-file".into(), DEFAULT_MAX_FILE.into());
                }
            }
            other => {
                return Err(bad(format!(
                    "logger: no log driver named '{other}' is registered: berth supports \
                     json-file, local and none"
                )))
            }
        }
        let rec = LogConfig { driver, config };
        rec.policy()?;
        Ok(rec)
    }

    /// The writer's policy (validates every value with docker's messages).
    pub fn policy(&self) -> Result<LogPolicy> {
        let driver = match self.driver.as_str() {
            "json-file" => LogDriver::JsonFile,
            "local" => LogDriver::Local,
            "none" => {
                return Ok(LogPolicy {
                    driver: LogDriver::None,
                    max_size: 0,
                    max_file: 0,
                    compress: false,
                })
            }
            other => {
                return Err(bad(format!(
                    "logger: no log driver named '{other}' is registered"
                )))
            }
        };
        let max_size = match self.config.get("max-size") {
            Some(s) => {
                let n = human_size(s).ok_or_else(|| {
                    bad(format!(
                        "invalid size: '{s}': give max-size as a positive number with an \
                         optional unit k, m or g (e.g. 10m)"
                    ))
                })?;
                if n == 0 {
                    return Err(bad("max-size must be a positive number".into()));
                }
                n
            }
            None => u64::MAX,
        };
        let max_file = match self.config.get("max-file") {
            Some(s) => {
                let n: i64 = s.trim().parse().map_err(|_| {
                    bad(format!(
                        "strconv.Atoi: parsing \"{s}\": invalid syntax: give max-file as a \
                         whole number of at least 1"
                    ))
                })?;
                if n < 1 {
                    return Err(bad("max-file cannot be less than 1".into()));
                }
                u32::try_from(n).map_err(|_| bad(format!("max-file {n} is too large")))?
            }
            None => 1,
        };
        let compress = match self.config.get("compress") {
            Some(s) => parse_bool(s).ok_or_else(|| {
                bad(format!(
                    "strconv.ParseBool: parsing \"{s}\": invalid syntax: give compress as \
                     true or false"
                ))
            })?,
            None => driver == LogDriver::Local,
        };
        if compress
            && self.config.contains_key("compress")
            && (max_file < 2 || max_size == u64::MAX)
        {
            return Err(bad(
                "compress cannot be true when max-file is less than 2 or max-size is not set"
                    .into(),
            ));
        }
        Ok(LogPolicy {
            driver,
            max_size,
            max_file,
            compress: compress && max_file >= 2,
        })
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// docker's `units.FromHumanSize`: a decimal number with an optional decimal unit
/// (`k`, `m`, `g`, `t`, `p`, optionally followed by `b` or `ib`); `10m` is 10,000,000 bytes.
pub fn human_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(end);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let unit = unit.trim_start().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let mul: f64 = match unit {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "p" => 1e15,
        _ => return None,
    };
    let v = n * mul;
    (v.is_finite() && v < u64::MAX as f64).then_some(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn err(driver: Option<&str>, v: &[&str]) -> String {
        LogConfig::parse(driver, &opts(v)).unwrap_err().to_string()
    }

    #[test]
    fn defaults_cap_every_driver() {
        let d = LogConfig::parse(None, &[]).unwrap();
        assert_eq!(d.driver, "json-file");
        let p = d.policy().unwrap();
        assert_eq!((p.max_size, p.max_file, p.compress), (20_000_000, 5, false));
        let l = LogConfig::parse(Some("local"), &[])
            .unwrap()
            .policy()
            .unwrap();
        assert_eq!((l.max_size, l.max_file, l.compress), (20_000_000, 5, true));
        // docker: max-size alone keeps one file.
        let j = LogConfig::parse(None, &opts(&["max-size=1k"])).unwrap();
        assert_eq!(j.policy().unwrap().max_file, 1);
        assert_eq!(j.config["max-size"], "1k");
        let n = LogConfig::parse(Some("none"), &[])
            .unwrap()
            .policy()
            .unwrap();
        assert!(!n.readable());
        assert_eq!(LogConfig::default(), LogConfig::parse(None, &[]).unwrap());
    }

    #[test]
    fn bad_values_get_dockers_messages() {
        assert!(err(None, &["max-size=abc"]).starts_with("invalid size: 'abc'"));
        assert!(err(None, &["max-file=0"]).starts_with("max-file cannot be less than 1"));
        assert!(err(None, &["max-file=x"]).contains("invalid syntax"));
        assert!(err(None, &["foo=1"]).starts_with("unknown log opt 'foo' for json-file log driver"));
        assert!(err(Some("local"), &["foo=1"])
            .starts_with("unknown log opt 'foo' for log driver local"));
        assert!(err(Some("syslog"), &[])
            .starts_with("logger: no log driver named 'syslog' is registered"));
        assert!(
            err(Some("none"), &["max-size=1m"]).starts_with("invalid logging opts for driver none")
        );
        assert!(err(None, &["max-size=0"]).starts_with("max-size must be a positive number"));
        assert!(err(None, &["max-size=1m", "compress=true"]).starts_with("compress cannot be true"));
    }

    #[test]
    fn sizes_are_decimal_like_go_units() {
        assert_eq!(human_size("10m"), Some(10_000_000));
        assert_eq!(human_size("1.5k"), Some(1500));
        assert_eq!(human_size("100"), Some(100));
        assert_eq!(human_size("2GB"), Some(2_000_000_000));
        assert_eq!(human_size("3 KiB"), Some(3000));
        assert_eq!(human_size("abc"), None);
        assert_eq!(human_size("-1"), None);
        assert_eq!(human_size(""), None);
    }
}
