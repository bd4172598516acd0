#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The admin configuration on the host: memgate validate, and what the hook
# decides from it before it touches any BPF.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	require_build
	ADMIN=$BATS_TEST_TMPDIR/memgate.json
	cat >"$ADMIN" <<-'EOF2'
		{ "defaults": { "memgate.io/commit-limit": "1Gi" },
		  "ceilings": { "memgate.io/commit-limit": "4Gi", "memgate.io/pressure-gate": "90%" } }
	EOF2
	export MEMGATE_CONFIG=$BATS_TEST_TMPDIR/absent.json
}

# state ANNOTATIONS_JSON: an OCI state at creation, for this shell's process.
state() {
	printf '{"ociVersion": "1.0.2", "id": "c1", "status": "creating", "pid": %d, "bundle": "/nonexistent", "annotations": %s}\n' $$ "$1"
}

@test "validate --admin-config prints the defaults and ceilings as written" {
	run --separate-stderr "$MEMGATE" validate --admin-config "$ADMIN"
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "admin configuration $ADMIN: defaults commit-limit=1Gi; ceilings commit-limit=4Gi pressure-gate=90%" ]
}

@test "validate --config tells the admin file from a bundle's config.json" {
	run "$MEMGATE" validate --config "$ADMIN"
	[ "$status" -eq 0 ]
	[[ "$output" == "admin configuration $ADMIN: defaults commit-limit=1Gi;"* ]]
	echo '{"ociVersion": "1.0.2", "annotations": {"memgate.io/commit-limit": "2Gi"}}' >"$BATS_TEST_TMPDIR/config.json"
	run "$MEMGATE" validate --config "$ADMIN" --config "$BATS_TEST_TMPDIR/config.json"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\n'"valid: mode=enforce commit-limit=2147483648 pressure-gate=0 fork-gate=0" ]]
}

@test "validate applies a default to a knob the container leaves unset" {
	run "$MEMGATE" validate --admin-config "$ADMIN" memgate.io/on-unsupported=warn
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\n'"valid: mode=enforce commit-limit=1073741824 pressure-gate=0 fork-gate=0 on-unsupported=warn (defaults: commit-limit)" ]]
}

@test "validate reads \$MEMGATE_CONFIG as the hook does" {
	MEMGATE_CONFIG=$ADMIN run "$MEMGATE" validate org.example/other=1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"valid: mode=enforce commit-limit=1073741824 "* ]]
	# setup() points it at a missing file: no defaults, so no policy.
	run "$MEMGATE" validate org.example/other=1
	[ "$output" = "no memgate policy: the hook will do nothing for this container" ]
}

@test "validate refuses an annotation above a ceiling, naming the ceiling and the file" {
	run --separate-stderr "$MEMGATE" validate --admin-config "$ADMIN" memgate.io/commit-limit=5Gi
	echo "status $status: $stderr"
	[ "$status" -eq 1 ]
	[ "$stderr" = "memgate validate: annotation memgate.io/commit-limit=\"5Gi\" is above the ceiling memgate.io/commit-limit=\"4Gi\" in the admin configuration $ADMIN" ]
}

@test "validate compares against a percentage ceiling once memory.max is known" {
	run "$MEMGATE" validate --admin-config "$ADMIN" --memory-max 1Gi memgate.io/pressure-gate=900Mi
	[ "$status" -eq 0 ]
	run --separate-stderr "$MEMGATE" validate --admin-config "$ADMIN" --memory-max 1Gi memgate.io/pressure-gate=95%
	echo "status $status: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *'memgate.io/pressure-gate="95%"'*'above the ceiling memgate.io/pressure-gate="90%"'*"of memory.max 1Gi) in the admin configuration $ADMIN" ]]
}

