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
	# bpftool puts the BTF-typed key and value under "formatted".
	echo "$output" | jq -e --argjson id "$id" '[.[].formatted | select(.key == $id) | .value.commit_limit] == [268435456]'
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

@test "6 containers started and deleted concurrently: 6 policies, then nothing" {
	local i pids=() failed=0
	assert_no_memgate
	for i in 1 2 3 4 5 6; do
		make_bundle "par$i" "{\"memgate.io/commit-limit\": \"$((i * 64))Mi\"}" 0 -- /bin/sleep 600
	done
	for i in 1 2 3 4 5 6; do
		start_ctr "par$i" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { echo "par$((i + 1)) failed: $(cat "$BUNDLES/par$((i + 1)).log")"; failed=1; }
	done
	[ "$failed" -eq 0 ]
	# Each container's own policy, keyed by its own cgroup, in one dump of each.
	ids=()
	for i in 1 2 3 4 5 6; do
		ids+=("$(cgroup_id "par$i")")
	done
	bpftool map dump pinned /sys/fs/bpf/memgate/maps/policies -j |
		jq -e --args '[.[].formatted | [.key, .value.commit_limit]] | sort ==
			([$ARGS.positional | to_entries[] | [(.value | tonumber), (.key + 1) * 64 * 1048576]] | sort)' "${ids[@]}"
	memgate status --json |
		jq -e --args '[.containers[] | [.id, .cgroup_id]] | sort ==
			([$ARGS.positional | to_entries[] | ["par\(.key + 1)", (.value | tonumber)]] | sort)' "${ids[@]}"
	[ "$(map_count containers)" -eq 6 ]
	# One load: one set of programs, no staging tree left.
	[ "$(bpftool prog show | grep -c 'name mg_vm_enough')" -eq 1 ]
	[ -z "$(ls /sys/fs/bpf | grep -E '^memgate-(staging|dead)-')" ]

	pids=()
	for i in 1 2 3 4 5 6; do
		runc delete -f "par$i" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { echo "delete par$((i + 1)) failed"; failed=1; }
	done
	[ "$failed" -eq 0 ]
	[ -z "$(runc list -q)" ]
	assert_no_memgate
	[ -z "$(ls /sys/fs/bpf | grep -E '^memgate-')" ]
}

@test "concurrent deletes of the last containers race concurrent starts: the new ones keep their policy" {
	local i pids=() failed=0
	for i in 1 2 3; do
		make_bundle "old$i" '{"memgate.io/commit-limit": "128Mi"}' 0 -- /bin/sleep 600
		make_bundle "new$i" '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/sleep 600
		start_ctr "old$i"
	done
	for i in 1 2 3; do
		runc delete -f "old$i" &
		pids+=($!)
		start_ctr "new$i" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || failed=1
	done
	[ "$failed" -eq 0 ]
	[ "$(map_count policies)" -eq 3 ]
	memgate status --json | jq -e '[.containers[] | .id] | sort == ["new1", "new2", "new3"]'
	for i in 1 2 3; do
		policy_is "$(cgroup_id "new$i")" '.commit_limit == 268435456'
	done
	bpftool prog show | grep -q 'name mg_vm_enough'
	[ -e /sys/fs/bpf/memgate/links/vm_enough ]
	for i in 1 2 3; do
		runc delete -f "new$i"
	done
	assert_no_memgate
}

@test "poststop after runc delete removes the container's entries; another container keeps its policy and the programs" {
	make_bundle gone '{"memgate.io/commit-limit": "256Mi", "memgate.io/fork-gate": "50%"}' 536870912 -- /bin/sleep 600
	make_bundle stays '{"memgate.io/commit-limit": "128Mi", "memgate.io/fork-gate": "50%"}' 536870912 -- /bin/sleep 600
	start_ctr gone &
	gone_pid=$!
	start_ctr stays &
	wait $!
	wait "$gone_pid"
	gone_id=$(cgroup_id gone)
	stays_id=$(cgroup_id stays)
	policy_is "$gone_id" '.commit_limit == 268435456 and .fork_gate == 268435456'
	[ -n "$(map_dump stats | grep "\"key\":$gone_id,")" ]
	[ -e "/sys/fs/bpf/memgate/links/fork-gate-$gone_id" ]
	[ -e "/sys/fs/bpf/memgate/links/fork-gate-$stays_id" ]
	progs=$(mg_programs)

	runc delete -f gone
	[ ! -e "$CGROUP_PARENT/gone" ]
	# Nothing keyed by the container or its cgroup is left.
	[ -z "$(policy_of_cgroup "$gone_id")" ]
	[ -z "$(map_dump stats | grep "\"key\":$gone_id,")" ]
	[ -z "$(map_dump mms | grep "\"cgroup_id\":$gone_id,")" ]
	[ -z "$(map_dump containers | grep '"id":"gone"')" ]
	[ ! -e "/sys/fs/bpf/memgate/links/fork-gate-$gone_id" ]
	# The other container and the shared programs stay, as they were.
	policy_is "$stays_id" '.commit_limit == 134217728 and .fork_gate == 268435456'
	memgate status --json | jq -e --argjson id "$stays_id" '[.containers[] | [.id, .cgroup_id]] == [["stays", $id]]'
	[ -e "/sys/fs/bpf/memgate/links/fork-gate-$stays_id" ]
	[ "$(mg_programs)" = "$progs" ]
	for link in vm_enough exit_mmap fork; do
		[ -e "/sys/fs/bpf/memgate/links/$link" ]
	done

	runc delete -f stays
	assert_no_memgate
}

@test "poststop removes a container that exits on its own, and with it memgate" {
	make_bundle brief '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/true
	run run_ctr brief
	[ "$status" -eq 0 ]
	[ -z "$(runc list -q)" ]
	assert_no_memgate
}

@test "memgate preload keeps memgate loaded with no policy: starts find it loaded, stops leave it, --release lets it go" {
	run memgate preload --bogus
	[ "$status" -ne 0 ]
	[[ $output == *"'--bogus'"* ]]
	assert_no_memgate
	run memgate preload
	[ "$status" -eq 0 ]
	[[ $output == *"kept with no policy"* ]]
	# Loaded, enforcing, and nothing under policy.
	memgate status --json | jq -e '.loaded and .kept_loaded and .enforcement and (.containers | length) == 0'
	progs=$(mg_program_ids)
	link=$(bpftool link show pinned /sys/fs/bpf/memgate/links/vm_enough -j | jq .id)
	[ -n "$progs" ]

	# A start loads nothing: the same programs and links serve it; its stop
	# (the last policy gone) and gc leave memgate loaded.
	make_bundle warm '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/true
	run run_ctr warm
	[ "$status" -eq 0 ]
	memgate gc
	memgate status --json | jq -e '.kept_loaded and (.containers | length) == 0'
	[ "$(mg_program_ids)" = "$progs" ]
	[ "$(bpftool link show pinned /sys/fs/bpf/memgate/links/vm_enough -j | jq .id)" = "$link" ]

	# Released while a container is under policy: memgate goes with it.
	make_bundle held '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/sleep 600
	start_ctr held
	[ "$(mg_program_ids)" = "$progs" ]
	run memgate preload --release
	[ "$status" -eq 0 ]
	[[ $output == *"no longer kept"* ]]
	memgate status --json | jq -e '(.kept_loaded | not) and [.containers[].id] == ["held"]'
	runc delete -f held
	assert_no_memgate
	run memgate preload --release
	[ "$status" -eq 0 ]
	[[ $output == *"not loaded"* ]]
}
