#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Enforcement in real runc containers: commit limit, pressure gate, fork gate, audit.

load helpers

MIB=1048576

setup() {
	require_vm
}

teardown() {
	if [ -n "${ESC_HOLDER:-}" ]; then
		kill "$ESC_HOLDER" 2>/dev/null || true
		wait "$ESC_HOLDER" 2>/dev/null || true
		rmdir "$CGROUP_PARENT/esc" 2>/dev/null || true
	fi
	cleanup_containers
	umount /tmp/data 2>/dev/null || true
}

# start_sleeper NAME ANNOTATIONS: a detached container that only sleeps, for runc exec.
start_sleeper() {
	make_bundle "$1" "$2" 0 -- /bin/sleep 600
	start_ctr "$1"
}

# got_mib OUTPUT: the N of "got N MiB".
got_mib() {
	sed -n 's/^got \([0-9]*\) MiB$/\1/p' <<<"$1"
}

# wait_committed NAME MIB: until memgate counts at least MIB committed for NAME.
wait_committed() {
	for _ in $(seq 100); do
		status_of "$1" | jq -e --argjson b $(($2 * MIB)) '.decisions.committed_bytes >= $b' >/dev/null && return 0
		sleep 0.1
	done
	echo "$1 never reached $2 MiB committed: $(status_of "$1")"
	return 1
}

@test "commit-limit 256Mi: malloc in 1 MiB steps gets 240..256 MiB, then NULL, and the process exits normally" {
	start_sleeper c1 '{"memgate.io/commit-limit": "256Mi"}'
	run runc exec c1 /alloc steps 1
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	[ "$got" -ge 240 ] && [ "$got" -le 256 ]
	status_of c1 | jq -e '.decisions.commits_denied >= 1'
	status_of c1 | jq -e '.last_denial.comm == "alloc" and .last_denial.pid > 0 and .last_denial.kind == "commit-limit"'
	status_of c1 | jq -e '.last_denial.requested_bytes > 0 and .last_denial.measured_bytes > 240 * 1048576'
	status_of c1 | jq -e '.decisions.committed_peak_bytes <= 268435456'
	run memgate events --json
	echo "$output" | tail -n 1 | jq -e '.decision == "denied" and .comm == "alloc"'
}

@test "a tenant's process name and a container id with terminal escapes are printed escaped" {
	local esc=$'\e' out
	start_sleeper c1 '{"memgate.io/commit-limit": "16Mi"}'
	# comm is the name the tenant exec'd: ESC [2J clears an admin's screen.
	run runc exec c1 sh -c 'cp /alloc "/tmp/$(printf "\033[2Jevil")" && exec /tmp/*evil once 64'
	echo "$output"
	[ "$output" = ENOMEM ]
	# A hostile id, as a runtime that allows any id would pass it.
	mkdir "$CGROUP_PARENT/esc"
	sleep 600 &
	ESC_HOLDER=$!
	echo "$ESC_HOLDER" >"$CGROUP_PARENT/esc/cgroup.procs"
	printf '{"ociVersion": "1.0.2", "id": "id\\u001b]0;x\\u0007\\"", "status": "creating", "pid": %d, "bundle": "/tmp", "annotations": {"memgate.io/commit-limit": "64Mi"}}' \
		"$ESC_HOLDER" >/tmp/esc-state.json
	"$HOOK" prestart </tmp/esc-state.json
	status_of c1 | jq -e '.last_denial.comm == "\u001b[2Jevil"'
	memgate status --json | jq -e '[.containers[].id] | any(. == "id\u001b]0;x\u0007\"")'
	out=$(memgate status)
	echo "$out" | cat -v
	[[ "$out" != *"$esc"* ]]
	[[ "$out" == *'pid '*' (\e[2Jevil) asked '* ]]
	[[ "$out" == *'id\e]0;x\x07\"'* ]]
	out=$(memgate status --prometheus)
	[[ "$out" != *"$esc"* ]]
	[[ "$out" == *'memgate_commit_limit_bytes{container="id\\x1b]0;x\\x07\""} 67108864'* ]]
	out=$(memgate events)
	echo "$out" | cat -v
	[[ "$out" != *"$esc"* ]]
	[[ "$out" == *' comm=\e[2Jevil '* ]]
	"$HOOK" poststop </tmp/esc-state.json
	memgate status --json | jq -e '[.containers[].id] | any(. == "id\u001b]0;x\u0007\"") | not'
}

