//! berth: a terminal UI container manager with its own daemonless container engine.
//!
//! `engine` holds everything that touches registries, the store, and containers; `cli` is the
//! Docker-style command line over it; `tui` is the terminal UI. See ARCHITECTURE in the README.

pub mod cli;
pub mod engine;
pub mod tui;
