#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench, the instruction count (in a VM with -smp 1, single-threaded TCG,
# -icount shift=0 and the plugin test/vm/icount.c): each operation runs
# between two markers (alloc count), and the plugin writes the guest's
# instruction count at each.  Before each run this script prints
#
#   BENCH-COUNT VARIANT OP ROUNDS
#
# and test/bench-insns pairs the Nth such line with the plugin's counts 2N-1
# and 2N.  Variants, all in a level-4 cgroup unless said otherwise:
#   base       memgate not loaded, at the start and again at the end
#   floor      empty programs on every attach point memgate uses (its hooks'
#              least cost; test/progs/floor.bpf.c), lsm_cgroup on another cgroup
#   floor.H    the empty program H alone, on the operations that meet it
#   bystander  memgate loaded for another container (commit-limit)
#   policy     a cgroup under commit-limit + pressure-gate
#   preloaded  memgate kept loaded with no policy (memgate preload)
# Then, with kernel.bpf_stats_enabled=1 (not counted), which memgate programs
# run per operation and their own cost (run_time_ns, which under -icount
# shift=0 is the program's instructions):
#
#   BENCH-PROG VARIANT OP PROGRAM RUNS_PER_OP NS_PER_RUN
set -euo pipefail
source /memgate/test/bats/helpers.bash
require_vm

repeats=${COUNT_REPEATS:-3}
FLOOR=/memgate/build/test/floor
FLOOR_OBJ=/memgate/build/test/floor.bpf.o
FLOOR_DIR=/sys/fs/bpf/bench-floor
CG=/sys/fs/cgroup/bench
# op:rounds, in the order of the table.
ops=(mmaploop:2000 mprotectloop:2000 sbrkloop:2000 forkloop:200 touchloop:50 mallocmix:20000)

hook() { # STAGE ID CGROUP ANNOTATIONS: the hook as a runtime runs it
	local stage=$1 id=$2 cg=$3 annotations=$4 pid=0 status=stopped
	if [ "$stage" = prestart ]; then
		pid=$(head -n 1 "$cg/cgroup.procs")
		status=creating
	fi
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%d,"bundle":"/tmp","annotations":%s}' \
		"$id" "$status" "$pid" "$annotations" | "$HOOK" "$stage"
}

sleeper() { # CGROUP: a process that waits in CGROUP
	mkdir -p "$1"
	"$ALLOC" join "$1/cgroup.procs" exec /usr/bin/busybox sleep 3600 &
	for _ in $(seq 100); do grep -q . "$1/cgroup.procs" && return 0; sleep 0.05; done
	echo "bench: no process in $1" >&2
	return 1
}

count() { # VARIANT CGROUP OP ROUNDS
	echo "BENCH-COUNT $1 $3 $4"
	"$ALLOC" join "$2/cgroup.procs" exec "$ALLOC" count "$3" "$4" >/dev/null
}

count_all() { # VARIANT CGROUP
	local op
	for ((r = 0; r < repeats; r++)); do
		for op in "${ops[@]}"; do
			count "$1" "$2" "${op%%:*}" "${op##*:}"
		done
	done
}

rounds_of() {
	local op
	for op in "${ops[@]}"; do
		[ "${op%%:*}" = "$1" ] && echo "${op##*:}"
	done
}

# prog_stats: "id name run_cnt run_time_ns" of every memgate program.
prog_stats() {
	bpftool prog show -j | jq -r '.[] | select((.name // "") | startswith("mg_")) |
		"\(.id) \(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"'
}

