#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The hook's wiring with runc, the same on every kernel (make check runs it
# once): which stages run it, what it does for a container without a knob,
# and the failure rule.  What a kernel decides under it, hook.bats and
# enforce.bats show on each kernel.

load helpers

setup() {
	require_vm
}

teardown() {
	cleanup_containers
}

@test "a container without annotations starts and memgate loads nothing" {
	make_bundle plain '{}' 0 -- /bin/true
	run run_ctr plain
	[ "$status" -eq 0 ]
	assert_no_memgate
}

@test "the failure rule: memgate's own state broken never blocks a container without annotations" {
	make_bundle plain '{}' 0 -- /bin/true
	make_bundle c1 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sleep 600
	# A tree at memgate's pin path that is no memgate tree: directories where the maps belong.
	mkdir -p /sys/fs/bpf/memgate/maps/policies /sys/fs/bpf/memgate/maps/globals
	run run_ctr plain
	echo "$output"
	[ "$status" -eq 0 ]
	# It is moved aside and removed (nothing in it decides anything), and memgate loads its own.
	start_ctr c1
	policy_is "$(cgroup_id c1)" '.commit_limit == 67108864'
	runc delete -f c1
	assert_no_memgate

	# memgate's lock can not be taken: the annotated container is refused in one line, the other starts.
	rm -rf /run/memgate
	touch /run/memgate
	run run_ctr plain
	echo "$output"
	[ "$status" -eq 0 ]
	run start_ctr c1
	rm -f /run/memgate
	cat "$BUNDLES/c1.log"
	[ "$status" -ne 0 ]
	grep -q 'memgate-hook: cannot open /run/memgate: Not a directory' "$BUNDLES/c1.log"
	runc delete -f c1 2>/dev/null || true
	assert_no_memgate
}

# start_with_lock_held NAME: start a bundle detached while memgate's lock is
# held (flock -o keeps the lock's fd from runc); a hook that takes the lock
# waits, and timeout fails runc.  runc's output is in $BUNDLES/NAME.log.
start_with_lock_held() {
	local rc=0
	mkdir -p /run/memgate
	flock -o /run/memgate/lock timeout 30 bash -c \
		"cd '$BUNDLES/$1' && runc run -d '$1' </dev/null >'$BUNDLES/$1.log' 2>&1" || rc=$?
	cat "$BUNDLES/$1.log"
	return "$rc"
}

@test "without a knob to enforce, the hook neither takes memgate's lock nor loads anything" {
	# No memgate annotation at all.
	make_bundle none '{"org.example/other": "1"}' 0 -- /bin/sleep 600
	run start_with_lock_held none
	echo "$output"
	[ "$status" -eq 0 ]
	# memgate.io/mode and on-unsupported alone set no limit.
	make_bundle modeonly '{"memgate.io/mode": "audit", "memgate.io/on-unsupported": "warn"}' 0 -- /bin/sleep 600
	run start_with_lock_held modeonly
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(runc state modeonly | jq -r .status)" = running ]
	assert_no_memgate
}

# A hook that appends its stage ($1) to the file named by $2, then execs
# memgate-hook with that stage; prints its path.
stage_logging_hook() {
	local wrapper=$BUNDLES/hook-logging.sh
	cat >"$wrapper" <<-WRAPPER
		#!/bin/bash
		echo "\$1" >>"\$2"
		exec $HOOK "\$1"
	WRAPPER
	chmod +x "$wrapper"
	echo "$wrapper"
}

@test "prestart and createRuntime both run for one container: one policy, it works, delete removes it" {
	make_bundle twice '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/sleep 600
	wrapper=$(stage_logging_hook)
	log=$BUNDLES/twice.stages
	rm -f "$log"
	jq --arg hook "$wrapper" --arg log "$log" '
		.hooks.prestart = [{path: $hook, args: ["memgate-hook", "prestart", $log]}]
		| .hooks.createRuntime = [{path: $hook, args: ["memgate-hook", "createRuntime", $log]}]
		| .hooks.poststop = [{path: $hook, args: ["memgate-hook", "poststop", $log]}]
		' "$BUNDLES/twice/config.json" >"$BUNDLES/twice/config.json.new"
	mv "$BUNDLES/twice/config.json.new" "$BUNDLES/twice/config.json"
	start_ctr twice
	# Both stages really ran the hook.
	grep -qx prestart "$log"
	grep -qx createRuntime "$log"
	id=$(cgroup_id twice)
	[ "$(map_count policies)" -eq 1 ]
	[ "$(map_count containers)" -eq 1 ]
	policy_is "$id" '.commit_limit == 268435456'
	status_is twice ".cgroup_id == $id"
	# The container works.
	[ "$(runc state twice | jq -r .status)" = running ]
	run runc exec twice /bin/echo alive
	[ "$status" -eq 0 ]
	[ "$output" = alive ]
	runc delete -f twice
	grep -qx poststop "$log"
	assert_no_memgate
}

@test "createRuntime alone, the stage taken from the state's status, installs and removes the policy" {
	make_bundle cr '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/sleep 600
	# No argument: the hook reads the stage from "status" (creating, created, stopped).
	jq --arg hook "$HOOK" '.hooks = {createRuntime: [{path: $hook}], poststop: [{path: $hook}]}' \
		"$BUNDLES/cr/config.json" >"$BUNDLES/cr/config.json.new"
	mv "$BUNDLES/cr/config.json.new" "$BUNDLES/cr/config.json"
	start_ctr cr
	policy_is "$(cgroup_id cr)" '.commit_limit == 268435456'
	runc delete -f cr
	assert_no_memgate
}

