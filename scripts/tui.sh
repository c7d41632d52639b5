#!/usr/bin/env bash
# Builds berth (release) and opens the TUI on the embedded engine. Extra arguments go to berth,
# e.g. scripts/tui.sh --root /tmp/berth-root
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cargo build --release --quiet
exec target/release/berth "$@"
