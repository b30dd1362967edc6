#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install requirements.txt and requirements-dev.txt into it.
# Idempotent: an existing working .venv is kept, and pip runs only when a requirements file changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMP="$VENV/.codyskool-requirements.sha256"

log() { echo "setup-python: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

new_enough() {
  "$1" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

pick_python() {
  if [ -x /usr/bin/python3 ] && new_enough /usr/bin/python3; then
    echo /usr/bin/python3
  elif command -v python3 >/dev/null && new_enough "$(command -v python3)"; then
    command -v python3
  else
    return 1
  fi
}

if [ -x "$VENV/bin/python" ] && new_enough "$VENV/bin/python" \
    && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  log "using the existing .venv ($("$VENV/bin/python" --version 2>&1))"
else
  PYTHON="$(pick_python)" || fail "no Python >= 3.11 with the venv module found (on Debian: apt-get install python3 python3-venv)"
  log "creating .venv with $PYTHON ($("$PYTHON" --version 2>&1))"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" \
    || fail "$PYTHON -m venv failed (on Debian the python3-venv package provides ensurepip)"
fi

want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  log "requirements already installed"
  exit 0
fi
log "pip install -r requirements.txt -r requirements-dev.txt"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r requirements.txt -r requirements-dev.txt \
  || fail "pip install failed"
echo "$want" > "$STAMP"
log "done"
