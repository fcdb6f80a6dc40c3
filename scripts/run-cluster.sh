#!/usr/bin/env bash
# Starts a local three-node raftkv cluster in the foreground; Ctrl-C stops
# all three. Usage: scripts/run-cluster.sh <raftkv binary> <data root>
set -euo pipefail
bin=$1
root=$2
cluster=http://127.0.0.1:12379,http://127.0.0.1:22379,http://127.0.0.1:32379
mkdir -p "$root"
pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "stopping the cluster..."
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT
cmds=()
for id in 1 2 3; do
	cmd=("$bin" --id "$id" --cluster "$cluster" --port "${id}2380" --data-dir "$root/raftkv-$id")
	"${cmd[@]}" 2> >(sed -u "s/^/[node $id] /" >&2) &
	pids+=($!)
	cmds+=("${cmd[*]}")
done
cat <<MSG
raftkv: three members running (data in $root/, logs below, Ctrl-C stops all three)
  member 1: http://127.0.0.1:12380   peers on 127.0.0.1:12379   pid ${pids[0]}
  member 2: http://127.0.0.1:22380   peers on 127.0.0.1:22379   pid ${pids[1]}
  member 3: http://127.0.0.1:32380   peers on 127.0.0.1:32379   pid ${pids[2]}
try:
  curl -L -X PUT http://127.0.0.1:12380/greeting -d hello
  curl -L http://127.0.0.1:22380/greeting
kill one member and the others go on; start it again with its command line:
  ${cmds[1]}
MSG
# Until Ctrl-C, or until every member has exited.
wait "${pids[@]}" || true
