#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The hook's core path with runc: annotations in, policy in the pinned maps, out at delete.

load helpers

setup() {
	require_vm
}

teardown() {
	cleanup_containers
}

@test "a container with commit-limit has its policy keyed by its cgroup id while it runs" {
	make_bundle c1 '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/sleep 600
	start_ctr c1
	id=$(cgroup_id c1)
	run bpftool map dump pinned /sys/fs/bpf/memgate/maps/policies -j
	[ "$status" -eq 0 ]
	echo "$output" | jq -e --argjson id "$id" '.[] | select(.key == $id) | .value.commit_limit == 268435456'
	status_of c1 | jq -e --argjson id "$id" '.cgroup_id == $id and .policy.commit_limit_bytes == 268435456'
}

@test "after runc delete nothing of the container or of memgate remains" {
	make_bundle c1 '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/sleep 600
	start_ctr c1
	[ -e /sys/fs/bpf/memgate/maps/policies ]
	bpftool prog show | grep -q 'name mg_vm_enough'
	runc delete -f c1
	assert_no_memgate
}

@test "a container without annotations starts and memgate loads nothing" {
	make_bundle plain '{}' 0 -- /bin/true
	run run_ctr plain
	[ "$status" -eq 0 ]
	assert_no_memgate
}
