#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# In a VM booted with an lsm= list that lacks bpf: fork-gate can not be
# enforced, commit-limit (fmod_ret, no BPF LSM needed) still works.

load ../helpers

bats_require_minimum_version 1.5.0

setup() {
	require_vm
	! grep -qw bpf /sys/kernel/security/lsm
}

teardown() {
	cleanup_containers
}

@test "fork-gate with on-unsupported=fail (the default) refuses to start the container, clearly" {
	make_bundle c1 '{"memgate.io/fork-gate": "64Mi"}' $((256 * 1048576)) -- /bin/true
	run run_ctr c1
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"memgate.io/fork-gate can not be enforced on this kernel"* ]]
	[[ "$output" == *"BPF LSM is not active"* ]]
	assert_no_memgate
}

@test "fork-gate with on-unsupported=warn starts the container with a warning and no fork gate" {
	make_bundle c1 '{"memgate.io/fork-gate": "64Mi", "memgate.io/commit-limit": "128Mi", "memgate.io/on-unsupported": "warn"}' $((256 * 1048576)) -- /bin/sleep 600
	start_ctr c1
	status_of c1 | jq -e '.policy.fork_gate_bytes == 0 and .policy.commit_limit_bytes == 134217728'
	# The warning, as the hook prints it (runc shows hook output only on
	# failure), for a cgroup of its own: c1's already has a policy, and under
	# warn a fork gate alone falls back to monitoring, which registers one.
	mkdir -p "$CGROUP_PARENT/probe-warn"
	"$ALLOC" join "$CGROUP_PARENT/probe-warn/cgroup.procs" exec /bin/sleep 600 &
	pid=$!
	for _ in $(seq 50); do grep -q . "$CGROUP_PARENT/probe-warn/cgroup.procs" && break; sleep 0.1; done
	state=$(jq -cn --argjson pid "$pid" '{ociVersion: "1.0.2", id: "probe-warn", status: "creating", pid: $pid, bundle: "/tmp", annotations: {"memgate.io/fork-gate": "64Mi", "memgate.io/on-unsupported": "warn"}}')
	run --separate-stderr "$HOOK" prestart <<<"$state"
	"$HOOK" poststop <<<"${state/creating/stopped}"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	rmdir "$CGROUP_PARENT/probe-warn"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"warning: annotation memgate.io/fork-gate is not enforced on this kernel"* ]]
}

@test "a fork-gate only policy under warn leaves no memgate state" {
	make_bundle c1 '{"memgate.io/fork-gate": "64Mi", "memgate.io/on-unsupported": "warn"}' $((256 * 1048576)) -- /bin/true
	run run_ctr c1
	[ "$status" -eq 0 ]
	assert_no_memgate
}

@test "commit-limit still works without the BPF LSM" {
	make_bundle c1 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /alloc steps 1
	run run_ctr c1
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(sed -n 's/^got \([0-9]*\) MiB$/\1/p' <<<"$output")
	[ "$got" -ge 56 ] && [ "$got" -le 64 ]
}

@test "without the BPF LSM, mmap and mprotect are decided by fmod_ret programs" {
	make_bundle c1 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sleep 600
	start_ctr c1
	[ "$(link_prog_type mmap_file)" = tracing ]
	[ "$(link_prog_type mprotect)" = tracing ]
	[ "$(link_prog_type vm_enough)" = tracing ]
}
