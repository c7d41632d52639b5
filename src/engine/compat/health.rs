//! Docker's `State.Health` (inspect): the status, the failing streak and the last results. berth
//! stores it in this shape too (the `health` table of `state.db`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `starting`, `healthy` or `unhealthy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }

    /// What `ps` shows in brackets after "Up 5 minutes".
    pub fn ps_word(self) -> &'static str {
        match self {
            HealthStatus::Starting => "health: starting",
            other => other.as_str(),
        }
    }
}

/// One probe's result (docker's `HealthcheckResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthcheckResult {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// 0 healthy, 1 unhealthy, -1 when the probe could not run or timed out.
    pub exit_code: i64,
    /// At most 4096 bytes of the probe's output (`...` appended when cut).
    pub output: String,
}

/// `State.Health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: HealthStatus,
    pub failing_streak: i64,
    /// The last results, oldest first.
    pub log: Vec<HealthcheckResult>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            status: HealthStatus::Starting,
            failing_streak: 0,
            log: Vec::new(),
        }
    }
}