# breakdown VARIANT CGROUP: runs per operation and cost per run of each program.
breakdown() {
	local op name rounds a b
	for op in "${ops[@]}"; do
		name=${op%%:*}
		rounds=${op##*:}
		a=$(prog_stats)
		"$ALLOC" join "$2/cgroup.procs" exec "$ALLOC" "$name" "$rounds" >/dev/null
		b=$(prog_stats)
		awk -v v="$1" -v op="$name" -v n="$rounds" '
			NR == FNR { cnt[$1] = $3; ns[$1] = $4; next }
			($1 in cnt) && $3 > cnt[$1] {
				runs = $3 - cnt[$1]
				printf "BENCH-PROG %s %s %s %.3f %.0f\n", v, op, $2, runs / n, ($4 - ns[$1]) / runs
			}' <(echo "$a") <(echo "$b")
	done
}

memgate_loaded() {
	[ -e /sys/fs/bpf/memgate ]
}

# settle: after an attach or detach, let the kernel's deferred work (7.x
# frees a trampoline after an RCU tasks grace period) run before counting;
# idle time costs no instructions.
settle() {
	sleep 2
}

# --- setup ---------------------------------------------------------------
echo "memgate instruction count on $(uname -r), $repeats repeats" >&2
echo "+memory +pids" >/sys/fs/cgroup/cgroup.subtree_control
# Address-space layout randomization moves where a mapping lands beside the
# others (merged or not, how many page tables a fork copies): thousands of
# instructions of difference from one run of the same loop to the next.
echo 0 >/proc/sys/kernel/randomize_va_space
mkdir -p "$CG/k/a/b"
for d in "$CG" "$CG/k" "$CG/k/a"; do echo "+memory +pids" >"$d/cgroup.subtree_control"; done
bystander=$CG/k/a/b
sleeper "$CG/holder"
sleeper "$CG/pol"
HOLDER='{"memgate.io/commit-limit": "1Gi"}'
POLICY='{"memgate.io/commit-limit": "4Gi", "memgate.io/pressure-gate": "2Gi"}'
! memgate_loaded

# --- base and floor ------------------------------------------------------
# The first runs after boot meet the boot's leftovers: one round not reported.
for op in "${ops[@]}"; do
	count warmup "$bystander" "${op%%:*}" "${op##*:}"
done
settle
count_all base "$bystander"

# The floor: an empty program on each attach point memgate uses for
# everyone, as it attached them here (memgate loaded once to see: its links,
# named as floor.bpf.c's programs, _lsm where the program is an LSM one).
hook prestart holder "$CG/holder" "$HOLDER"
known=" $("$FLOOR" "$FLOOR_OBJ" --list | tr '\n' ' ') "
hooks=()
for link in /sys/fs/bpf/memgate/links/*; do
	name=${link##*/}
	[[ $name == fork-gate-* ]] && continue
	type=$(bpftool prog show id "$(bpftool link show pinned "$link" -j | jq .prog_id)" -j | jq -r .type)
	[ "$type" = lsm ] && name+=_lsm
	if [[ $known != *" $name "* ]]; then
		echo "bench: no floor program for memgate's $name (test/progs/floor.bpf.c)" >&2
		continue
	fi
	hooks+=("$name")
done
hook poststop holder "$CG/holder" '{}'
! memgate_loaded
settle
"$FLOOR" "$FLOOR_OBJ" "$FLOOR_DIR" "$CG/holder" "${hooks[@]}"
settle
count_all floor "$bystander"
rm -rf "$FLOOR_DIR"
# A fork gate's lsm_cgroup program, on another cgroup: every fork meets the
# kernel's shim (memgate's bystander case has no fork gate: not in floor).
# The same shim for the deciders as lsm_cgroup programs (not built: measured
# to judge the direction).
"$FLOOR" "$FLOOR_OBJ" "$FLOOR_DIR" "$CG/holder" task_alloc 2>/dev/null &&
	hooks+=(task_alloc mmap_file_cgroup mprotect_cgroup)
rm -rf "$FLOOR_DIR"
# Each hook alone on the operations that meet it once or more per round.
for h in "${hooks[@]}"; do
	case $h in
	vm_enough) on=(mmaploop mprotectloop sbrkloop forkloop) ;;
	mmap_file*|mmap_addr*|munmap_exit) on=(mmaploop) ;;
	mprotect*) on=(mprotectloop) ;;
	brk_exit) on=(sbrkloop) ;;
	exit_mmap|fork|oom_signal|task_alloc) on=(forkloop) ;;
	*) continue ;;
	esac
	settle
	if ! "$FLOOR" "$FLOOR_OBJ" "$FLOOR_DIR" "$CG/holder" "$h"; then
		echo "bench: no floor for $h on this kernel" >&2
		rm -rf "$FLOOR_DIR"
		continue
	fi
	settle
	for ((r = 0; r < repeats; r++)); do
		for op in "${on[@]}"; do
			count "floor.$h" "$bystander" "$op" "$(rounds_of "$op")"
		done
	done
	rm -rf "$FLOOR_DIR"
done

# --- memgate loaded ------------------------------------------------------
hook prestart holder "$CG/holder" "$HOLDER"
hook prestart pol "$CG/pol" "$POLICY"
settle
count_all bystander "$bystander"
count_all policy "$CG/pol"

echo 1 >/proc/sys/kernel/bpf_stats_enabled
breakdown bystander "$bystander"
breakdown policy "$CG/pol"
echo 0 >/proc/sys/kernel/bpf_stats_enabled

hook poststop pol "$CG/pol" '{}'
hook poststop holder "$CG/holder" '{}'
! memgate_loaded

# --- kept loaded with no policy (the cold-start option) ------------------
settle
memgate preload >/dev/null
settle
count_all preloaded "$bystander"
memgate preload --release >/dev/null
! memgate_loaded

# The kernel's own state drifts over a run (slab and page lists: a few
# hundred instructions on brk, for one): base again at the end, and its
# median over both ends is the baseline.
settle
count_all base "$bystander"
echo "bench: counted" >&2
