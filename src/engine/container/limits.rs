//! Resource limits as docker checks them: sizes (`--memory`), the 6 MB minimum, the CPU range.

use crate::engine::error::{EngineError, Result};

/// Parses Docker's sizes: `512`, `64k`, `64m`, `1g`, `1t` (binary units, optional trailing
/// `b`). Negative, fractional-byte, malformed and too large values are refused with docker's
/// "invalid size" message and what to write instead.
pub fn parse_size(s: &str) -> Result<i64> {
    let bad = |why: &str| {
        EngineError::InvalidInput(format!(
            "invalid size: '{s}': {why}; use a number with an optional unit b, k, m, g or t \
             (e.g. 64m)"
        ))
    };
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let t = t.strip_suffix('i').unwrap_or(t);
    let (num, mul) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let num = num.trim_end();
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(bad(if num.starts_with('-') {
            "a size cannot be negative"
        } else {
            "not a size"
        }));
    }
    let n: f64 = num.parse().map_err(|_| bad("not a size"))?;
    let bytes = n * mul as f64;
    if !bytes.is_finite() || bytes >= i64::MAX as f64 {
        return Err(bad("too large"));
    }
    Ok(bytes as i64)
}

/// Docker's smallest memory limit (6 MiB).
pub const MIN_MEMORY: i64 = 6 << 20;

/// CPUs this process may run on (what docker calls the number of CPUs available).
fn cpus_available() -> usize {
    nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map(|set| {
            (0..nix::sched::CpuSet::count())
                .filter(|&i| set.is_set(i).unwrap_or(false))
                .count()
        })
        .ok()
        .filter(|&n| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
}

/// Docker's range checks of `--memory` and `--cpus` (0 means no limit, as in docker).
pub fn check(memory: Option<i64>, cpus: Option<f64>) -> Result<()> {
    if let Some(m) = memory.filter(|&m| m != 0) {
        if m < MIN_MEMORY {
            return Err(EngineError::InvalidInput(
                "Minimum memory limit allowed is 6MB".into(),
            ));
        }
    }
    if let Some(c) = cpus.filter(|&c| c != 0.0) {
        let n = cpus_available();
        if !(0.01..=n as f64).contains(&c) {
            return Err(EngineError::InvalidInput(format!(
                "range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available \
                 (--cpus {c})"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ranges_follow_docker() {
        assert_eq!(parse_size("64m").unwrap(), 64 << 20);
        assert_eq!(parse_size("1g").unwrap(), 1 << 30);
        assert!(parse_size("lots").is_err());
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        assert!(parse_size("-5m")
            .unwrap_err()
            .to_string()
            .contains("negative"));
        assert!(parse_size("99999999999t")
            .unwrap_err()
            .to_string()
            .contains("too large"));
        assert!(parse_size("1e9").is_err());
        assert!(check(Some(4 << 20), None)
            .unwrap_err()
            .to_string()
            .contains("Minimum memory limit allowed is 6MB"));
        assert!(check(Some(0), Some(0.0)).is_ok());
        assert!(check(None, Some(0.001))
            .unwrap_err()
            .to_string()
            .contains("range of CPUs is from 0.01 to"));
    }
}
