#!/usr/bin/env bash
# Starts a local three-node raftkv cluster in the foreground; Ctrl-C stops
# every member on the cluster's data dirs: the three it started and any
# started again by hand from the command line it prints.
# Usage: scripts/run-cluster.sh <raftkv binary> <data root>
# PEER_PORTS and HTTP_PORTS (three ports each, space-separated) move the
# members off the default ports 12379 22379 32379 and 12380 22380 32380.
set -euo pipefail
bin=$(realpath "$1")
mkdir -p "$2"
root=$(realpath "$2")
read -r -a peer_ports <<<"${PEER_PORTS:-12379 22379 32379}"
read -r -a http_ports <<<"${HTTP_PORTS:-12380 22380 32380}"
cluster=""
for p in "${peer_ports[@]}"; do
	cluster+="${cluster:+,}http://127.0.0.1:$p"
done

# members lists the pids of the raftkv processes on this cluster's data
# dirs, whoever started them.
members() {
	pgrep -f -- "--data-dir $root/raftkv-[0-9]" || true
}

pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "stopping the cluster..."
	kill "${pids[@]}" 2>/dev/null || true
	# Members started again by hand are not this script's children.
	local others
	others=$(members)
	[ -z "$others" ] || kill $others 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	for _ in $(seq 100); do
		[ -z "$(members)" ] && return
		sleep 0.1
	done
	echo "members still running after 10 s: $(members)" >&2
}
trap stop INT TERM EXIT
cmds=()
for id in 1 2 3; do
	cmd=("$bin" --id "$id" --cluster "$cluster" --port "${http_ports[id - 1]}" --data-dir "$root/raftkv-$id")
	"${cmd[@]}" 2> >(sed -u "s/^/[node $id] /" >&2) &
	pids+=($!)
	cmds+=("${cmd[*]}")
done
cat <<MSG
raftkv: three members running (data in $root/, logs below, Ctrl-C stops all three)
  member 1: http://127.0.0.1:${http_ports[0]}   peers on 127.0.0.1:${peer_ports[0]}   pid ${pids[0]}
  member 2: http://127.0.0.1:${http_ports[1]}   peers on 127.0.0.1:${peer_ports[1]}   pid ${pids[1]}
  member 3: http://127.0.0.1:${http_ports[2]}   peers on 127.0.0.1:${peer_ports[2]}   pid ${pids[2]}
try:
  curl -L -X PUT http://127.0.0.1:${http_ports[0]}/greeting -d hello
  curl -L http://127.0.0.1:${http_ports[1]}/greeting
kill one member and the others go on; start it again with its command line
(Ctrl-C here stops it too):
  ${cmds[1]}
MSG
# Until Ctrl-C, or until every member has exited, whoever started it.
while [ -n "$(members)" ]; do
	sleep 1
done
