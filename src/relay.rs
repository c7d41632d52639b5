//! `berth-relay`: the long-lived part of a container's monitor, executed by the monitor once
//! its container runs (`berth::engine::monitor::handover`). It relays the container's output
//! to the log and the attach clients and hands back to the berth binary at the exit. Only the
//! relay loop is linked in, so its relocated data, text and heap stay small.

fn main() {
    std::process::exit(berth::engine::monitor::handover::relay_main());
}
