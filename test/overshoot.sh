#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# In the VM: how far past a 64Mi commit limit a container gets when the
# kernel skips memgate's programs (docs/design.md 1.3), for a brk-heavy and
# an mremap-heavy workload, with CPU and mmap load in another cgroup.
#
#   test/vm/run --kernel 7 --timeout 3000 -- /memgate/test/overshoot.sh [ROUNDS [DIR]]
#
# DIR, when given, holds another memgate-hook and memgate (an older build,
# say) to measure instead of the installed ones.
#
# Each round runs PROCS (4) processes of "alloc brk 1" (glibc malloc of
# 1 KiB at a time, main arena) or "alloc mremap 64" (one mapping grown
# 64 KiB per mremap) in one container until each is refused, then sums
# VmData + VmStk (the kernel's own commit counters) over the container's
# processes.  Prints one line per round and "OVERSHOOT-MAX <workload>
# <KiB> skipped <runs>" per workload; the skipped runs are memgate status's
# program_runs_skipped over all rounds of that workload.
set -euo pipefail
source /memgate/test/bats/helpers.bash
require_vm

rounds=${1:-10}
if [ -n "${2:-}" ]; then
	HOOK=$2/memgate-hook
	MEMGATE=$2/memgate
fi
MEMGATE=${MEMGATE:-memgate}
procs=${PROCS:-4}
limit_kib=65536
load=/sys/fs/cgroup/load

cleanup() {
	cleanup_containers
	[ -z "${stress:-}" ] || kill "$stress" 2>/dev/null || true
	wait 2>/dev/null || true
	rmdir "$load" 2>/dev/null || true
}
trap cleanup EXIT

# The load: CPU workers and mmap workers (bystanders that run memgate's
# programs and can be preempted inside them), outside the container.
mkdir -p "$load"
"$ALLOC" join "$load/cgroup.procs" exec "$(command -v stress-ng)" --cpu 2 --mmap 2 --mmap-bytes 8M \
	--timeout 3600 --quiet &
stress=$!

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

for workload in brk mremap; do
	case $workload in
	brk) args="brk 1" ;;
	mremap) args="mremap 64" ;;
	esac
	max=-999999 skips=0
	for r in $(seq "$rounds"); do
		rm -f /tmp/data/go
		make_bundle over '{"memgate.io/commit-limit": "64Mi"}' 2147483648 -- /bin/sh -c \
			"i=0; while [ \$i -lt $procs ]; do /alloc $args /data/go & i=\$((i + 1)); done; wait"
		start_ctr over || { cat "$BUNDLES/over.log"; exit 1; }
		before=$(skipped)
		for _ in $(seq 1500); do
			[ "$(grep -c '^got \|nothing refused' "$BUNDLES/over.log")" -ge "$procs" ] && break
			sleep 0.2
		done
		if [ "$(grep -c '^got \|nothing refused' "$BUNDLES/over.log")" -lt "$procs" ]; then
			echo "round $r: not every process ended: $(cat "$BUNDLES/over.log")"
			exit 1
		fi
		kib=$(committed_kib "$CGROUP_PARENT/over")
		# A process that got 1 GiB unrefused has exited: count its 1 GiB.
		kib=$((kib + 1048576 * $(grep -c 'nothing refused' "$BUNDLES/over.log")))
		after=$(skipped)
		over=$((kib - limit_kib))
		skips=$((skips + after - before))
		echo "$workload round $r: committed $kib KiB, over the limit by $over KiB, runs skipped $((after - before))"
		((over > max)) && max=$over
		touch /tmp/data/go
		runc delete -f over >/dev/null 2>&1 || true
	done
	echo "OVERSHOOT-MAX $workload $max KiB skipped $skips ($HOOK)"
done