@test "validate names the file and the fault in a broken admin file" {
	local -a cases=(
		'{"default": {}}|unknown key "default" (expected "defaults", "ceilings", "modes" or "lock-timeout")'
		'{"modes": ["enforce", "loud"]}|"modes": "loud": expected "enforce", "audit" or "monitor"'
		'{"modes": "audit"}|"modes": expected a list of modes a container may choose'
		'{"defaults": {"memgate.io/commit-limt": "1Gi"}}|unknown knob "commit-limt"'
		'{"defaults": {"memgate.io/commit-limit.web": "1Gi"}}|unknown key "memgate.io/commit-limit.web"'
		'{"ceilings": {"memgate.io/mode": "audit"}}|memgate.io/mode has no ceiling'
		'{"defaults": {"memgate.io/commit-limit": "512m"}}|did you mean "512Mi"?'
		'{"defaults": |invalid JSON'
	)
	local c bad=0
	for c in "${cases[@]}"; do
		printf '%s' "${c%%|*}" >"$ADMIN"
		run --separate-stderr "$MEMGATE" validate --admin-config "$ADMIN"
		if [ "$status" -ne 1 ] || [ "${#stderr_lines[@]}" -ne 1 ] ||
			[[ "$stderr" != "memgate validate: admin configuration $ADMIN: "*"${c#*|}"* ]]; then
			echo "${c%%|*}: status $status: $stderr"
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

@test "hook: a broken admin file refuses a container that sets a knob, in one line" {
	echo '{"defaults": ' >"$ADMIN"
	MEMGATE_CONFIG=$ADMIN run --separate-stderr "$HOOK" prestart < <(state '{"memgate.io/commit-limit": "1Gi"}')
	one_line_error "memgate-hook: admin configuration $ADMIN: invalid JSON"
}

@test "hook: a broken admin file leaves a container without annotations alone, with a warning" {
	echo '{"defaults": {"memgate.io/nope": "1"}}' >"$ADMIN"
	MEMGATE_CONFIG=$ADMIN run --separate-stderr "$HOOK" prestart < <(state '{"org.example/x": "1"}')
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "memgate-hook: warning: container c1 sets no knob, so this is ignored: admin configuration $ADMIN: "*'unknown knob "nope"'* ]]
}

@test "hook: an annotation above a ceiling is refused before any BPF" {
	MEMGATE_CONFIG=$ADMIN run --separate-stderr "$HOOK" prestart < <(state '{"memgate.io/commit-limit": "8Gi"}')
	one_line_error "memgate-hook: annotation memgate.io/commit-limit=\"8Gi\" is above the ceiling memgate.io/commit-limit=\"4Gi\" in the admin configuration $ADMIN"
}

@test "hook: no admin file and no annotation: nothing to do, nothing said" {
	run --separate-stderr "$HOOK" prestart < <(state '{}')
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -eq 0 ]
	[ -z "$output$stderr" ]
}

# Issue 17: the admin's example, a default of 64Mi under a ceiling of 256Mi.
bounded() {
	echo '{"defaults": {"memgate.io/commit-limit": "64Mi"},
	       "ceilings": {"memgate.io/commit-limit": "256Mi"}'"${1:+, $1}"'}' >"$ADMIN"
}

@test "validate: mode monitor or audit can not drop the admin's default nor lift its ceiling" {
	bounded
	run --separate-stderr "$MEMGATE" validate --admin-config "$ADMIN" memgate.io/mode=monitor
	echo "status $status: $output $stderr"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "annotation memgate.io/mode=\"monitor\" does not apply: the admin configuration $ADMIN bounds commit-limit (default 64Mi, ceiling 256Mi), so the container is enforced" ]
	[ "${lines[2]}" = "valid: mode=enforce commit-limit=67108864 pressure-gate=0 fork-gate=0 (defaults: commit-limit)" ]
	run --separate-stderr "$MEMGATE" validate --admin-config "$ADMIN" memgate.io/mode=audit memgate.io/commit-limit=128Mi
	echo "status $status: $output $stderr"
	[ "$status" -eq 0 ]
	[ "${lines[2]}" = "valid: mode=enforce commit-limit=134217728 pressure-gate=0 fork-gate=0" ]
	run --separate-stderr "$MEMGATE" validate --admin-config "$ADMIN" memgate.io/mode=monitor memgate.io/commit-limit=400Mi
	[ "$status" -eq 1 ]
	[ "$stderr" = "memgate validate: annotation memgate.io/commit-limit=\"400Mi\" is above the ceiling memgate.io/commit-limit=\"256Mi\" in the admin configuration $ADMIN" ]
}

@test "validate: monitor mode shows no knob applied" {
	run --separate-stderr "$MEMGATE" validate memgate.io/mode=monitor memgate.io/commit-limit=1Gi
	echo "status $status: $output $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "valid: mode=monitor commit-limit=0 pressure-gate=0 fork-gate=0" ]
}

@test "the admin's \"modes\": validate lists them, the hook refuses another in one line" {
	bounded '"modes": ["audit"]'
	run --separate-stderr "$MEMGATE" validate --admin-config "$ADMIN"
	[ "$output" = "admin configuration $ADMIN: defaults commit-limit=64Mi; ceilings commit-limit=256Mi; modes enforce, audit" ]
	MEMGATE_CONFIG=$ADMIN run --separate-stderr "$HOOK" prestart < <(state '{"memgate.io/mode": "monitor"}')
	one_line_error "memgate-hook: annotation memgate.io/mode=\"monitor\" is not allowed by the admin configuration $ADMIN (modes a container may choose: enforce, audit)"
}
