#!/usr/bin/env bash
# Runs berth's whole test suite as root: unit tests, snapshot tests, and integration tests against
# a real registry, real containers and the real binary in tmux. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
if [ "$(id -u)" != 0 ]; then
  echo "the test suite needs root (namespaces, overlayfs, cgroups)" >&2
  exit 1
fi
cargo build --lib --bins --tests --examples
cargo test --lib --bins --tests --examples -- --test-threads="${BERTH_TEST_THREADS:-2}"
