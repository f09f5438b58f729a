#!/usr/bin/env bash
# Stops what scripts/engine-start.sh started: removes every container of the private engines,
# stops each dockerd by the pid it recorded (its containerd stops with it), then ends by pid
# whatever is still running from the engine directory (a containerd, a shim, a conmon) and
# unmounts what is left mounted there. Idempotent. The image stores stay, so that the next run
# finds the base images it built already; `engine-stop.sh --purge` removes them too.
set -uo pipefail
source "$(dirname "$0")/engine-env.sh"
[[ -d $engine_dir ]] || exit 0

# Waits up to $2 tenths of a second for pid $1 to be gone (or a zombie).
wait_gone() {
  local pid=$1 tenths=$2 state
  for ((i = 0; i < tenths; i++)); do
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 0
    [[ -z $state || $state == Z || $state == X ]] && return 0
    sleep 0.1
  done
  return 1
}

for name in "${dockerd_names[@]}"; do
  dir="$engine_dir/$name"
  if alive "$dir/dockerd.pid" dockerd; then
    export DOCKER_HOST="unix://$dir/docker.sock"
    containers=$("$docker_client" ps -aq 2>/dev/null)
    [[ -n $containers ]] && "$docker_client" rm -f $containers >/dev/null 2>&1
    pid=$(<"$dir/dockerd.pid")
    kill -TERM "$pid" 2>/dev/null
    wait_gone "$pid" 300 || kill -KILL "$pid" 2>/dev/null
    unset DOCKER_HOST
  fi
  rm -f "$dir/dockerd.pid"
done

podman_dir="$engine_dir/podman"
if [[ -f $podman_dir/containers.conf ]]; then
  CONTAINERS_CONF="$podman_dir/containers.conf" CONTAINERS_STORAGE_CONF="$podman_dir/storage.conf" \
    podman rm -af -t 0 >/dev/null 2>&1
fi

# Whatever is left (dockerd's containerd after a KILL, a shim, a conmon): TERM, then KILL.
leftover=$(processes_in_engine_dir)
if [[ -n $leftover ]]; then
  kill -TERM $leftover 2>/dev/null
  for pid in $leftover; do wait_gone "$pid" 50 || kill -KILL "$pid" 2>/dev/null; done
fi

# Mounts under the engine directory, deepest first (overlay layers, shm, the storage root).
grep -F " $engine_dir/" /proc/self/mounts | cut -d' ' -f2 | sort -r | while read -r mountpoint; do
  umount "$mountpoint" 2>/dev/null || umount -l "$mountpoint" 2>/dev/null
done

if [[ ${1:-} == --purge ]]; then
  rm -rf "$engine_dir"
fi
exit 0
