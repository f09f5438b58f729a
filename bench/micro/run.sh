#!/usr/bin/env bash
# npm run bench [-- --quick] [-- --readme] [-- --out FILE]: drainit, tini and dumb-init side by side.
# npm run bench -- --compare OLD.json NEW.json: the change of every figure between two runs.
# Installs the Debian packages it needs (tini, dumb-init, python3, time, util-linux), builds
# dist/drainit when it is missing, then runs the harness as root.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# Debian's python3: the harness and the app need nothing beyond its standard library.
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3)"
if [[ "${1:-}" == "--compare" ]]; then
  # Reads two results files: nothing to install, build or run as root.
  exec "$python" "$root/bench/micro/bench.py" "$@"
fi
bash "$root/scripts/install-system-packages.sh" "$root/scripts/build-packages.txt"
bash "$root/scripts/install-system-packages.sh"
[[ -x "$root/dist/drainit" ]] || (cd "$root" && npm run build)
if [[ $(id -u) -ne 0 ]]; then
  exec sudo "$python" "$root/bench/micro/bench.py" "$@"
fi
exec "$python" "$root/bench/micro/bench.py" "$@"