@test "release: allocate 200 MiB, free, again, 50 times in a row" {
	start_sleeper c1 '{"memgate.io/commit-limit": "256Mi"}'
	run runc exec c1 /alloc cycle 200 50
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "cycled 50 times" ]
	status_of c1 | jq -e '.decisions.commits_denied == 0'
}

@test "release: after a process exits, a new process in the container commits 200 MiB" {
	start_sleeper c1 '{"memgate.io/commit-limit": "256Mi"}'
	run runc exec c1 /alloc steps 1
	[ "$status" -eq 0 ]
	run runc exec c1 /alloc once 200
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "a multi-threaded allocator respects the limit" {
	start_sleeper c1 '{"memgate.io/commit-limit": "256Mi"}'
	run runc exec c1 /alloc threads 8 1
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	# 8 threads' stacks (8 MiB each) count too.
	[ "$got" -ge 150 ] && [ "$got" -le 256 ]
	status_of c1 | jq -e '.decisions.commits_denied >= 1 and .decisions.committed_peak_bytes <= 268435456'
}

@test "two processes holding 150 MiB each under 256Mi: the second one's allocation fails" {
	start_sleeper c1 '{"memgate.io/commit-limit": "256Mi"}'
	runc exec -d c1 /alloc hold 150 </dev/null >/dev/null 2>&1
	wait_committed c1 150
	run runc exec c1 /alloc once 150
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = ENOMEM ]
}

@test "a process moved into a sub-cgroup of the container is held to the same limit" {
	start_sleeper c1 '{"memgate.io/commit-limit": "256Mi"}'
	mkdir /sys/fs/cgroup/mg/c1/sub
	runc exec -d --pid-file "$BUNDLES/sub.pid" c1 /bin/sh -c 'sleep 2; /alloc steps 1 > /tmp/sub.out; echo done >> /tmp/sub.out' </dev/null >/dev/null 2>&1
	pid=$(cat "$BUNDLES/sub.pid")
	echo "$pid" >/sys/fs/cgroup/mg/c1/sub/cgroup.procs
	grep -q '^0::/mg/c1/sub$' "/proc/$pid/cgroup"
	for _ in $(seq 200); do grep -q done "$BUNDLES/rootfs/tmp/sub.out" 2>/dev/null && break; sleep 0.1; done
	cat "$BUNDLES/rootfs/tmp/sub.out"
	got=$(got_mib "$(cat "$BUNDLES/rootfs/tmp/sub.out")")
	rm -f "$BUNDLES/rootfs/tmp/sub.out"
	[ "$got" -ge 240 ] && [ "$got" -le 256 ]
}

# A 512 MiB file on ext4 on a RAM disk at /tmp/data, its page cache
# dropped.  The file system is made and written once per VM (at
# /tmp/bigfs, 512 MiB of writes are tens of seconds under TCG) and bound
# at /tmp/data for each test; teardown unmounts the bind.
make_big_file() {
	if [ ! -e /tmp/bigfs/written ]; then
		[ -e /dev/ram0 ] || insmod "/lib/modules/$(uname -r)/brd.ko" rd_nr=1 rd_size=$((600 * 1024))
		umount /tmp/bigfs 2>/dev/null || true
		mkfs.ext4 -q -F /dev/ram0
		mkdir -p /tmp/bigfs
		mount /dev/ram0 /tmp/bigfs
		dd if=/dev/zero of=/tmp/bigfs/big bs=1M count=512 status=none
		sync
		touch /tmp/bigfs/written
	fi
	mkdir -p /tmp/data
	mount --bind /tmp/bigfs /tmp/data
	echo 3 >/proc/sys/vm/drop_caches
}

