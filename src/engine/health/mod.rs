//! Health checks (docker's `HEALTHCHECK`, `--health-*`): `config` (the container's check from
//! the image and the flags), `state` (docker's rules: start period, retries, failing streak,
//! the last five results; the schedule), `store` (the `health` table), `probe` (one run as an
//! exec in the container, with its timeout and 4 KB of output), `checker` (the process that
//! runs the probes of one running container, `berth monitor --health ID`).

pub mod checker;
pub mod config;
pub mod probe;
pub mod state;
pub mod store;

pub use config::{HealthOptions, Healthcheck};
