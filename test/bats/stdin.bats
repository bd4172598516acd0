#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The hook run directly on malformed OCI state: a non-zero exit with one clear
# line on stderr, never a crash; and the states it must accept quietly.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	require_vm
	IN=$BATS_TEST_TMPDIR/state.json
}

teardown() {
	cleanup_containers
}

# hook_rejects EXPECTED [ARGS...]: run the hook with ARGS on $IN; it must fail
# with an exit status (not a signal), print nothing on stdout, and exactly one
# line on stderr that starts with "memgate-hook: " and contains EXPECTED.
hook_rejects() {
	local expected=$1
	shift
	run --separate-stderr "$HOOK" "$@" <"$IN"
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -ne 0 ]
	[ "$status" -lt 128 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" != *$'\n'* ]]
	[[ "$stderr" == "memgate-hook: "* ]]
	[[ "$stderr" == *"$expected"* ]]
}

# hook_accepts [STAGE...]: the hook exits 0 on $IN and prints nothing.
hook_accepts() {
	run --separate-stderr "$HOOK" "$@" <"$IN"
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

# A container under policy, so that memgate's shared state is loaded.
start_policy_container() {
	make_bundle keep '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/sleep 600
	start_ctr keep
	KEEP_ID=$(cgroup_id keep)
	KEEP_POLICY=$(policy_of_cgroup "$KEEP_ID")
	[[ "$KEEP_POLICY" == *'"commit_limit":268435456,'* ]]
}

assert_policy_container_untouched() {
	[ "$(policy_of_cgroup "$KEEP_ID")" = "$KEEP_POLICY" ]
	status_is keep ".cgroup_id == $KEEP_ID"
}

@test "empty stdin" {
	: >"$IN"
	hook_rejects "OCI state on stdin is empty" prestart
}

@test "stdin that is not JSON" {
	printf 'this is not JSON\n' >"$IN"
	hook_rejects "OCI state: invalid JSON" prestart
}

@test "truncated JSON" {
	printf '{"ociVersion": "1.0.2", "id": "t1", "status": "creating", "pid": 4' >"$IN"
	hook_rejects "OCI state: invalid JSON" prestart
}

@test "JSON followed by trailing data" {
	printf '{"id": "t1", "status": "creating"} {"id": "t2"}' >"$IN"
	hook_rejects "OCI state: invalid JSON" prestart
}

@test "a NUL byte inside the JSON" {
	printf '{"id": "t1", "status": "creating"}\0{}' >"$IN"
	hook_rejects "OCI state: invalid JSON" prestart
}

@test "JSON that is an array, not an object" {
	printf '[{"id": "t1", "status": "creating"}]' >"$IN"
	hook_rejects "OCI state: expected a JSON object, got array" prestart
}

@test "JSON nested 100000 deep" {
	head -c 100000 /dev/zero | tr '\0' '[' >"$IN"
	hook_rejects "OCI state: JSON nested deeper than 64 levels at byte 64" prestart
}

@test "id that is a number" {
	printf '{"ociVersion": "1.0.2", "id": 42, "status": "creating", "pid": 1}' >"$IN"
	hook_rejects 'OCI state: "id": expected string, got integer' prestart
}

@test "pid that is a string" {
	printf '{"ociVersion": "1.0.2", "id": "t1", "status": "creating", "pid": "1234"}' >"$IN"
	hook_rejects 'OCI state: "pid": expected integer, got string' prestart
}

@test "pid that is negative" {
	printf '{"id": "t1", "status": "creating", "pid": -1}' >"$IN"
	hook_rejects 'OCI state: "pid": expected integer from 0 to' prestart
}

@test "annotations that are an array" {
	printf '{"id": "t1", "status": "creating", "pid": 1, "annotations": ["memgate.io/commit-limit=1Gi"]}' >"$IN"
	hook_rejects 'OCI state: "annotations": expected object, got array' prestart
}

@test "an annotation value that is not a string" {
	printf '{"id": "t1", "status": "creating", "pid": 1, "annotations": {"memgate.io/commit-limit": 1073741824}}' >"$IN"
	hook_rejects 'OCI state: "annotations"."memgate.io/commit-limit": expected string, got integer' prestart
}

@test "missing id" {
	printf '{"ociVersion": "1.0.2", "status": "creating", "pid": 1, "bundle": "/tmp"}' >"$IN"
	hook_rejects 'OCI state: "id" is missing (expected string)' prestart
}

@test "empty id" {
	printf '{"id": "", "status": "creating", "pid": 1}' >"$IN"
	hook_rejects 'OCI state: "id": expected non-empty string' prestart
}

@test "missing status" {
	printf '{"id": "t1", "pid": 1}' >"$IN"
	hook_rejects 'OCI state: "status" is missing (expected string)' prestart
}

@test "a status that names no stage, with no stage argument" {
	printf '{"id": "t1", "status": "running", "pid": 1}' >"$IN"
	hook_rejects 'OCI state: "status" is "running"; expected creating, created or stopped'
}

@test "a status with a newline in it still gives one line" {
	printf '{"id": "t1", "status": "running\\nmemgate-hook: forged second line", "pid": 1}' >"$IN"
	hook_rejects 'OCI state: "status" is "running\nmemgate-hook: forged second line"; expected creating'
}

@test "an unknown stage argument" {
	printf '{"id": "t1", "status": "creating", "pid": 1}' >"$IN"
	hook_rejects 'unknown stage "poststart": expected prestart, createRuntime or poststop' poststart
}

@test "a policy at prestart without a pid" {
	printf '{"id": "t1", "status": "creating", "annotations": {"memgate.io/commit-limit": "1Gi"}}' >"$IN"
	hook_rejects 'OCI state: "pid" is missing' prestart
}

@test "no annotations in the state and no config.json in the bundle" {
	printf '{"id": "t1", "status": "creating", "pid": 1, "bundle": "/nonexistent/bundle"}' >"$IN"
	hook_rejects 'OCI bundle config /nonexistent/bundle/config.json: cannot open' prestart
}

@test "a bundle path with a newline still gives one line" {
	printf '{"id": "t1", "status": "creating", "pid": 1, "bundle": "/nonexistent\\nsecond line"}' >"$IN"
	hook_rejects 'OCI bundle config /nonexistent\nsecond line/config.json: cannot open' prestart
}

@test "2 MiB of input from a file" {
	{
		printf '{"id": "t1", "status": "creating", "pid": 1, "annotations": {"pad": "'
		head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' a
		printf '"}}'
	} >"$IN"
	hook_rejects "OCI state on stdin exceeds 1048576 bytes" prestart
}

@test "2 MiB of input from a pipe: the hook stops reading and fails" {
	run --separate-stderr bash -c "head -c $((2 * 1024 * 1024)) /dev/zero | tr '\\0' ' ' | '$HOOK' prestart"
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -ne 0 ]
	[ "$status" -lt 128 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "memgate-hook: OCI state on stdin exceeds 1048576 bytes" ]]
}

