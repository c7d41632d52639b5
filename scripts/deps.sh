#!/usr/bin/env bash
# Installs the Debian packages berth needs to build, run and test, when they are missing.
# Usage: scripts/deps.sh [build|test|bench]   (test and bench include build)
set -euo pipefail
want=(libseccomp-dev pkg-config gcc tini netavark aardvark-dns iptables nftables iproute2)
case "${1:-build}" in
  test) want+=(docker-registry busybox-static tmux apache2-utils openssl util-linux skopeo umoci podman runc xz-utils bzip2) ;;
  bench) want+=(docker-registry busybox-static tmux apache2-utils openssl skopeo umoci podman runc docker.io debootstrap libcap2-bin) ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
if ! command -v cargo >/dev/null; then
  echo "cargo not found: install a Rust toolchain (1.88 or newer, e.g. with rustup) first" >&2
  exit 1
fi
