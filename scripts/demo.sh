#!/usr/bin/env bash
# One command from a fresh machine to the live demo.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
export TURBO_TELEMETRY_DISABLED=1 pnpm_config_update_notifier=false
exec pnpm demo
