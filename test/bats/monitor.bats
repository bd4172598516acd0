#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Monitor first: OOM kills, memcg reclaim and peak usage per container, in
# memgate.io/mode: monitor (the monitor object only, no knob).

load helpers

bats_require_minimum_version 1.5.0

setup() {
	require_vm
}

teardown() {
	cleanup_containers
	[ -z "${follower:-}" ] || kill "$follower" 2>/dev/null || true
}

@test "an OOM-killed container shows the kill, with the victim's pid and comm, in status and in events" {
	make_bundle c1 '{"memgate.io/mode": "monitor"}' $((32 * 1048576)) -- /bin/sleep 600
	start_ctr c1
	status_is c1 '.mode == "monitor" and .oom.kills == 0 and .oom.last_victim == null'
	memgate events --follow --json >"$BUNDLES/follow.out" &
	follower=$!
	sleep 1
	dmesg -c >/dev/null
	# 64 MiB touched under a 32 MiB memory.max, with no swap: the OOM killer takes alloc.
	run runc exec c1 /alloc hold 64 1
	echo "exec: status $status, $output"
	[ "$status" -ne 0 ]
	# The kernel's own account of the kill: "Killed process PID (alloc)".
	victim=$(dmesg | sed -n 's/.*Killed process \([0-9]*\) (alloc).*/\1/p' | tail -n 1)
	echo "kernel log victim: $victim"
	[ -n "$victim" ]
	memgate status --json | jq -c '.containers[]'
	status_is c1 ".oom.kills == 1 and .oom.memcg_oom_kills == 1
		and .oom.last_victim.pid == $victim and .oom.last_victim.comm == \"alloc\"
		and .oom.last_victim.timestamp_ns > 0 and .memory.peak_bytes >= 30 * 1048576
		and .reclaim.episodes > 0"
	run memgate status
	echo "$output"
	[[ "$output" == *"last oom kill: pid $victim (alloc)"* ]]
	for _ in $(seq 50); do grep -q oom-kill "$BUNDLES/follow.out" && break; sleep 0.1; done
	cat "$BUNDLES/follow.out"
	grep oom-kill "$BUNDLES/follow.out" | head -n 1 |
		jq -e ".kind == \"oom-kill\" and .decision == \"killed\" and .container == \"c1\" and .pid == $victim and .comm == \"alloc\""
	run memgate status --prometheus
	grep -E '^memgate_oom_kills_total\{container="c1"\} 1$' <<<"$output"
	grep -E '^memgate_memory_peak_bytes\{container="c1"\} [0-9]+$' <<<"$output"
	grep -E '^memgate_reclaim_episodes_total\{container="c1"\} [1-9][0-9]*$' <<<"$output"
	grep -E '^memgate_reclaim_seconds_total\{container="c1"\} [0-9.]+$' <<<"$output"
}

@test "a container under memory pressure (above memory.high) shows reclaim above zero, and no kill" {
	make_bundle c1 '{"memgate.io/mode": "monitor"}' 0 -- /alloc hold 24 600
	jq '.linux.resources.unified = {"memory.high": "20971520"}' "$BUNDLES/c1/config.json" >"$BUNDLES/c1/config.json.new"
	mv "$BUNDLES/c1/config.json.new" "$BUNDLES/c1/config.json"
	start_ctr c1
	for _ in $(seq 300); do grep -q '^holding' "$BUNDLES/c1.log" && break; sleep 0.1; done
	cat "$BUNDLES/c1.log"
	grep -q '^holding' "$BUNDLES/c1.log"
	memgate status --json | jq -c '.containers[]'
	status_is c1 '.reclaim.episodes > 0 and .reclaim.time_ns > 0 and .oom.kills == 0'
}

@test "monitor mode loads no enforcement knob, and everything is gone after the container" {
	make_bundle c1 '{"memgate.io/mode": "monitor", "memgate.io/commit-limit": "16Mi"}' 0 -- /alloc steps 1 48
	run run_ctr c1
	echo "$output"
	[ "$status" -eq 0 ]
	# Records only: the commit limit does not apply.
	[[ "$output" == *"got 48 MiB"* ]]
	assert_no_memgate
}
