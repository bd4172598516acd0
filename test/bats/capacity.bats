#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# No container takes capacity from another, in memgate_mms (address spaces)
# or in mg_shm (shared memory objects): each has a reserve of its own and at
# most a share of the pool; one that makes more than its share fails closed
# alone, and the pool comes back when it stops.
#
# Runs build/test/capacity-test: memgate built with MG_CAPACITY_TEST
# (bpf/memgate.h), for each map a reserve of 4 per container, a pool of 8
# and a share of 12.

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

# wait_line NAME REGEX: the container's log has a line matching REGEX (120 s at most).
wait_line() {
	for _ in $(seq 600); do
		grep -qE "$2" "$BUNDLES/$1.log" && return 0
		sleep 0.2
	done
	echo "$1: $(cat "$BUNDLES/$1.log")"
	return 1
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

@test "a container past its share of shared memory objects fails closed alone; another makes its own within its limit; a dead thread's pending object binds nothing; the pool returns when the first stops" {
	# A: one-page objects until refused (4 from its reserve, 8 from the
	# pool), after a child had a shared mmap decided that then failed.
	make_bundle a '{"memgate.io/commit-limit": "64Mi"}' 0 -- /alloc shared 20 4 stale hold
	# In the host's pid namespace, so the child's pid is the host's thread id.
	jq '.linux.namespaces |= map(select(.type != "pid"))' "$BUNDLES/a/config.json" >"$BUNDLES/a/config.json.new"
	mv "$BUNDLES/a/config.json.new" "$BUNDLES/a/config.json"
	start_ctr a
	wait_line a '^shared '
	out=$(cat "$BUNDLES/a.log")
	echo "a: $out"
	[[ "$out" =~ ^shared\ 12\ ENOMEM\ stale\ ([0-9]+)$ ]]
	stale=${BASH_REMATCH[1]}
	cap_status a '.decisions.shared_objects == 12 and .decisions.shared_objects_without_room >= 1'
	"$CAP/memgate" status --json | jq -e '.shm_pool_used == 8'
	"$CAP/memgate" status | grep -q 'shared memory objects: 12 counted, [0-9]* refused without room'

	# The child's thread id, reused by a process outside any container: its
	# shared object is its own (made, not charged to A, not refused for A's
	# lack of room).  A pending decision keyed by thread id outlived the
	# thread and was bound here.  ns_last_pid makes the next fork take the
	# id; another fork in between only makes the loop try again.  The
	# output file exists first: the child's redirection creates no tmpfs
	# inode of its own before its mmap.
	: >/tmp/reused.out
	for _ in $(seq 20); do
		echo $((stale - 1)) >/proc/sys/kernel/ns_last_pid
		"$ALLOC" shared 1 4 pid >/tmp/reused.out 2>&1 || true
		grep -q " pid $stale\$" /tmp/reused.out && break
	done
	echo "reused: $(cat /tmp/reused.out)"
	[ "$(cat /tmp/reused.out)" = "shared 1 pid $stale" ]
	cap_status a '.decisions.shared_objects == 12'

	# B starts with the pool drained: its reserve holds 4 objects, which
	# count toward its own limit as before.
	make_bundle b '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sleep 600
	start_ctr b || { cat "$BUNDLES/b.log"; false; }
	run runc exec b /alloc shared 4 8192
	echo "b: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "shared 4" ]
	# Gone with the process that made them (their inodes are freed at its exit).
	for _ in $(seq 300); do
		cap_status b '.decisions.shared_objects == 0' >/dev/null && break
		sleep 0.2
	done
	cap_status b '.decisions.shared_objects == 0'
	run runc exec b /alloc shared 4 20480
	echo "b: $output"
	[ "$status" -eq 1 ]
	[ "$output" = "shared 3 ENOMEM" ]
	cap_status b '.decisions.shared_objects_without_room == 0 and .decisions.commits_denied >= 1'

	# A stops: its objects go, and their pool slots come back.
	runc delete -f a
	for _ in $(seq 300); do
		"$CAP/memgate" status --json | jq -e '.shm_pool_used == 0' >/dev/null && break
		sleep 0.2
	done
	"$CAP/memgate" status --json | jq -e '.shm_pool_used == 0'
	make_bundle a2 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /alloc shared 12 4 hold
	start_ctr a2
	wait_line a2 '^shared '
	echo "a2: $(cat "$BUNDLES/a2.log")"
	[ "$(cat "$BUNDLES/a2.log")" = "shared 12" ]
	cap_status a2 '.decisions.shared_objects == 12 and .decisions.shared_objects_without_room == 0'
	runc delete -f a2
	runc delete -f b
	assert_no_memgate
}
