#!/usr/bin/env bash
# Installs the Debian packages berth needs to build, run and test, when they are missing.
# Usage: scripts/deps.sh [build|test|bench]   (test and bench include build)
set -euo pipefail
want=(libseccomp-dev pkg-config gcc tini aardvark-dns nftables iproute2)
case "${1:-build}" in
  test) want+=(iptables docker-registry busybox-static tmux apache2-utils openssl util-linux skopeo podman runc xz-utils bzip2 docker.io) ;;
  bench) want+=(netavark iptables docker-registry busybox-static tmux apache2-utils openssl skopeo umoci podman runc docker.io debootstrap libcap2-bin) ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Packages such as docker.io and containerd start their daemons from postinst through invoke-rc.d;
  # without systemd that would run a dockerd in this machine's own network namespace (docker0,
  # iptables chains). A policy-rc.d that exits 101 refuses every service start; ours is written only
  # when none exists, and removed on exit.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# written by berth scripts/deps.sh: refuse service starts while installing\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
if ! command -v cargo >/dev/null; then
  echo "cargo not found: install a Rust toolchain (1.88 or newer, e.g. with rustup) first" >&2
  exit 1
fi
