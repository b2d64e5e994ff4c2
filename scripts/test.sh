#!/usr/bin/env bash
# One command from a fresh machine to a full test run: installs what the tests
# need, builds every package, type-checks, lints the packed packages and runs
# every test. The last line printed is `N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh --system
export TURBO_TELEMETRY_DISABLED=1 pnpm_config_update_notifier=false
pnpm test:ci