@test "pressure-gate 50% of 256M: after reading 512 MiB of file, page cache does not count and 16 MiB succeeds" {
	make_big_file
	make_bundle c1 '{"memgate.io/pressure-gate": "50%"}' $((256 * MIB)) -- /bin/sleep 600
	start_ctr c1
	status_of c1 | jq -e '.policy.pressure_gate_bytes == 134217728'
	runc exec c1 /bin/cat /data/big >/dev/null
	current=$(cat /sys/fs/cgroup/mg/c1/memory.current)
	echo "memory.current after the read: $current"
	[ "$current" -gt $((128 * MIB)) ]
	run runc exec c1 /alloc once 16
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "pressure-gate 50% of 256M: with memory in use above the gate, 16 MiB fails with ENOMEM" {
	# Two 100 MiB commits while little is in use, touched afterwards: 200 MiB
	# in use.  Above the gate every commit fails (runc exec's, a tmpfs write),
	# so the same process tries the 16 MiB and answers with its exit status.
	make_bundle c1 '{"memgate.io/pressure-gate": "50%"}' $((256 * MIB)) -- /bin/sh -c '/alloc lazy 100 2 16; echo "status $?"; sleep 600'
	start_ctr c1
	for _ in $(seq 100); do grep -q status "$BUNDLES/c1.log" && break; sleep 0.2; done
	cat "$BUNDLES/c1.log"
	grep -qx 'status 12' "$BUNDLES/c1.log"
	status_of c1 | jq -e '.last_denial.kind == "pressure-gate" and .last_denial.requested_bytes == 16777216'
	status_of c1 | jq -e '.last_denial.measured_bytes > 190 * 1048576 and .last_denial.limit_bytes == 134217728'
}

@test "fork-gate: below the gate fork succeeds, above it fork fails with EAGAIN" {
	make_bundle c1 '{"memgate.io/fork-gate": "64Mi"}' $((256 * MIB)) -- /alloc forkafter 100
	run run_ctr c1
	echo "$output"
	[ "${lines[0]}" = "before: fork ok" ]
	[ "${lines[1]}" = "after: fork EAGAIN" ]
}

@test "fork-gate: bpftool cgroup show lists memgate's program on the container's cgroup" {
	make_bundle c1 '{"memgate.io/fork-gate": "64Mi"}' $((256 * MIB)) -- /bin/sleep 600
	start_ctr c1
	run bpftool cgroup show /sys/fs/cgroup/mg/c1
	echo "$output"
	[[ "$output" == *mg_task_alloc* ]]
	[ -e "/sys/fs/bpf/memgate/links/fork-gate-$(cgroup_id c1)" ]
}

@test "audit mode: the commit-limit and fork-gate workloads succeed and would-deny counts are recorded" {
	make_bundle c1 '{"memgate.io/commit-limit": "256Mi", "memgate.io/fork-gate": "64Mi", "memgate.io/mode": "audit"}' $((512 * MIB)) -- /bin/sleep 600
	start_ctr c1
	run runc exec c1 /alloc steps 1 300
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(got_mib "$output")" -eq 300 ]
	run runc exec c1 /alloc forkafter 100
	echo "$output"
	[ "${lines[1]}" = "after: fork ok" ]
	status_of c1 | jq -e '.mode == "audit" and .decisions.commits_audited > 0 and .decisions.forks_audited > 0'
	status_of c1 | jq -e '.decisions.commits_denied == 0 and .decisions.forks_denied == 0'
	memgate events --json | jq -s -e 'map(select(.decision == "audited")) | length > 0'
}

@test "a container without policy, beside one with a 64Mi limit, commits and touches 1 GiB" {
	make_bundle limited '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sh -c '/alloc steps 1; sleep 600'
	start_ctr limited
	make_bundle free '{}' 0 -- /alloc steps 64 1024
	run run_ctr free
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "got 1024 MiB" ]
	for _ in $(seq 100); do grep -q '^got' "$BUNDLES/limited.log" && break; sleep 0.1; done
	got=$(got_mib "$(cat "$BUNDLES/limited.log")")
	[ "$got" -ge 56 ] && [ "$got" -le 64 ]
}

