#!/usr/bin/env bash
# Make a Docker engine reachable and (re)build the sandbox image. Idempotent.
#
# Meant for a Debian bookworm machine, run as root; nothing needs to be installed beforehand:
#   1. if `docker info` fails: install docker.io when dockerd is missing, then start
#      `dockerd --iptables=false --bridge=none` detached (log: $CODYSKOOL_DOCKERD_LOG) and wait
#      for it (up to $CODYSKOOL_DOCKERD_WAIT seconds, default 60);
#   2. pick the base image: $CODYSKOOL_SANDBOX_BASE if set; else debian:bookworm-slim if it is
#      present locally; else $CODYSKOOL_BASE_TAG (default codyskool-base:bookworm) if present;
#      else one quick pull of debian:bookworm-slim (skipped with CODYSKOOL_NO_PULL=1); else a
#      debootstrap'ed minbase bookworm imported as $CODYSKOOL_BASE_TAG (with this machine's
#      /etc/apt/sources.list.d/debian.sources, for the updates and security suites, when it has
#      one; trimmed of package caches, documentation and translations: about 75 MB);
#   3. `docker build` sandbox/ into $CODYSKOOL_SANDBOX_IMAGE (default codyskool-sandbox:latest),
#      every time: the layer cache makes an unchanged build take a second or two, and a changed
#      runner (sandbox/runner/) always lands in the image;
#   4. gVisor: install Debian's runsc when it is missing, register it with the engine as the
#      runtime `runsc` (daemon.json "runtimes", with the runtime arguments below; a running
#      dockerd reloads them on SIGHUP, no restart) and start one probe container under it. A host
#      where that fails is told why and keeps runc: the server's CODYSKOOL_DOCKER_RUNTIME=auto
#      uses runsc only where its own probe works. CODYSKOOL_GVISOR=0 skips this step.
#
# Usage: scripts/setup-docker.sh [--optional]
#   --optional (or CODYSKOOL_DOCKER_OPTIONAL=1): a failure is a warning and the exit status is 0,
#   so the caller can fall back to another backend.
# Other settings: CODYSKOOL_DEBIAN_MIRROR (debootstrap's mirror, default debootstrap's own),
# CODYSKOOL_APT_OPTS (extra apt-get options inside the image build), CODYSKOOL_PULL_TIMEOUT
# (seconds, default 20), CODYSKOOL_DAEMON_JSON (default /etc/docker/daemon.json).
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${CODYSKOOL_SANDBOX_IMAGE:-codyskool-sandbox:latest}"
BASE_TAG="${CODYSKOOL_BASE_TAG:-codyskool-base:bookworm}"
OFFICIAL_BASE="debian:bookworm-slim"
DOCKERD_LOG="${CODYSKOOL_DOCKERD_LOG:-/tmp/codyskool-dockerd.log}"
DOCKERD_WAIT="${CODYSKOOL_DOCKERD_WAIT:-60}"
PULL_TIMEOUT="${CODYSKOOL_PULL_TIMEOUT:-20}"
BUILD_LOG="${CODYSKOOL_BUILD_LOG:-/tmp/codyskool-sandbox-build.log}"
OPTIONAL="${CODYSKOOL_DOCKER_OPTIONAL:-0}"
GVISOR="${CODYSKOOL_GVISOR:-1}"
DAEMON_JSON="${CODYSKOOL_DAEMON_JSON:-/etc/docker/daemon.json}"
# Sandboxes have no network, and gVisor's own network stack in the root network namespace fails
# every start here ("cannot run with network enabled in root network namespace").
RUNSC_ARGS='["--network=none"]'

for arg in "$@"; do
  case "$arg" in
    --optional) OPTIONAL=1 ;;
    -h|--help) sed -n '2,/^set -E/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-docker: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "setup-docker: $*" >&2; }

fail() {
  if [ "$OPTIONAL" = 1 ]; then
    log "WARNING: $*"
    log "WARNING: Docker is not available; continuing without it (CODYSKOOL_DOCKER_OPTIONAL=1)."
    exit 0
  fi
  log "ERROR: $*"
  exit 1
}

