#!/usr/bin/env bash
# Install the front-end's npm packages and build the bundle (static/build/), when the repository
# has a package.json. Idempotent: npm ci runs only when package-lock.json changed since the last
# install; the build runs every time (it takes a second or two).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { echo "setup-frontend: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

if [ ! -f package.json ]; then
  log "no package.json; nothing to build"
  exit 0
fi

if ! command -v npm >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "npm not found (on Debian: apt-get install nodejs npm)"
  log "npm not found; installing Debian's nodejs and npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null \
    || fail "apt-get install nodejs npm failed"
fi

STAMP=node_modules/.codyskool-install.sha256
if [ -f package-lock.json ]; then
  want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    log "node_modules is up to date"
  else
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error || fail "npm ci failed"
    echo "$want" > "$STAMP"
  fi
else
  log "no package-lock.json; npm install"
  npm install --no-audit --no-fund --loglevel=error || fail "npm install failed"
fi

if node -e 'process.exit(require("./package.json").scripts?.build ? 0 : 1)'; then
  log "npm run build"
  npm run --silent build || fail "npm run build failed"
else
  log "package.json has no build script; skipping the build"
fi