@test "with the BPF LSM active, mmap and mprotect are decided by lsm programs, which the kernel never skips" {
	make_bundle c1 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sleep 600
	start_ctr c1
	[ "$(link_prog_type mmap_file)" = lsm ]
	[ "$(link_prog_type mprotect)" = lsm ]
	# brk and mremap growth: at security_mmap_addr (lsm/mmap_addr; roads.bats).
	[ "$(link_prog_type mmap_addr)" = lsm ]
	# Stack growth has no LSM hook that can refuse (fork: lsm/task_alloc, below).
	[ "$(link_prog_type vm_enough)" = tracing ]
	# One decision per charge: a 1 MiB malloc is one mmap, decided once
	# (not again when the kernel charges it).  Two runs that differ by 16
	# of them differ by 16 decisions, whatever each exec's own are.
	allowed() { status_of c1 | jq .decisions.commits_allowed; }
	a0=$(allowed)
	runc exec c1 /alloc steps 1 8
	a1=$(allowed)
	runc exec c1 /alloc steps 1 24
	a2=$(allowed)
	echo "decisions: $a0, $a1, $a2"
	d=$(((a2 - a1) - (a1 - a0)))
	[ "$d" -ge 14 ] && [ "$d" -le 18 ]
}

# held_kib NAME WORKLOAD KIB: "alloc WORKLOAD KIB" in the running container
# NAME commits until refused; prints what it committed (KiB, VmData + VmStk).
held_kib() {
	local out
	rm -f /tmp/data/go
	touch /tmp/data/go
	out=$(runc exec "$1" /alloc "$2" "$3" /data/go)
	echo "$2: $out" >&2
	sed -n 's/^got [0-9]* KiB, committed \([0-9]*\) KiB$/\1/p' <<<"$out"
}

@test "brk and mremap growth are held to the limit by lsm/mmap_addr, decided once per charge" {
	make_bundle c1 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sleep 600
	start_ctr c1
	[ "$(link_prog_type mmap_addr)" = lsm ]
	# glibc malloc of 16 KiB at a time grows the main arena with brk;
	# mremap grows one mapping 256 KiB at a time.
	for w in "brk 16" "mremap 256"; do
		kib=$(held_kib c1 $w)
		[ -n "$kib" ] && [ "$kib" -ge $((56 * 1024)) ] && [ "$kib" -le $((64 * 1024)) ]
	done
	# One decision per charge: 64 brk steps of 256 KiB more are 64 more decisions
	# (not 128: the kernel's own charge is not decided again).
	allowed() { status_of c1 | jq .decisions.commits_allowed; }
	a0=$(allowed)
	runc exec c1 /alloc once 1
	a1=$(allowed)
	runc exec c1 /alloc brkonce 16384 256
	a2=$(allowed)
	echo "decisions: $a0, $a1, $a2"
	d=$(((a2 - a1) - (a1 - a0)))
	[ "$d" -ge 62 ] && [ "$d" -le 66 ]
}

@test "fork is decided by lsm/task_alloc for the whole commit the child copies, not VMA by VMA" {
	make_bundle c1 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sleep 600
	start_ctr c1
	[ "$(link_prog_type fork_commit)" = lsm ]
	# 20 MiB in 20 VMAs: the child's 20 more fit under 64 MiB.
	run runc exec c1 /alloc forkat 20
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "fork ok" ]
	# 40 MiB in 40 VMAs: each alone would fit, the child's 40 more do not.
	run runc exec c1 /alloc forkat 40
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "fork ENOMEM" ]
}

