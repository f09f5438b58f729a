#!/usr/bin/env bash
# Starts the container engines the real-container tests (test/engine) use, each private to this
# checkout: two dockerd instances (with their own containerd) and a podman set-up, under one
# temporary directory, on their own sockets, data roots and exec roots. Nothing reaches the
# network: no bridge, no iptables, containers run with --network host.
#   scripts/engine-start.sh        idempotent: a daemon that already answers is left as it is
# Prints the engine directory. scripts/engine-stop.sh undoes it all.
# When an engine cannot be started, its directory gets a file "failed" saying why (the tests
# print it) and this script exits 1.
set -euo pipefail
source "$(dirname "$0")/engine-env.sh"

bash "$root/scripts/install-system-packages.sh" "$root/scripts/engine-packages.txt"

mkdir -p "$engine_dir"
chmod 755 "$engine_dir"
status=0

# overlay2 where the kernel and the file system under the engine directory allow it, vfs elsewhere.
storage_driver() {
  local probe="$engine_dir/overlay-probe"
  mkdir -p "$probe"/{lower,upper,work,merged}
  if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
    umount "$probe/merged"
    rm -rf "$probe"
    echo overlay2
  else
    rm -rf "$probe"
    echo vfs
  fi
}
driver=$(storage_driver)

start_dockerd() {
  local name=$1 init_path=$2
  local dir="$engine_dir/$name"
  mkdir -p "$dir"
  rm -f "$dir/failed"
  if alive "$dir/dockerd.pid" dockerd && DOCKER_HOST="unix://$dir/docker.sock" "$docker_client" version >/dev/null 2>&1; then
    return 0
  fi
  local init_line=""
  [[ -n $init_path ]] && init_line="\"init-path\": \"$init_path\","
  cat >"$dir/daemon.json" <<EOF
{
  "hosts": ["unix://$dir/docker.sock"],
  "data-root": "$dir/data",
  "exec-root": "$dir/exec",
  "pidfile": "$dir/exec/dockerd.pid",
  $init_line
  "storage-driver": "$driver",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "default-runtime": "runc",
  "iptables": false,
  "ip-masq": false,
  "ip-forward": false,
  "bridge": "none",
  "userland-proxy": false,
  "log-driver": "json-file",
  "log-level": "warn"
}
EOF
  # Its own session: a signal sent to the test runner's group never reaches it. /usr/sbin holds
  # dockerd but may be missing from PATH; runc and containerd are looked up on PATH by dockerd.
  PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH" setsid dockerd --config-file "$dir/daemon.json" \
    >"$dir/dockerd.log" 2>&1 </dev/null &
  echo $! >"$dir/dockerd.pid"
  local deadline=$((SECONDS + 60))
  until DOCKER_HOST="unix://$dir/docker.sock" "$docker_client" version >/dev/null 2>&1; do
    if ! alive "$dir/dockerd.pid" dockerd || ((SECONDS > deadline)); then
      echo "dockerd ($name) did not start: $(tail -n 3 "$dir/dockerd.log" | tr '\n' ' ')" | tee "$dir/failed" >&2
      return 1
    fi
    sleep 0.1
  done
}

start_dockerd docker "" || status=1
# dockerd runs its init as it is named for `docker info` (`--version`), and mounts it at
# /sbin/docker-init in containers: a link named docker-init gets drainit's docker-init
# personality in both places.
mkdir -p "$engine_dir/docker-drainit-init"
ln -sfn "$root/dist/drainit" "$engine_dir/docker-drainit-init/docker-init"
start_dockerd docker-drainit-init "$engine_dir/docker-drainit-init/docker-init" || status=1
[[ -x $root/dist/drainit ]] || echo "dist/drainit is missing: run npm run build first" | tee "$engine_dir/docker-drainit-init/failed" >&2

# Podman has no daemon: a containers.conf and a storage root of its own is all it needs.
podman_dir="$engine_dir/podman"
mkdir -p "$podman_dir"
rm -f "$podman_dir/failed"
# Podman's default rlimits are above what a process without CAP_SYS_RESOURCE may set here: use
# the current hard limits, or less when podman's own processes run with less (its conmon has had
# RLIMIT_NPROC 32768 here): the first value a container made from a static busybox accepts.
podman_conf() {
  cat >"$podman_dir/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$1:$1", "nproc=$2:$2"]
netns = "none"
[engine]
events_logger = "file"
runtime = "runc"
cgroup_manager = "cgroupfs"
tmp_dir = "$podman_dir/tmp"
EOF
}
podman_storage=overlay
[[ $driver == vfs ]] && podman_storage=vfs
cat >"$podman_dir/storage.conf" <<EOF
[storage]
driver = "$podman_storage"
graphroot = "$podman_dir/root"
runroot = "$podman_dir/run"
EOF
podman_cli() {
  CONTAINERS_CONF="$podman_dir/containers.conf" CONTAINERS_STORAGE_CONF="$podman_dir/storage.conf" podman "$@"
}
probe_root="$podman_dir/probe-root"
mkdir -p "$probe_root/bin" "$probe_root/proc" "$probe_root/dev" "$probe_root/sys"
cp /bin/busybox "$probe_root/bin/busybox"
podman_ok=""
nofile=$(ulimit -Hn)
for nproc in "$(ulimit -Hu)" 32768 16384 4096; do
  ((nproc > $(ulimit -Hu))) && continue
  podman_conf "$nofile" "$nproc"
  if podman_cli run --rm --network host --rootfs "$probe_root" /bin/busybox true >"$podman_dir/probe.log" 2>&1; then
    podman_ok=yes
    break
  fi
done
if [[ -z $podman_ok ]]; then
  echo "podman cannot start a container here: $(tail -n 1 "$podman_dir/probe.log")" | tee "$podman_dir/failed" >&2
  status=1
fi

echo "$engine_dir"
exit "$status"
