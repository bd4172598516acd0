#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Seeing memgate's decisions: status --prometheus, events --follow, gc.

load helpers

setup() {
	require_vm
}

teardown() {
	cleanup_containers
	[ -z "${follower:-}" ] || kill "$follower" 2>/dev/null || true
	rmdir /sys/fs/cgroup/mg/orphan 2>/dev/null || true
}

@test "status --prometheus exposes decisions and committed bytes per container" {
	make_bundle c1 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sh -c '/alloc steps 1; sleep 600'
	start_ctr c1
	for _ in $(seq 100); do grep -q '^got' "$BUNDLES/c1.log" && break; sleep 0.1; done
	run memgate status --prometheus
	echo "$output"
	[ "$status" -eq 0 ]
	grep -E '^memgate_decisions_total\{container="c1",op="commit",decision="denied"\} [1-9]' <<<"$output"
	grep -E '^memgate_commit_limit_bytes\{container="c1"\} 67108864$' <<<"$output"
	grep -E '^memgate_committed_bytes\{container="c1"\} [0-9]+$' <<<"$output"
	grep -E '^# TYPE memgate_decisions_total counter$' <<<"$output"
}

@test "events --follow streams a denial as it happens" {
	# Room for runc exec's own init (about 64 MiB), not for 200 MiB more.
	make_bundle c1 '{"memgate.io/commit-limit": "160Mi"}' 0 -- /bin/sleep 600
	start_ctr c1
	memgate events --follow --json >"$BUNDLES/follow.out" &
	follower=$!
	sleep 1
	runc exec c1 /alloc once 200 || true
	for _ in $(seq 50); do [ -s "$BUNDLES/follow.out" ] && break; sleep 0.1; done
	cat "$BUNDLES/follow.out"
	head -n 1 "$BUNDLES/follow.out" | jq -e '.decision == "denied" and .kind == "commit-limit" and .requested_bytes == 209715200 and .comm == "alloc"'
}

@test "gc removes the entry of a cgroup that died without poststop, and then all of memgate" {
	mkdir -p /sys/fs/cgroup/mg/orphan
	sleep 600 &
	pid=$!
	echo "$pid" >/sys/fs/cgroup/mg/orphan/cgroup.procs
	echo "{\"ociVersion\":\"1.0.2\",\"id\":\"orphan\",\"status\":\"creating\",\"pid\":$pid,\"annotations\":{\"memgate.io/commit-limit\":\"64Mi\"}}" | "$HOOK" prestart
	status_of orphan | jq -e '.policy.commit_limit_bytes == 67108864'
	kill "$pid"
	wait "$pid" || true
	rmdir /sys/fs/cgroup/mg/orphan
	run memgate gc
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"removing orphan"* ]]
	assert_no_memgate
}

@test "gc keeps the entries of live containers" {
	make_bundle c1 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sleep 600
	start_ctr c1
	run memgate gc
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 entries removed"* ]]
	status_of c1 | jq -e '.policy.commit_limit_bytes == 67108864'
}