@test "no program allocates or sleeps in the allocation path: preallocated maps, allowlisted helpers" {
	make_bundle c1 '{"memgate.io/commit-limit": "256Mi", "memgate.io/fork-gate": "64Mi"}' $((256 * MIB)) -- /bin/sleep 600
	start_ctr c1
	# Hash maps without BPF_F_NO_PREALLOC: an update never allocates.  The
	# memgate_dead queue is a preallocated array, and the memcg kfuncs only
	# take and drop references; bpf_preempt_{disable,enable} only count.
	# The one allocation: mg_pending, task local storage, made once per
	# thread at its first shared memory object (GFP_ATOMIC, never sleeping),
	# at mmap or shmget, not at a charge.
	for map in policies stats mms containers names; do
		bpftool map show pinned "/sys/fs/bpf/memgate/maps/$map" -j | jq -e '.type == "hash" and .flags == 0'
	done
	# prog-calls names what each program calls as bpftool's xlated dump
	# does, reading kallsyms once for all of them.
	calls=$(/memgate/build/test/prog-calls mg_)
	echo "$calls"
	progs=$(grep -c '^prog ' <<<"$calls")
	[ "$progs" -ge 6 ]
	[ "$progs" -eq "$(bpftool prog show -j | jq '[.[] | select((.name // "") | startswith("mg_"))] | length')" ]
	# As the verifier rewrote them: map helpers appear as the map type's own functions.
	allowed='__htab_map_lookup_elem|htab_map_update_elem|htab_map_delete_elem|htab_lru_map_update_elem|htab_lru_map_delete_elem|bpf_probe_read_kernel_str|array_map_lookup_elem|queue_stack_map_push_elem|bpf_get_current_ancestor_cgroup_id|bpf_get_current_task_btf|bpf_task_pt_regs|bpf_probe_read_kernel|bpf_ringbuf_reserve|bpf_ringbuf_submit|bpf_ktime_get_boot_ns|bpf_get_current_pid_tgid|bpf_get_current_comm|bpf_set_retval|bpf_cgroup_ancestor|bpf_cgroup_release|bpf_get_mem_cgroup|bpf_put_mem_cgroup|bpf_mem_cgroup_usage|bpf_mem_cgroup_page_state|bpf_preempt_disable|bpf_preempt_enable|bpf_task_storage_get|bpf_task_storage_get_recur|pc'
	while read -r _ id name callees; do
		for h in $callees; do
			[[ "$h" =~ ^($allowed)$ ]] || {
				echo "prog $id $name calls $h, which is not on the allowlist"
				return 1
			}
		done
	done <<<"$calls"
}

@test "the in-use measure matches memory.current less file pages (within 8 MiB) with anon memory and page cache held" {
	make_big_file
	# Audit mode with the smallest gate: every commit records what memgate measured.
	make_bundle m1 '{"memgate.io/mode": "audit", "memgate.io/pressure-gate": "4096"}' $((512 * MIB)) -- \
		/bin/sh -c 'dd if=/data/big of=/dev/null bs=1M count=96 2>/dev/null; sleep 3; /alloc settle 64 600'
	start_ctr m1
	for _ in $(seq 300); do grep -q holding "$BUNDLES/m1.log" && break; sleep 0.1; done
	grep -q holding "$BUNDLES/m1.log"
	measured=$(memgate events --json | jq -s '[.[] | select(.comm == "alloc")] | last | .measured_bytes')
	current=$(cat "$CGROUP_PARENT/m1/memory.current")
	file=$(awk '$1 == "active_file" || $1 == "inactive_file" {s += $2} END {print s}' "$CGROUP_PARENT/m1/memory.stat")
	anon=$(awk '$1 == "anon" {print $2}' "$CGROUP_PARENT/m1/memory.stat")
	expected=$((current - file))
	echo "measured $measured, memory.current $current, file LRU $file, anon $anon, expected $expected"
	# The workload really holds both kinds of memory.
	[ "$file" -ge $((64 * MIB)) ] && [ "$anon" -ge $((64 * MIB)) ]
	diff=$((measured - expected))
	[ "${diff#-}" -le $((8 * MIB)) ]
}
