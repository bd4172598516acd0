#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# No container takes memgate_mms capacity from another: each has a reserve
# of its own and at most a share of the pool; one that runs more address
# spaces than its share fails closed alone, and the pool comes back when
# it stops.
#
# Runs build/test/capacity-test: memgate built with MG_CAPACITY_TEST
# (bpf/memgate.h), a reserve of 4 address spaces per container, a pool of
# 8 and a share of 12.

load helpers

CAP=/memgate/build/test/capacity-test

setup() {
	require_vm
	HOOK=$CAP/memgate-hook
}

teardown() {
	cleanup_containers
	"$CAP/memgate" gc --all >/dev/null 2>&1 || true
}

# cap_status ID FILTER: the capacity build's `memgate status --json` lists
# container ID once, and FILTER (jq) is true of its entry.
cap_status() {
	"$CAP/memgate" status --json |
		jq -e --arg id "$1" "[.containers[] | select(.id == \$id)] | length == 1 and (.[0] | $2)"
}

# wait_forked NAME N: the container's "alloc procs" printed "forked N" (120 s at most).
wait_forked() {
	for _ in $(seq 600); do
		grep -qx "forked $2" "$BUNDLES/$1.log" && return 0
		sleep 0.2
	done
	echo "$1: $(cat "$BUNDLES/$1.log")"
	return 1
}

@test "a container past its share of address spaces fails closed alone; another starts and is held to its limit; the pool returns when the first stops" {
	# A: 1 + 16 address spaces (forks, nothing exec'd), 12 of them tracked.
	make_bundle a '{"memgate.io/commit-limit": "64Mi"}' 0 -- /alloc procs 16
	start_ctr a
	wait_forked a 16
	cap_status a '.decisions.address_spaces == 12 and .decisions.address_spaces_untracked > 0'
	"$CAP/memgate" status --json | jq -e '.mms_pool_used == 8'
	"$CAP/memgate" status | grep -q 'without room: its untracked processes may commit nothing'
	# A's untracked processes fail closed: runc exec's init, an address
	# space without an entry in A, may commit nothing, so nothing runs.
	# (runc init's Go runtime dies with "fatal error: out of memory ...").
	run timeout 300 runc exec a /alloc once 1
	echo "a: $status $output"
	[ "$status" -ne 0 ]
	[ -z "$(grep -x ok <<<"$output" || true)" ]

	# B starts and execs with the pool drained (its reserve), and is held
	# to its own limit as before; its helpers stay ungoverned.
	make_bundle b '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sleep 600
	start_ctr b || { cat "$BUNDLES/b.log"; false; }
	run runc exec b /alloc once 32
	echo "b: $output"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
	run runc exec b /alloc once 100
	echo "b: $output"
	[ "$status" -eq 1 ]
	[ "$output" = ENOMEM ]
	cap_status b '.decisions.address_spaces_untracked == 0 and .decisions.commits_denied >= 1'

	# A stops: its pool slots come back, and a new container with 9 address
	# spaces and one exec (6 beyond its reserve) has room for all of them.
	runc delete -f a
	# Its address spaces leave at exit_mmap (a tracepoint; 7.3 may skip one).
	for _ in $(seq 300); do
		"$CAP/memgate" status --json | jq -e '.mms_pool_used <= 2' >/dev/null && break
		sleep 0.2
	done
	"$CAP/memgate" status --json | jq -e '.mms_pool_used <= 2'
	make_bundle a2 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /alloc procs 8
	start_ctr a2
	wait_forked a2 8
	cap_status a2 '.decisions.address_spaces > 4 and .decisions.address_spaces_untracked == 0'
	run timeout 300 runc exec a2 /alloc once 1
	echo "a2: $output"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
	runc delete -f a2
	runc delete -f b
	assert_no_memgate
}