trap 'fail "command failed (status $?) at line $LINENO: $BASH_COMMAND"' ERR

as_root() {
  [ "$(id -u)" = 0 ] || fail "$1 needs root (run this script as root)"
}

APT_UPDATED=0
apt_install() {
  as_root "installing $*"
  command -v apt-get >/dev/null || fail "apt-get not found: install $* by hand"
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    apt-get update -qq || fail "apt-get update failed"
    APT_UPDATED=1
  fi
  # Keep package scripts from starting services: this script starts dockerd itself.
  local added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  log "apt-get install $*"
  local status=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || status=$?
  [ "$added_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
  [ "$status" = 0 ] || fail "apt-get install $* failed (status $status)"
}

engine_up() {
  command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1
}

ensure_cgroups() {
  # dockerd needs the cgroup file systems; a minimal VM or chroot may not mount them.
  if [ -e /sys/fs/cgroup/cgroup.controllers ] || [ -d /sys/fs/cgroup/memory ]; then
    return 0
  fi
  log "no cgroup file system mounted; mounting with cgroupfs-mount"
  command -v cgroupfs-mount >/dev/null || apt_install cgroupfs-mount
  cgroupfs-mount || fail "could not mount the cgroup file systems"
}

wait_for_engine() {
  local waited=0
  while ! engine_up; do
    if [ -n "${1:-}" ] && ! kill -0 "$1" 2>/dev/null; then
      tail -n 20 "$DOCKERD_LOG" >&2 || true
      fail "dockerd exited at start-up (log: $DOCKERD_LOG)"
    fi
    if [ "$waited" -ge "$DOCKERD_WAIT" ]; then
      tail -n 20 "$DOCKERD_LOG" >&2 || true
      fail "the Docker engine did not answer within ${DOCKERD_WAIT}s (log: $DOCKERD_LOG)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

running_dockerd() {
  # The pid of a dockerd that is already running (perhaps still starting), if any.
  if command -v pgrep >/dev/null; then
    pgrep -x -o dockerd || true
  elif [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    cat /var/run/docker.pid
  fi
}

ensure_engine() {
  if engine_up; then
    log "Docker engine is running (server $(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    return 0
  fi
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    apt_install docker.io iptables
  fi
  local pid
  pid="$(running_dockerd)"
  if [ -n "$pid" ]; then
    log "dockerd is already running (pid $pid); waiting for its socket"
  else
    as_root "starting dockerd"
    ensure_cgroups
    log "starting dockerd --iptables=false --bridge=none (log: $DOCKERD_LOG)"
    # Detached (own session, no terminal, stdin closed) so it outlives this script; without
    # the lock's descriptor 9, or it would hold the lock for as long as it runs.
    setsid nohup dockerd --iptables=false --bridge=none >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
    pid=$!
  fi
  wait_for_engine "$pid"
  log "Docker engine is up (server $(docker version --format '{{.Server.Version}}' 2>/dev/null))"
}

image_exists() {
  docker image inspect "$1" >/dev/null 2>&1
}

ROOTFS=""
cleanup_rootfs() {
  [ -n "$ROOTFS" ] && [ -d "$ROOTFS" ] || return 0
  local m
  for m in dev/pts dev proc sys; do
    if mountpoint -q "$ROOTFS/$m" 2>/dev/null; then umount -l "$ROOTFS/$m" || true; fi
  done
  rm -rf --one-file-system "$ROOTFS"
}

debootstrap_base() {
  as_root "debootstrap"
  command -v debootstrap >/dev/null || apt_install debootstrap
  ROOTFS="$(mktemp -d /var/tmp/codyskool-rootfs.XXXXXX)"
  trap cleanup_rootfs EXIT
  local dlog=/tmp/codyskool-debootstrap.log
  log "debootstrap --variant=minbase bookworm (log: $dlog); about half a minute"
  # shellcheck disable=SC2086 # the mirror is optional
  if ! debootstrap --variant=minbase bookworm "$ROOTFS" ${CODYSKOOL_DEBIAN_MIRROR:-} >"$dlog" 2>&1; then
    tail -n 20 "$dlog" >&2 || true
    fail "debootstrap failed (log: $dlog)"
  fi
  # Use this machine's Debian sources (deb822, with the updates and security suites) when it
  # has them, as the official image does; otherwise keep debootstrap's one-line sources.list.
  if [ -z "${CODYSKOOL_DEBIAN_MIRROR:-}" ] && [ -f /etc/apt/sources.list.d/debian.sources ] \
      && grep -q 'bookworm' /etc/apt/sources.list.d/debian.sources; then
    cp /etc/apt/sources.list.d/debian.sources "$ROOTFS/etc/apt/sources.list.d/debian.sources"
    : > "$ROOTFS/etc/apt/sources.list"
  fi
  # Trim what an image does not need: downloaded packages, package lists, documentation,
  # translations (the official slim image leaves these out as well).
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin \
    "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/* \
    "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/*
  find "$ROOTFS/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  : > "$ROOTFS/etc/hostname"
  log "importing the root file system as $BASE_TAG"
  tar --numeric-owner -C "$ROOTFS" -c . \
    | docker import --change 'CMD ["bash"]' --message "debootstrap --variant=minbase bookworm" - "$BASE_TAG" >/dev/null \
    || fail "docker import of the debootstrap'ed root file system failed"
  cleanup_rootfs
  ROOTFS=""
}

choose_base() {
  if [ -n "${CODYSKOOL_SANDBOX_BASE:-}" ]; then
    BASE="$CODYSKOOL_SANDBOX_BASE"
    log "base image: $BASE (CODYSKOOL_SANDBOX_BASE)"
    return 0
  fi
  if image_exists "$OFFICIAL_BASE"; then
    BASE="$OFFICIAL_BASE"
  elif image_exists "$BASE_TAG"; then
    BASE="$BASE_TAG"
  elif [ "${CODYSKOOL_NO_PULL:-0}" != 1 ] \
      && timeout "$PULL_TIMEOUT" docker pull -q "$OFFICIAL_BASE" >/dev/null 2>&1; then
    BASE="$OFFICIAL_BASE"
  else
    log "$OFFICIAL_BASE is not available here; building $BASE_TAG with debootstrap"
    debootstrap_base
    BASE="$BASE_TAG"
  fi
  log "base image: $BASE"
}

runner_hash() {
  # The hash of the runner package in folder $1: sha256 of `sha256sum` of its *.py files in
  # byte order of their names, as runner_hash() in codyskool/sandbox/docker_backend.py computes it.
  (cd "$1" && find . -maxdepth 1 -name '*.py' -printf '%f\n' | LC_ALL=C sort | xargs sha256sum --) \
    | sha256sum | cut -d' ' -f1
}

build_image() {
  [ -f "$ROOT/sandbox/Dockerfile" ] || fail "sandbox/Dockerfile is missing"
  [ -f "$ROOT/sandbox/runner/__main__.py" ] || fail "sandbox/runner/ is missing: the sandbox image needs it"
  # The runner's hash as a label: the server warns, and the benchmark refuses, when the image was
  # built from another sandbox/runner/ than the one beside them.
  local runner_sha
  runner_sha="$(runner_hash "$ROOT/sandbox/runner")"
  local args=(--network host --build-arg "BASE=$BASE" --label "org.codyskool.runner-sha256=$runner_sha" -t "$IMAGE")
  if [ -n "${CODYSKOOL_APT_OPTS:-}" ]; then
    args+=(--build-arg "APT_OPTS=$CODYSKOOL_APT_OPTS")
  fi
  log "docker build ${args[*]} sandbox/ (log: $BUILD_LOG)"
  local start=$SECONDS
  if ! docker build "${args[@]}" "$ROOT/sandbox" >"$BUILD_LOG" 2>&1; then
    tail -n 40 "$BUILD_LOG" >&2 || true
    fail "building $IMAGE failed (log: $BUILD_LOG)"
  fi
  log "built $IMAGE in $((SECONDS - start))s ($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1/1000000}'))"
  # Old builds of the image, now untagged, go (layers still in use by containers stay).
  docker image prune -f --filter "label=org.codyskool.sandbox=1" >/dev/null 2>&1 || true
  # The engine must also be able to start a locked-down container of it.
  local out
  out="$(docker run --rm --network none "$IMAGE" python3 -c 'print("ok")' 2>&1)" \
    || fail "the engine cannot run $IMAGE: $out"
  [ "$out" = ok ] || fail "unexpected answer from a test container of $IMAGE: $out"
}

# gVisor is optional: whatever goes wrong here is said and leaves the sandboxes on runc.
gvisor_skip() {
  log "gVisor: $*; sandboxes run under runc"
}

register_runsc() {
  # Add (or correct) the runtime `runsc` in daemon.json; prints "changed" if the file changed.
  local path="$1"
  python3 - "$DAEMON_JSON" "$path" "$RUNSC_ARGS" <<'PY'
import json, os, sys
file, path, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
try:
    with open(file) as f:
        config = json.load(f)
except FileNotFoundError:
    config = {}
wanted = {"path": path, "runtimeArgs": args}
runtimes = config.setdefault("runtimes", {})
if runtimes.get("runsc") != wanted:
    runtimes["runsc"] = wanted
    os.makedirs(os.path.dirname(file) or ".", exist_ok=True)
    with open(file + ".tmp", "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    os.replace(file + ".tmp", file)
    print("changed")
PY
}

engine_has_runsc() {
  docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'
}

ensure_gvisor() {
  [ "$GVISOR" != 0 ] || { log "gVisor: skipped (CODYSKOOL_GVISOR=0)"; return 0; }
  if ! command -v runsc >/dev/null; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
      gvisor_skip "runsc is not installed and this script cannot install it (root and apt-get needed)"
      return 0
    fi
    if ! (OPTIONAL=1; apt_install runsc) || ! command -v runsc >/dev/null; then
      gvisor_skip "installing Debian's runsc failed"
      return 0
    fi
  fi
  local path changed
  path="$(command -v runsc)"
  if [ -w "$(dirname "$DAEMON_JSON")" ] || [ -w "$DAEMON_JSON" ]; then
    changed="$(register_runsc "$path")" || { gvisor_skip "cannot update $DAEMON_JSON"; return 0; }
  else
    engine_has_runsc || { gvisor_skip "cannot write $DAEMON_JSON to register runsc"; return 0; }
  fi
  if [ -n "$changed" ] || ! engine_has_runsc; then
    local pid
    pid="$(running_dockerd)"
    [ -n "$pid" ] || { gvisor_skip "no dockerd process to reload"; return 0; }
    log "gVisor: registered $path as the runtime runsc in $DAEMON_JSON; reloading dockerd (SIGHUP)"
    kill -HUP "$pid"
    local waited=0
    until engine_has_runsc; do
      [ "$waited" -lt 20 ] || { gvisor_skip "dockerd did not pick up the runtime after SIGHUP"; return 0; }
      sleep 0.5
      waited=$((waited + 1))
    done
  fi
  local out
  if out="$(timeout 60 docker run --rm --runtime=runsc --network none "$IMAGE" \
      python3 -c 'import os; print("ok", os.uname().release)' 2>&1)" && [ "${out%% *}" = ok ]; then
    log "gVisor: runsc $(runsc --version 2>/dev/null | head -n1 | awk '{print $3}') works (kernel ${out#ok }); CODYSKOOL_DOCKER_RUNTIME=auto runs sandboxes under it"
  else
    gvisor_skip "a probe container under runsc failed: $(printf '%s' "$out" | tail -n 3)"
  fi
}

# One run at a time: two scripts starting dockerd or building at once would trip over each other.
exec 9>/tmp/codyskool-setup-docker.lock
flock -w 1200 9 || fail "another setup-docker run holds /tmp/codyskool-setup-docker.lock"

ensure_engine
choose_base
build_image
ensure_gvisor
log "ready: $IMAGE"
