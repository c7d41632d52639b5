//! `--health-*` and `--no-healthcheck` on `create` and `run` (docker's flags).

use clap::Args;

use crate::engine::health::config::parse_duration;
use crate::engine::health::HealthOptions;

/// Health check flags.
#[derive(Debug, Args, Clone, Default)]
pub struct HealthArgs {
    /// Command to run to check health (through the container's shell)
    #[arg(long = "health-cmd", value_name = "COMMAND")]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 30s)
    #[arg(
        long = "health-interval",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 30s)
    #[arg(
        long = "health-timeout",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy (default 3)
    #[arg(
        long = "health-retries",
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub health_retries: Option<i64>,
    /// Start period for the container to initialize before counting retries towards unstable
    /// (ms|s|m|h) (default 0s)
    #[arg(
        long = "health-start-period",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h) (default 5s)
    #[arg(
        long = "health-start-interval",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
}

impl HealthArgs {
    /// The engine's options (durations parsed; the engine checks the values).
    pub fn options(&self) -> anyhow::Result<HealthOptions> {
        let d = |flag: &str, v: &Option<String>| {
            v.as_deref().map(|s| parse_duration(flag, s)).transpose()
        };
        Ok(HealthOptions {
            cmd: self.health_cmd.clone(),
            interval: d("--health-interval", &self.health_interval)?,
            timeout: d("--health-timeout", &self.health_timeout)?,
            start_period: d("--health-start-period", &self.health_start_period)?,
            start_interval: d("--health-start-interval", &self.health_start_interval)?,
            retries: self.health_retries,
            none: self.no_healthcheck,
        })
    }
}
