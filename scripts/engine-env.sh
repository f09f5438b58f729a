# Shared by scripts/engine-start.sh and scripts/engine-stop.sh (sourced, not run).
# The engines of the real-container tests live in one directory of their own, named after
# this checkout, so that two checkouts never share a daemon, a socket or a data root.
# test/engine/engine.ts derives the same directory (or reads DRAINIT_ENGINE_DIR).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
if [[ -n "${DRAINIT_ENGINE_DIR:-}" ]]; then
  engine_dir="$DRAINIT_ENGINE_DIR"
else
  engine_dir="${TMPDIR:-/tmp}/drainit-engine-$(printf '%s' "$root" | sha256sum | cut -c1-12)"
fi
# The client of the docker.io package speaks the daemon's own API version and builds with BuildKit,
# which builds only the stages a target needs; a newer client that may come first on PATH works too,
# but without its build plugin it falls back to the legacy builder.
docker_client=/usr/bin/docker
# The two dockerd instances: "docker" keeps Docker's own init (tini) for `docker run --init`,
# "docker-drainit-init" has its init-path set to drainit.
dockerd_names=(docker docker-drainit-init)

# True when PIDFILE names a live process whose command line contains WORD (a pid alone is not
# enough: a process that has exited may wait a while to be reaped, and pids are reused).
alive() {
  local pidfile=$1 word=$2 pid state
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ -r /proc/$pid/cmdline ]] || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ $state != Z && $state != X ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$word"
}

# Pids of the processes whose command line names a path inside the engine directory
# (containerd, its shims, conmon): what a daemon left behind, found by pid.
processes_in_engine_dir() {
  local cmdline pid
  for cmdline in /proc/[0-9]*/cmdline; do
    pid=${cmdline#/proc/}
    pid=${pid%/cmdline}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    if tr '\0' '\n' 2>/dev/null <"$cmdline" | grep -q -F -- "$engine_dir/"; then
      echo "$pid"
    fi
  done
}
