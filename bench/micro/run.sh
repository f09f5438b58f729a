#!/usr/bin/env bash
# npm run bench [-- --quick] [-- --readme]: drainit, tini and dumb-init side by side.
# Installs the Debian packages it needs (tini, dumb-init, python3, util-linux), builds
# dist/drainit when it is missing, then runs the harness as root.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$root/scripts/install-system-packages.sh"
[[ -x "$root/dist/drainit" ]] || (cd "$root" && npm run build)
# Debian's python3: the harness and the app need nothing beyond its standard library.
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3)"
if [[ $(id -u) -ne 0 ]]; then
  exec sudo "$python" "$root/bench/micro/bench.py" "$@"
fi
exec "$python" "$root/bench/micro/bench.py" "$@"
