#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Every bad memgate.io/ annotation makes runc fail to start the container, with
# memgate-hook's message naming the annotation in runc's error, and leaves
# nothing behind: no container, no cgroup, no pin, program or link.
#
# runc takes seconds per container under TCG, so setup_file starts every case
# below two at a time (the VM has two CPUs) and records what runc said and
# what was left right after; each @test then checks its own case.

load helpers

# Case name -> the container's memory.max in bytes (0: none), then its
# annotations, one ANNOTATION=VALUE a line.  Values hold no '"' or '\'.
declare -gA CASES=(
	[neg]=$'0\nmemgate.io/commit-limit=-5Mi'
	[frac]=$'0\nmemgate.io/commit-limit=0.5'
	[milli]=$'0\nmemgate.io/commit-limit=512m'
	[big]=$'0\nmemgate.io/commit-limit=18446744073709551616'
	[bigei]=$'0\nmemgate.io/commit-limit=16Ei'
	[empty]=$'0\nmemgate.io/commit-limit='
	[mb]=$'0\nmemgate.io/commit-limit=10MB'
	[kib]=$'0\nmemgate.io/commit-limit=10KiB'
	[abc]=$'0\nmemgate.io/commit-limit=abc'
	[knob]=$'0\nmemgate.io/commit-limits=256Mi'
	[noname]=$'0\nmemgate.io/commit-limit.=256Mi'
	[pctcommit]=$'0\nmemgate.io/commit-limit=50%'
	[pctnolimit]=$'0\nmemgate.io/pressure-gate=50%'
	[pct0]=$'536870912\nmemgate.io/fork-gate=0%'
	[pct101]=$'536870912\nmemgate.io/pressure-gate=101%'
	[mode]=$'0\nmemgate.io/commit-limit=256Mi\nmemgate.io/mode=enforcing'
	[unsup]=$'0\nmemgate.io/commit-limit=256Mi\nmemgate.io/on-unsupported=maybe'
	[page]=$'0\nmemgate.io/commit-limit=100'
	[space]=$'0\nmemgate.io/commit-limit= 1Gi'
	[gatemax]=$'1073741824\nmemgate.io/pressure-gate=2Gi'
	[mixed]=$'536870912\nmemgate.io/commit-limit=256Mi\nmemgate.io/fork-gate=lots'
)

# case_memory NAME, case_annotations NAME (one a line), case_json NAME
case_memory() {
	echo "${CASES[$1]%%$'\n'*}"
}

case_annotations() {
	echo "${CASES[$1]#*$'\n'}"
}

case_json() {
	local kv json='{' sep=
	while IFS= read -r kv; do
		json+="$sep\"${kv%%=*}\": \"${kv#*=}\""
		sep=', '
	done < <(case_annotations "$1")
	echo "$json}"
}

# launch NAME: try to start the case's container and record, in
# $BATS_FILE_TMPDIR/NAME.*, runc's status and error (logfmt's \" unquoted)
# and what was left right after: its cgroup, its runc state, memgate's pins.
launch() {
	local name=$1 out rc=0 dir=$BATS_FILE_TMPDIR
	make_bundle "$name" "$(case_json "$name")" "$(case_memory "$name")" -- /bin/sleep 600
	out=$(cd "$BUNDLES/$name" && runc run -d "$name" </dev/null 2>&1) || rc=$?
	printf '%s\n' "${out//\\\"/\"}" >"$dir/$name.out"
	{
		[ ! -e "$CGROUP_PARENT/$name" ] || echo "cgroup $CGROUP_PARENT/$name"
		[ ! -e "/run/runc/$name" ] || echo "runc state /run/runc/$name"
		[ ! -e /sys/fs/bpf/memgate ] || echo "memgate pins /sys/fs/bpf/memgate"
	} >"$dir/$name.left"
	echo "$rc" >"$dir/$name.rc"
}

