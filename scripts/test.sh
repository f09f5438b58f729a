#!/usr/bin/env bash
# Installs everything the tests need, builds drainit, runs every test, and ends with
# one line "N passed, N failed" counted from vitest's JSON reports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-packages.sh
npm ci --no-audit --no-fund
npm run build
reports="$(mktemp -d)"
trap 'rm -rf "$reports"' EXIT
status=0
npx vitest run test/unit test/e2e test/lint --reporter=default --reporter=json --outputFile="$reports/main.json" "$@" || status=$?
# The stress tests make processes by the thousand: alone, one file at a time, so that they
# neither exhaust the process table under the other tests nor are slowed down by them.
npx vitest run test/stress --no-file-parallelism --reporter=default --reporter=json --outputFile="$reports/stress.json" "$@" || status=$?
node scripts/count-tests.mjs "$reports/main.json" "$reports/stress.json"
exit "$status"
