#!/usr/bin/env bash
# Installs everything the tests need, builds drainit, runs every test, and ends with
# one line "N passed, N failed" counted from vitest's JSON reports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-packages.sh scripts/build-packages.txt
bash scripts/install-system-packages.sh
npm ci --no-audit --no-fund
npm run build
reports="$(mktemp -d)"
# The engines of test/engine are stopped however this script ends.
trap 'bash scripts/engine-stop.sh; rm -rf "$reports"' EXIT
status=0
npx vitest run test/unit test/e2e test/lint --reporter=default --reporter=json --outputFile="$reports/main.json" "$@" || status=$?
# The stress tests make processes by the thousand: alone, one file at a time, so that they
# neither exhaust the process table under the other tests nor are slowed down by them.
npx vitest run test/stress --no-file-parallelism --reporter=default --reporter=json --outputFile="$reports/stress.json" "$@" || status=$?
# Real containers: private dockerd and podman set-ups, started here and stopped by the trap. When
# an engine cannot be started its tests run all the same and each fails with the reason.
bash scripts/engine-start.sh >/dev/null || status=$?
npx vitest run test/engine --no-file-parallelism --reporter=default --reporter=json --outputFile="$reports/engine.json" "$@" || status=$?
bash scripts/engine-stop.sh
node scripts/count-tests.mjs "$reports/main.json" "$reports/stress.json" "$reports/engine.json"
exit "$status"
