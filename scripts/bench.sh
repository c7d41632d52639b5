#!/usr/bin/env bash
# Runs the committed benchmarks one after another on a release build, as docs/benchmarks.md's
# quiet runs do, and after each checks that the machine's own network namespace is as it was
# (no berth or netavark firewall table or rule, no berth veth or bridge, no berth mount) and
# stops at the first difference. Needs root and the peers (scripts/deps.sh bench). Usage:
#   scripts/bench.sh [NAME…]     NAME: stats state network start tui moving build distro pull run
# (all of them when none is given). BENCH_ROUNDS etc. are passed on; the defaults below are the
# quiet run's. Output: the benchmarks' Markdown on stdout, progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "the benchmarks need root (they run containers)" >&2
  exit 1
fi
scripts/deps.sh bench >&2
# berth's own runs never use a bridge outside a namespace a benchmark made.
export BERTH_DEFAULT_NETWORK=none
cargo bench --no-run >&2

# The bench binary NAME that cargo built last.
bin() {
  ls -t target/release/deps/"$1"-* | grep -v '\.d$' | head -1
}

# What of berth's could show in the machine's own namespace, for a before/after comparison.
machine_state() {
  nft list tables 2>/dev/null | grep -Ei 'berth|netavark' || true
  iptables-save 2>/dev/null | grep -ci netavark || true
  sysctl -n net.ipv4.ip_forward
  ip -o link 2>/dev/null | grep -Eo '(veth[0-9a-f]+|berth0|br-[0-9a-f]+)' || true
  grep -c berth /proc/self/mounts || true
}

before=$(machine_state)
run() {
  local name=$1
  shift
  echo "== $name (load $(cut -d' ' -f1-3 /proc/loadavg)) $(date -u +%H:%M:%S)" >&2
  "$@"
  local after
  after=$(machine_state)
  if [ "$after" != "$before" ]; then
    echo "the machine's namespace changed during $name:" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    exit 1
  fi
}

which=("$@")
[ ${#which[@]} -eq 0 ] && which=(stats state network start tui moving build distro pull run)
for w in "${which[@]}"; do
  case "$w" in
    stats) run stats env BENCH_ROUNDS="${BENCH_ROUNDS:-3}" BENCH_STREAM_SECS="${BENCH_STREAM_SECS:-5}" "$(bin stats)" ;;
    state) run state env BENCH_ROUNDS="${BENCH_ROUNDS:-10}" "$(bin state)" ;;
    network) run network env BENCH_ROUNDS="${BENCH_ROUNDS:-5}" "$(bin network)" ;;
    start) run start env BENCH_ROUNDS="${BENCH_ROUNDS:-20}" "$(bin start)" latency memory ;;
    tui) run tui "$(bin tui)" ;;
    moving) run moving env BENCH_ROUNDS="${BENCH_ROUNDS:-3}" "$(bin moving)" ;;
    build) run build env BENCH_ROUNDS="${BENCH_ROUNDS:-3}" "$(bin compare)" build ;;
    distro) run distro env BENCH_ROUNDS="${BENCH_ROUNDS:-3}" "$(bin compare)" distro ;;
    pull) run pull env BENCH_ROUNDS="${BENCH_ROUNDS:-5}" "$(bin compare)" pull ;;
    run) run run env BENCH_ROUNDS="${BENCH_ROUNDS:-10}" "$(bin compare)" run ;;
    *)
      echo "unknown benchmark $w: use stats network start tui moving build distro pull run" >&2
      exit 2
      ;;
  esac
done
