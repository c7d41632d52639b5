#!/usr/bin/env bash
# Runs berth's cargo-fuzz targets (fuzz/), each for a fixed time, one at a time, each as a single
# libFuzzer process in the foreground (what -jobs=1 means, without its fuzz-0.log redirection).
# Usage: scripts/fuzz.sh [TARGET|all] [SECONDS]      (default: all targets, 120 s each)
# Targets: reference manifest unpack attach_frame mount_flags. `unpack` chowns and mknods, so run
# as root. New corpus entries go to fuzz/corpus/TARGET (ignored by git), the committed seeds are
# in fuzz/seeds/TARGET, crashes in fuzz/artifacts/TARGET; the script exits non-zero on a crash.
#
# cargo-fuzz passes nightly-only rustc flags (-Z...); on a stable toolchain RUSTC_BOOTSTRAP=1
# makes rustc accept them. cargo-fuzz's default build is optimised with debug assertions and
# overflow checks on (never pass -O: it turns them off, and an overflow is a bug we want to
# see; FUZZ_PROFILE=--dev builds faster and runs slower). The build uses no sanitizer by default (the engine is safe Rust; the
# sanitizer builds of the C dependencies only slow it down); FUZZ_SANITIZER=address turns ASan on.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(reference manifest unpack attach_frame mount_flags)
which="${1:-all}"
seconds="${2:-120}"
if [ "$which" != all ]; then
  if [[ ! " ${targets[*]} " =~ " $which " ]]; then
    echo "unknown fuzz target \"$which\"; targets are: ${targets[*]} (or all)" >&2
    exit 2
  fi
  targets=("$which")
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "SECONDS must be a positive whole number, not \"$seconds\"" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
  exit 1
fi
if [[ " ${targets[*]} " =~ " unpack " ]] && [ "$(id -u)" != 0 ]; then
  echo "the unpack target needs root (it chowns and creates device nodes)" >&2
  exit 1
fi
scripts/deps.sh build
export RUSTC_BOOTSTRAP=1
sanitizer="${FUZZ_SANITIZER:-none}"
cd fuzz
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  extra=()
  if [ "$t" = unpack ]; then
    # Structured input (a list of tar entries) needs room to grow; a temp dir on tmpfs makes
    # the per-input rootfs and sentinels ten times faster than on a disk.
    extra=(-max_len=4096 -len_control=20)
    export TMPDIR="${FUZZ_TMPDIR:-/dev/shm}"
  fi
  echo "== fuzzing $t for ${seconds}s" >&2
  cargo fuzz run ${FUZZ_PROFILE:-} -s "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "${extra[@]}" \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1
  unset TMPDIR
done
