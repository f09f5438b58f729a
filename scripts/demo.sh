#!/usr/bin/env bash
# The live demo: rolling updates of a small HTTP app, without and with drainit.
# Installs what the build needs and builds drainit first if that was not done yet.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d node_modules ]] || npm ci --no-audit --no-fund
[[ -x dist/drainit ]] || { bash scripts/install-system-packages.sh scripts/build-packages.txt && npm run build; }
exec npm run --silent demo -- "$@"
