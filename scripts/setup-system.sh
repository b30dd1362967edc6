#!/usr/bin/env bash
# Install the Debian packages CodySkool needs, only those missing:
#   bubblewrap (the local sandbox backend) always;
#   --browser: chromium and chromium-driver (browser tests), plus fonts-liberation (Chromium only
#              recommends a font package, and pages render text as boxes without one);
#   --postgres: Debian's postgresql (the tests on PostgreSQL start throwaway clusters with it).
# Package scripts are kept from starting services (no PostgreSQL server is left running).
set -euo pipefail

log() { echo "setup-system: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

packages=(bubblewrap)
for arg in "$@"; do
  case "$arg" in
    --browser) packages+=(chromium chromium-driver fonts-liberation) ;;
    --postgres) packages+=(postgresql) ;;
    *) echo "setup-system: unknown argument: $arg (usage: setup-system.sh [--browser] [--postgres])" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" = 0 ]; then
  log "already installed: ${packages[*]}"
  exit 0
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || fail "missing ${missing[*]}: run as root or install them by hand"
  SUDO=(sudo)
fi
command -v apt-get >/dev/null || fail "missing ${missing[*]} and apt-get is not available: install them by hand"

added_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${SUDO[@]}" chmod 0755 /usr/sbin/policy-rc.d
  added_policy=1
fi
remove_policy() { [ "$added_policy" = 0 ] || "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; }
trap remove_policy EXIT

log "apt-get install ${missing[*]}"
"${SUDO[@]}" apt-get update -qq || fail "apt-get update failed"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || fail "apt-get install ${missing[*]} failed"
log "installed: ${missing[*]}"