@test "just under 1 MiB of valid state is read in full" {
	{
		printf '{"id": "t1", "status": "creating", "pid": 1, "annotations": {"pad": "'
		head -c $((1024 * 1024 - 200)) /dev/zero | tr '\0' a
		printf '"}}'
	} >"$IN"
	[ "$(stat -c %s "$IN")" -le $((1024 * 1024)) ]
	hook_accepts prestart
	assert_no_memgate
}

@test "a state without memgate annotations costs nothing" {
	printf '{"ociVersion": "1.0.2", "id": "t1", "status": "creating", "pid": 1, "annotations": {"org.example/x": "y"}}' >"$IN"
	hook_accepts prestart
	hook_accepts
	assert_no_memgate
}

@test "stopped, for an id memgate never saw, with nothing loaded: exit 0" {
	printf '{"ociVersion": "1.0.2", "id": "never-seen", "status": "stopped", "bundle": "/nonexistent"}' >"$IN"
	hook_accepts
	hook_accepts poststop
	assert_no_memgate
}

@test "while a container is under policy, stopped states of other ids exit 0 and touch nothing" {
	start_policy_container
	# An id memgate never saw, given the stage or taking it from the status.
	printf '{"ociVersion": "1.0.2", "id": "never-seen", "status": "stopped", "bundle": "/nonexistent"}' >"$IN"
	hook_accepts
	hook_accepts poststop
	# An id too long to have an entry: memgate refuses it at start.
	printf '{"id": "%s", "status": "stopped"}' "$(head -c 300 /dev/zero | tr '\0' x)" >"$IN"
	hook_accepts poststop
	# No pid, a null pid, pid 0: normal at poststop.
	printf '{"ociVersion": "1.0.2", "id": "other", "status": "stopped", "bundle": "/tmp"}' >"$IN"
	hook_accepts poststop
	printf '{"ociVersion": "1.0.2", "id": "other", "status": "stopped", "pid": null}' >"$IN"
	hook_accepts poststop
	printf '{"ociVersion": "1.0.2", "id": "other", "status": "stopped", "pid": 0}' >"$IN"
	hook_accepts poststop
	assert_policy_container_untouched
}

@test "poststop with no pid removes the container it names" {
	start_policy_container
	printf '{"ociVersion": "1.0.2", "id": "keep", "status": "stopped"}' >"$IN"
	hook_accepts poststop
	[ -z "$(policy_of_cgroup "$KEEP_ID" 2>/dev/null)" ]
	# It was the last container under policy: memgate is gone.
	assert_no_memgate
}
