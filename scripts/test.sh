#!/usr/bin/env bash
# Installs everything the tests need, builds drainit, runs every test, and ends with
# one line "N passed, N failed" counted from vitest's JSON report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-packages.sh
npm ci --no-audit --no-fund
npm run build
report="$(mktemp -d)/vitest-report.json"
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$report" "$@" || status=$?
node scripts/count-tests.mjs "$report"
exit "$status"
