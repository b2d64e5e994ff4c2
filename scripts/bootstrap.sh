#!/usr/bin/env bash
# Prepares a fresh Debian machine with Node 20: pnpm, the workspace's
# dependencies and, with --system, the servers and browser the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."

export pnpm_config_update_notifier=false
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export TURBO_TELEMETRY_DISABLED=1

PNPM_VERSION=12.4.2

if [[ "${1:-}" == "--system" ]]; then
  missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  if ((${#missing[@]} > 0)); then
    echo "bootstrap: installing ${missing[*]}"
    if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION" --no-fund --no-audit >/dev/null
fi

pnpm install --frozen-lockfile
