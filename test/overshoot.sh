#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# In the VM: how far past a 64Mi commit limit a container gets when the
# kernel skips memgate's programs (docs/design.md 1.3), for a brk-heavy and
# an mremap-heavy workload, under CPU and mmap load in another cgroup.
#
#   test/vm/run --kernel 7 --timeout 3000 -- /memgate/test/overshoot.sh [ROUNDS [DIR]]
#
# DIR, when given, holds another memgate-hook and memgate (an older build,
# say) to measure instead of the installed ones.
#
# One container per workload; each round runs PROCS (4) processes of
# "alloc brk 1" (glibc malloc of 1 KiB at a time, main arena) or "alloc
# mremap 64" (one mapping grown 64 KiB per mremap) in it at once, with
# stress-ng (2 CPU and 2 mmap workers) running outside, until each is
# refused; then sums VmData + VmStk (the kernel's own commit counters) over
# the container's processes, and lets them exit.  Prints one line per round
# and "OVERSHOOT-MAX <workload> <KiB> skipped <runs>" per workload; the
# skipped runs are memgate status's program_runs_skipped during the rounds.
set -euo pipefail
source /memgate/test/bats/helpers.bash
require_vm

rounds=${1:-3}
if [ -n "${2:-}" ]; then
	HOOK=$2/memgate-hook
	MEMGATE=$2/memgate
fi
MEMGATE=${MEMGATE:-memgate}
procs=${PROCS:-4}
limit_kib=65536
load=/sys/fs/cgroup/load
stress=

stop_load() {
	[ -z "$stress" ] || kill "$stress" 2>/dev/null || true
	[ -z "$stress" ] || wait "$stress" 2>/dev/null || true
	stress=
}

cleanup() {
	stop_load
	cleanup_containers
	rmdir "$load" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$load"

# committed_kib CGROUP: VmData + VmStk summed over the cgroup's processes.
committed_kib() {
	local pid sum=0 v
	for pid in $(cat "$1/cgroup.procs"); do
		v=$(awk '/^(VmData|VmStk):/ {s += $2} END {print s + 0}' "/proc/$pid/status" 2>/dev/null || echo 0)
		sum=$((sum + v))
	done
	echo "$sum"
}

skipped() {
	"$MEMGATE" status --json 2>/dev/null | jq '.program_runs_skipped // 0' 2>/dev/null || echo 0
}

# ended: lines of the container's log that report a process's end.
ended() {
	grep -c '^got \|nothing refused' "$BUNDLES/over.log" || true
}

for workload in brk mremap; do
	case $workload in
	brk) args="brk 1" ;;
	mremap) args="mremap 64" ;;
	esac
	rm -f /tmp/data/start* /tmp/data/go*
	# Round r starts when /data/start$r exists; its processes exit at /data/go$r.
	# One line: make_bundle takes one argument per line.
	make_bundle over '{"memgate.io/commit-limit": "64Mi"}' 2147483648 -- /bin/sh -c \
		"r=0; while [ \$r -lt $rounds ]; do while [ ! -e /data/start\$r ]; do sleep 0.2; done; i=0; while [ \$i -lt $procs ]; do /alloc $args /data/go\$r & i=\$((i + 1)); done; wait; r=\$((r + 1)); done; sleep 3600"
	start_ctr over || { cat "$BUNDLES/over.log"; exit 1; }
	max=-999999 skips=0
	for r in $(seq 0 $((rounds - 1))); do
		before=$(skipped)
		"$ALLOC" join "$load/cgroup.procs" exec "$(command -v stress-ng)" --cpu 2 --mmap 2 \
			--mmap-bytes 8M --timeout 3600 --quiet &
		stress=$!
		touch "/tmp/data/start$r"
		for _ in $(seq 3000); do
			(($(ended) >= procs * (r + 1))) && break
			sleep 0.2
		done
		if (($(ended) < procs * (r + 1))); then
			echo "round $r: not every process ended: $(cat "$BUNDLES/over.log")"
			exit 1
		fi
		stop_load
		kib=$(committed_kib "$CGROUP_PARENT/over")
		# A process that got 1 GiB unrefused has exited: count its 1 GiB.
		kib=$((kib + 1048576 * $(tail -n "$procs" "$BUNDLES/over.log" | grep -c 'nothing refused' || true)))
		after=$(skipped)
		over=$((kib - limit_kib))
		skips=$((skips + after - before))
		echo "$workload round $r: committed $kib KiB, over the limit by $over KiB, runs skipped $((after - before))"
		((over > max)) && max=$over
		touch "/tmp/data/go$r"
		# Until only the shell is left.
		for _ in $(seq 600); do
			[ "$(wc -l <"$CGROUP_PARENT/over/cgroup.procs")" -le 1 ] && break
			sleep 0.2
		done
	done
	echo "OVERSHOOT-MAX $workload $max KiB skipped $skips ($HOOK)"
	runc delete -f over >/dev/null 2>&1 || true
done
