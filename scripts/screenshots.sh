#!/usr/bin/env bash
# Makes screenshots/*.svg from the real TUI: builds berth, starts a few containers on a fresh
# engine root (a busybox rootfs, no network needed), drives `berth` in a detached tmux session
# of fixed size, captures each screen with `tmux capture-pane -e -p` and converts it to SVG
# with our own converter (examples/ansi2svg.rs). Needs root (containers) and tmux; the pull
# screens also need docker-registry, umoci and skopeo (scripts/deps.sh bench) and are skipped
# without them.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# The demo containers need no network: never add a bridge or firewall rule to this machine.
export BERTH_DEFAULT_NETWORK=none
scripts/deps.sh test
cargo build --quiet --bin berth --example ansi2svg
berth="$repo/target/debug/berth"
svg="$repo/target/debug/examples/ansi2svg"
out="$repo/screenshots"
mkdir -p "$out"

work=$(mktemp -d /tmp/berth-shots-XXXXXX)
chmod 711 "$work"
sock="berth-shots-$$"
reg_pid=""
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null || true
  ids=$("$berth" --root "$work/root" ps -aq 2>/dev/null || true)
  [ -n "$ids" ] && "$berth" --root "$work/root" rm -f $ids >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A busybox root filesystem.
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,etc,proc,sys,dev,tmp,root}
cp /bin/busybox "$rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
echo 'root:x:0:' > "$rootfs/etc/group"

b() { "$berth" --root "$work/root" "$@"; }
b run -d --rootfs --name web --health-cmd 'test -e /bin/sh' --health-interval 30s --health-start-period 2s --health-start-interval 1s "$rootfs" sh -c '
  i=0; while :; do
    printf "\033[2m%s\033[0m GET /api/items/%d \033[32m200\033[0m %dms\n" "$(date +%H:%M:%S)" $i $((i % 17 + 3))
    if [ $((i % 4)) -eq 0 ]; then printf "warn: slow query on /api/report (%d ms)\n" $((i * 37 % 900 + 100)) >&2; fi
    i=$((i + 1)); sleep 0.3
  done' >/dev/null
b run -d --rootfs --name worker "$rootfs" sh -c '
  i=0; while :; do echo "job $i: resized 3 images"; i=$((i + 1)); sleep 0.7; done' >/dev/null
b run -d --rootfs --name migrate "$rootfs" sh -c 'echo "migrating schema"; echo "error: relation users already exists" >&2; exit 1' >/dev/null
b create --rootfs --name backup "$rootfs" sh -c 'tar czf /tmp/backup.tgz /etc' >/dev/null
# A loopback registry with one image whose big layer takes a moment to pull, for the pull
# dialog in progress (docker-registry, umoci and skopeo come with scripts/deps.sh bench).
reg_port=""
if command -v docker-registry >/dev/null && command -v umoci >/dev/null && command -v skopeo >/dev/null; then
  reg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/registry"
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$work/registry" "$reg_port" > "$work/registry.yml"
  docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
  reg_pid=$!
  umoci init --layout "$work/oci" >/dev/null
  umoci new --image "$work/oci:demo" >/dev/null
  umoci unpack --image "$work/oci:demo" "$work/bundle" >/dev/null
  cp -a "$rootfs/." "$work/bundle/rootfs/"
  head -c 120M /dev/urandom > "$work/bundle/rootfs/data.bin"
  umoci repack --image "$work/oci:demo" "$work/bundle" >/dev/null
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$reg_port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  skopeo copy -q --dest-tls-verify=false "oci:$work/oci:demo" "docker://127.0.0.1:$reg_port/demo/app:1"
fi
b volume create data >/dev/null
b volume create cache >/dev/null
# Network records only (no container joins them): nothing is added to this machine.
b network create --subnet 10.77.0.0/24 backend >/dev/null
b network create --internal isolated >/dev/null
# A build context for the build view and the layer explorer.
mkdir -p "$work/ctx/site/css"
printf '<h1>hello</h1>\n' > "$work/ctx/site/index.html"
printf 'h1 { color: teal }\n' > "$work/ctx/site/css/main.css"
printf 'FROM scratch\nCOPY site /srv/www\nENV PORT=8080\nLABEL tier=web\n' > "$work/ctx/Dockerfile"
sleep 2

tmux -L "$sock" -f /dev/null new-session -d -x 132 -y 32 \
  "env HOME=$work XDG_CONFIG_HOME=$work/config $berth --root $work/root"
tmux -L "$sock" set -s escape-time 0
keys() { for k in "$@"; do tmux -L "$sock" send-keys "$k"; sleep 0.15; done; }
shot() {
  sleep "${2:-0.8}"
  tmux -L "$sock" capture-pane -e -p | "$svg" "berth: $1" > "$out/$1.svg"
  echo "screenshots/$1.svg"
}

sleep 1.5
shot containers
keys j j v v v v v    # web's processes in the details pane
shot details-processes 2.5
keys v                # web's CPU, memory, network and block I/O over the last minutes
shot details-graphs 4
keys v k k
keys j j Enter        # backup, migrate, web: follow web's log
shot containers-logs 3
keys / s l o w Enter  # search: highlight and jump
shot logs-search
keys Escape Escape    # clear the search, back to the list
keys space space Enter t   # mark web and worker: merged view, with timestamps
shot merged-logs 2
keys Escape '?'
shot help
keys Escape 1 n
keys b u s y b o x Tab w e b 2 Tab h t t p d Space - f
shot run-form
keys Escape p b u s y b o x
shot pull
keys Escape
if [ -n "$reg_port" ]; then
  keys p
  tmux -L "$sock" send-keys -l "127.0.0.1:$reg_port/demo/app:1"
  keys Enter
  shot pull-progress 0.35
  for _ in $(seq 100); do tmux -L "$sock" capture-pane -p | grep -q 'done: ' && break; sleep 0.2; done
  keys Escape 2
  shot images
fi
keys 3
shot volumes
keys 5
shot networks
keys B
tmux -L "$sock" send-keys -l "$work/ctx"
keys Tab Tab
tmux -L "$sock" send-keys -l "demo/site:1"
keys Enter
for _ in $(seq 100); do tmux -L "$sock" capture-pane -p | grep -q 'built ' && break; sleep 0.2; done
shot build
keys Escape 2 / s i t e Enter b
sleep 1
keys Enter j Enter j Enter
shot layers
keys Escape Escape
# What the session saw happen (the build, the health checks' verdicts…).
keys 6
shot events
# What the engine root takes on disk, with its prune actions.
keys D
shot disk-usage 2
keys Escape
# A shell in web, beside its log.
keys 1 / w e b Enter Enter x
sleep 1
tmux -L "$sock" send-keys -l 'echo $((6*7)); ls /; cat /etc/passwd'
keys Enter
shot shell 1
tmux -L "$sock" send-keys C-]
keys q
