#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Every road to committed memory, as a hostile tenant takes it, against a
# 64Mi commit limit with memory.max far above it (pages are never touched,
# so memcg is not what stops anything): one request of 512 MiB refused,
# 16 x 32 MiB held like it, within a page of the limit, and the same
# granted again after release (test/progs/roads.c does the arithmetic).

load helpers

MIB=1048576
ROADS=/memgate/build/test/roads

setup() {
	require_vm
}

teardown() {
	cleanup_containers
}

# run_roads NAME ROAD...: the roads program as the container's only process,
# which stays (holding) after the roads so memgate's state can be read.
run_roads() {
	local name=$1
	shift
	make_rootfs
	cp "$ROADS" "$BUNDLES/rootfs/roads"
	make_bundle "$name" '{"memgate.io/commit-limit": "64Mi"}' $((2048 * MIB)) -- /roads 65536 "$@" hold
	start_ctr "$name"
	for _ in $(seq 3000); do grep -qE '^(holding|FAIL)' "$BUNDLES/$name.log" && break; sleep 0.1; done
	output=$(cat "$BUNDLES/$name.log")
	echo "$output"
	grep -qx holding <<<"$output"
}

# One container for the private roads, one for the shared ones: the
# container's whole commit is the roads process's, so each line's arithmetic
# is exact.
@test "private roads: mmap, MAP_NORESERVE grown by mremap in place and moved, mprotect to writable: held within a page of 64Mi, and again after release" {
	run_roads p1 private mremap mremap-moved mprotect
	# Decided by lsm/ programs, which the kernel never skips.
	[ "$(link_prog_type mmap_addr)" = lsm ]
	[ "$(link_prog_type mprotect)" = lsm ]
	for road in private mremap mremap-moved mprotect; do
		grep -q "^road $road: granted [0-9]* KiB, base [0-9]* KiB, limit 65536 KiB$" <<<"$output"
	done
}

@test "shared roads: MAP_SHARED anonymous, /dev/zero, SysV with and without SHM_NORESERVE: held within a page of 64Mi until the last detach, and again after release" {
	run_roads s1 shared shared-noreserve devzero sysv sysv-noreserve
	for link in mmap_file shm_alloc inode_alloc inode_free; do
		[ "$(link_prog_type "$link")" = lsm ]
	done
	# Everything it made was released: the container's sum is the process's own.
	committed=$(status_of s1 | jq .decisions.committed_bytes)
	own=$(awk '$1 == "VmData:" || $1 == "VmStk:" {s += $2} END {print s * 1024}' "/proc/$(cat "/sys/fs/cgroup/mg/s1/cgroup.procs" | head -n 1)/status")
	echo "committed $committed, the process's own $own"
	# (Within two pages: a stack page charged by a skipped fmod_ret run on a
	# preemptible kernel would be counted at the next re-read only.)
	d=$((committed - own))
	[ "${d#-}" -le 8192 ]
	for road in shared shared-noreserve devzero sysv sysv-noreserve; do
		grep -q "^road $road: granted [0-9]* KiB, base [0-9]* KiB, limit 65536 KiB$" <<<"$output"
	done
}

# The control: outside any container nothing holds these roads, and the
# program says so for each one (so a road memgate stopped holding fails above).
@test "control: ungoverned, every road grants 512 MiB and the roads program fails" {
	for road in private mremap mremap-moved mprotect shared shared-noreserve devzero sysv sysv-noreserve; do
		run "$ROADS" 65536 "$road"
		echo "$output"
		[ "$status" -eq 1 ]
		[ "$output" = "FAIL road $road: one request of 512 MiB was granted" ]
	done
}