setup_file() {
	require_vm
	local name running=0
	make_rootfs
	make_bundle warmup '{}' 0 -- /bin/true # runc's spec, once, before the workers share it
	for name in "${!CASES[@]}"; do
		launch "$name" &
		if ((++running >= 2)); then
			wait -n || true
			running=$((running - 1))
		fi
	done
	wait
}

teardown_file() {
	cleanup_containers
}

setup() {
	require_vm
}

teardown() {
	cleanup_containers
}

# expect_rejected NAME KEY EXPECTED: runc failed to start case NAME; its error
# carries memgate-hook's message, which names the annotation KEY and contains
# EXPECTED; `memgate validate` (the same parser) gives the same message; and
# nothing was left behind.
expect_rejected() {
	local name=$1 key=$2 expected=$3 dir=$BATS_FILE_TMPDIR runc_out mem msg
	local -a kv mem_args=()

	[ -e "$dir/$name.rc" ] || { echo "case $name did not run"; return 1; }
	runc_out=$(<"$dir/$name.out")
	echo "runc (status $(<"$dir/$name.rc")): $runc_out"
	[ "$(<"$dir/$name.rc")" -ne 0 ]
	[[ "$runc_out" == *"memgate-hook: annotation $key="* ]]
	[[ "$runc_out" == *"$expected"* ]]

	mapfile -t kv < <(case_annotations "$name")
	mem=$(case_memory "$name")
	if ((mem > 0)); then
		mem_args=(--memory-max "$mem")
	fi
	run memgate validate "${mem_args[@]}" "${kv[@]}"
	echo "memgate validate (status $status): $output"
	[ "$status" -eq 1 ]
	[[ "$output" == "memgate validate: annotation $key="* ]]
	msg=${output#memgate validate: }
	msg=${msg%"; give the container's limit with --memory-max SIZE"} # validate's own hint
	[[ "$runc_out" == *"memgate-hook: $msg"* ]]

	echo "left right after: $(<"$dir/$name.left")"
	[ ! -s "$dir/$name.left" ]
	[ ! -e "$CGROUP_PARENT/$name" ]
	[ ! -e "/run/runc/$name" ]
	assert_no_memgate
}

@test "rejects a negative size: commit-limit=-5Mi" {
	expect_rejected neg memgate.io/commit-limit '(no sign)'
}

@test "rejects a fractional byte count: commit-limit=0.5" {
	expect_rejected frac memgate.io/commit-limit 'expected a whole number of bytes, not a fraction'
}

@test "rejects milli-bytes with a hint: commit-limit=512m" {
	expect_rejected milli memgate.io/commit-limit '"512m" is 0.512 bytes in Kubernetes notation (m is milli); did you mean "512Mi"?'
}

@test "rejects 2^64 bytes: commit-limit=18446744073709551616" {
	expect_rejected big memgate.io/commit-limit 'too large: expected at most 18446744073709551615 bytes'
}

@test "rejects 2^64 bytes with a unit: commit-limit=16Ei" {
	expect_rejected bigei memgate.io/commit-limit 'too large: expected at most 18446744073709551615 bytes'
}

@test "rejects an empty value: commit-limit=\"\"" {
	expect_rejected empty memgate.io/commit-limit 'not an empty string'
}

@test "rejects an unknown unit with a hint: commit-limit=10MB" {
	expect_rejected mb memgate.io/commit-limit 'unknown unit "MB"; did you mean "10Mi" (binary) or "10M" (decimal)?'
}

@test "rejects an unknown unit with a hint: commit-limit=10KiB" {
	expect_rejected kib memgate.io/commit-limit 'unknown unit "KiB"; did you mean "10Ki" (binary) or "10k" (decimal)?'
}

@test "rejects a value that is no number: commit-limit=abc" {
	expect_rejected abc memgate.io/commit-limit 'expected a size such as 512Mi or 2Gi (a number, then an optional unit'
}

@test "rejects an unknown knob: memgate.io/commit-limits" {
	expect_rejected knob memgate.io/commit-limits 'unknown knob "commit-limits" (known: commit-limit, pressure-gate, fork-gate, mode, on-unsupported)'
}

@test "rejects an override with no container name: memgate.io/commit-limit." {
	expect_rejected noname memgate.io/commit-limit. 'expected a container name after "commit-limit."'
}

@test "rejects a percentage where only a size makes sense: commit-limit=50%" {
	expect_rejected pctcommit memgate.io/commit-limit 'a percentage is not accepted here'
}

@test "rejects a percentage without a memory limit: pressure-gate=50%" {
	expect_rejected pctnolimit memgate.io/pressure-gate 'a percentage needs a container memory limit'
}

@test "rejects 0%: fork-gate=0%" {
	expect_rejected pct0 memgate.io/fork-gate 'expected a percentage from 1% to 100%'
}

@test "rejects 101%: pressure-gate=101%" {
	expect_rejected pct101 memgate.io/pressure-gate 'expected a percentage from 1% to 100%'
}

@test "rejects an unknown mode: mode=enforcing" {
	expect_rejected mode memgate.io/mode 'expected "enforce", "audit" or "monitor"'
}

@test "rejects an unknown on-unsupported: on-unsupported=maybe" {
	expect_rejected unsup memgate.io/on-unsupported 'expected "fail" or "warn"'
}

@test "rejects less than one page: commit-limit=100" {
	expect_rejected page memgate.io/commit-limit 'expected at least 4096 bytes (one page), got 100 bytes'
}

@test "rejects surrounding whitespace: commit-limit=\" 1Gi\"" {
	expect_rejected space memgate.io/commit-limit 'no surrounding spaces'
}

@test "rejects a gate above memory.max: pressure-gate=2Gi with a 1Gi limit" {
	expect_rejected gatemax memgate.io/pressure-gate '2147483648 bytes is above the container memory limit (memory.max is 1073741824)'
}

@test "rejects a bad value next to good ones: fork-gate=lots beside commit-limit=256Mi" {
	expect_rejected mixed memgate.io/fork-gate 'expected a size such as 512Mi or 2Gi'
}

@test "every case above has its @test" {
	local name checked
	checked=$(grep -o 'expect_rejected [a-z0-9]* ' "$BATS_TEST_FILENAME")
	for name in "${!CASES[@]}"; do
		[[ "$checked" == *"expect_rejected $name "* ]] || { echo "case $name is not checked"; return 1; }
	done
}

# try_start NAME: runc run -d; its error, logfmt's \" unquoted, on stdout.
try_start() {
	local out rc=0
	out=$(cd "$BUNDLES/$1" && runc run -d "$1" </dev/null 2>&1) || rc=$?
	printf '%s\n' "${out//\\\"/\"}"
	return "$rc"
}

@test "a rejected container leaves a running container's policy untouched" {
	local id policy pins progs

	make_bundle good '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/sleep 600
	start_ctr good
	id=$(cgroup_id good)
	policy=$(policy_of_cgroup "$id")
	[[ "$policy" == *'"commit_limit":268435456,'* ]]
	pins=$(find /sys/fs/bpf/memgate | sort)
	progs=$(mg_programs)
	[ -n "$progs" ]

	# Rejected while parsing the annotations, before memgate is touched...
	make_bundle bad1 '{"memgate.io/commit-limit": "512m"}' 0 -- /bin/sleep 600
	run try_start bad1
	[ "$status" -ne 0 ]
	[[ "$output" == *'memgate-hook: annotation memgate.io/commit-limit="512m"'* ]]
	# ...and while resolving against the container's cgroup, after it exists.
	make_bundle bad2 '{"memgate.io/pressure-gate": "2Gi"}' 1073741824 -- /bin/sleep 600
	run try_start bad2
	[ "$status" -ne 0 ]
	[[ "$output" == *'memgate-hook: annotation memgate.io/pressure-gate="2Gi"'* ]]

	# The same pins, the same programs (not reloaded), the same entry.
	[ "$(find /sys/fs/bpf/memgate | sort)" = "$pins" ]
	[ "$(mg_programs)" = "$progs" ]
	[ "$(policy_of_cgroup "$id")" = "$policy" ]
	[ "$(map_count policies)" -eq 1 ]
	bpftool map dump pinned /sys/fs/bpf/memgate/maps/containers -j |
		jq -e --argjson id "$id" '[.[].formatted] | length == 1
			and .[0].key.id == "good" and .[0].value.cgroup_id == $id'
	status_is good ".cgroup_id == $id and .policy.commit_limit_bytes == 268435456"
	[ "$(runc list -q)" = good ]
	[ ! -e "$CGROUP_PARENT/bad1" ]
	[ ! -e "$CGROUP_PARENT/bad2" ]

	runc delete -f good
	assert_no_memgate
	[ ! -e "$CGROUP_PARENT/good" ]
}

# admin_bundle NAME ANNOTATIONS -- ARGS: make_bundle, with the hook reading
# the admin configuration $BATS_FILE_TMPDIR/admin.json (runc gives hooks only
# the environment their entry names).
admin_bundle() {
	local name=$1
	make_bundle "$@"
	jq --arg cfg "MEMGATE_CONFIG=$BATS_FILE_TMPDIR/admin.json" \
		'.hooks.prestart[0].env = [$cfg] | .hooks.poststop[0].env = [$cfg]' \
		"$BUNDLES/$name/config.json" >"$BUNDLES/$name/config.json.new"
	mv "$BUNDLES/$name/config.json.new" "$BUNDLES/$name/config.json"
}

# wait_log NAME LINES: until the container's log has LINES results of
# `alloc once` (120 s at most).
wait_log() {
	local i
	for ((i = 0; i < 1200; i++)); do
		(($(grep -cxE 'ok|ENOMEM' "$BUNDLES/$1.log") >= $2)) && return 0
		sleep 0.1
	done
	echo "log of $1: $(<"$BUNDLES/$1.log")"
	return 1
}

@test "mode audit or monitor can not lift the admin's ceiling or drop its default" {
	echo '{"defaults": {"memgate.io/commit-limit": "64Mi"},
	       "ceilings": {"memgate.io/commit-limit": "256Mi"}}' >"$BATS_FILE_TMPDIR/admin.json"
	# Monitor alone: the 64Mi default holds, enforced.  Audit with its own
	# 128Mi (under the ceiling): 128Mi, enforced.  Each asks for 300 MiB.
	admin_bundle mon '{"memgate.io/mode": "monitor"}' 0 -- \
		/bin/sh -c '/alloc once 32; /alloc once 300; sleep 600'
	admin_bundle aud '{"memgate.io/mode": "audit", "memgate.io/commit-limit": "128Mi"}' 0 -- \
		/bin/sh -c '/alloc once 100; /alloc once 300; sleep 600'
	start_ctr mon
	start_ctr aud
	wait_log mon 2
	wait_log aud 2
	echo "mon: $(<"$BUNDLES/mon.log") aud: $(<"$BUNDLES/aud.log")"
	[ "$(grep -xE 'ok|ENOMEM' "$BUNDLES/mon.log")" = $'ok\nENOMEM' ]
	[ "$(grep -xE 'ok|ENOMEM' "$BUNDLES/aud.log")" = $'ok\nENOMEM' ]
	status_is mon '.mode == "enforce" and .policy.commit_limit_bytes == 67108864 and .decisions.commits_denied >= 1'
	status_is aud '.mode == "enforce" and .policy.commit_limit_bytes == 134217728 and .decisions.commits_audited == 0'
	runc delete -f mon
	runc delete -f aud
	assert_no_memgate
}
