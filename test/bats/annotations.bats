#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Every bad memgate.io/ annotation makes runc fail to start the container, with
# memgate-hook's message naming the annotation in runc's error, and leaves
# nothing behind: no container, no cgroup, no pin, program or link.

load helpers

setup() {
	require_vm
}

teardown() {
	local states=(/run/runc/*)
	if [ -e "${states[0]}" ]; then
		cleanup_containers
	fi
	# A test that failed half-way must not leave pins to the next one.
	if [ -e /sys/fs/bpf/memgate ]; then
		memgate gc --all >/dev/null 2>&1 || true
	fi
}

# try_start NAME: runc run -d; runc's error, with logfmt's \" unquoted, in $output.
try_start() {
	local out rc=0
	out=$(cd "$BUNDLES/$1" && runc run -d "$1" </dev/null 2>&1) || rc=$?
	printf '%s\n' "${out//\\\"/\"}"
	return "$rc"
}

# Nothing of container NAME, and nothing of memgate, is left.
assert_nothing_left() {
	local name=$1 states=(/run/runc/*)
	assert_no_memgate
	[ ! -e "$CGROUP_PARENT/$name" ] || { echo "cgroup $CGROUP_PARENT/$name is left"; return 1; }
	[ ! -e "${states[0]}" ] || { echo "containers left: $(runc list -q)"; return 1; }
}

# expect_rejected NAME MEMORY_MAX KEY EXPECTED -- ANNOTATION=VALUE...
# runc fails to start a container with these annotations; its error carries
# memgate-hook's message, which names the annotation KEY and contains
# EXPECTED; `memgate validate` (the same parser) gives the same message; and
# nothing is left behind.  Values must not hold '"' or '\'.
expect_rejected() {
	local name=$1 mem=$2 key=$3 expected=$4 ann='{' sep= kv runc_out msg
	local -a mem_args=()
	shift 4
	[ "$1" = -- ] && shift
	for kv in "$@"; do
		ann+="$sep\"${kv%%=*}\": \"${kv#*=}\""
		sep=', '
	done
	ann+='}'

	make_bundle "$name" "$ann" "$mem" -- /bin/sleep 600
	run try_start "$name"
	runc_out=$output
	echo "runc (status $status): $runc_out"
	[ "$status" -ne 0 ]
	[[ "$runc_out" == *"memgate-hook: annotation $key="* ]]
	[[ "$runc_out" == *"$expected"* ]]

	if ((mem > 0)); then
		mem_args=(--memory-max "$mem")
	fi
	run memgate validate "${mem_args[@]}" "$@"
	echo "memgate validate (status $status): $output"
	[ "$status" -eq 1 ]
	[[ "$output" == "memgate validate: annotation $key="* ]]
	msg=${output#memgate validate: }
	[[ "$runc_out" == *"memgate-hook: $msg"* ]]

	assert_nothing_left "$name"
}

@test "rejects a negative size: commit-limit=-5Mi" {
	expect_rejected neg 0 memgate.io/commit-limit '(no sign)' -- \
		'memgate.io/commit-limit=-5Mi'
}

@test "rejects a fractional byte count: commit-limit=0.5" {
	expect_rejected frac 0 memgate.io/commit-limit 'whole number of bytes' -- \
		'memgate.io/commit-limit=0.5'
}

@test "rejects milli-bytes with a hint: commit-limit=512m" {
	expect_rejected milli 0 memgate.io/commit-limit 'did you mean "512Mi"?' -- \
		'memgate.io/commit-limit=512m'
}

@test "rejects 2^64 bytes: commit-limit=18446744073709551616" {
	expect_rejected big 0 memgate.io/commit-limit 'too large' -- \
		'memgate.io/commit-limit=18446744073709551616'
}

@test "rejects 2^64 bytes with a unit: commit-limit=16Ei" {
	expect_rejected bigei 0 memgate.io/commit-limit 'too large' -- \
		'memgate.io/commit-limit=16Ei'
}

@test "rejects 1e20 bytes: commit-limit=1e20" {
	expect_rejected bigexp 0 memgate.io/commit-limit 'too large' -- \
		'memgate.io/commit-limit=1e20'
}

@test "rejects an empty value: commit-limit=\"\"" {
	expect_rejected empty 0 memgate.io/commit-limit 'not an empty string' -- \
		'memgate.io/commit-limit='
}

@test "rejects an unknown unit with a hint: commit-limit=10MB" {
	expect_rejected mb 0 memgate.io/commit-limit 'unknown unit "MB"; did you mean "10Mi" (binary) or "10M" (decimal)?' -- \
		'memgate.io/commit-limit=10MB'
}

@test "rejects an unknown unit with a hint: commit-limit=10KiB" {
	expect_rejected kib 0 memgate.io/commit-limit 'did you mean "10Ki" (binary) or "10k" (decimal)?' -- \
		'memgate.io/commit-limit=10KiB'
}

@test "rejects a value that is no number: commit-limit=abc" {
	expect_rejected abc 0 memgate.io/commit-limit 'expected a size such as 512Mi' -- \
		'memgate.io/commit-limit=abc'
}

@test "rejects a unit without a number: commit-limit=Mi" {
	expect_rejected unitonly 0 memgate.io/commit-limit 'a number, then an optional unit' -- \
		'memgate.io/commit-limit=Mi'
}

@test "rejects an unknown knob: memgate.io/commit-limits" {
	expect_rejected knob 0 memgate.io/commit-limits 'unknown knob "commit-limits"' -- \
		'memgate.io/commit-limits=256Mi'
}

@test "rejects an override with no container name: memgate.io/commit-limit." {
	expect_rejected noname 0 memgate.io/commit-limit. 'expected a container name after "commit-limit."' -- \
		'memgate.io/commit-limit.=256Mi'
}

@test "rejects a percentage where only a size makes sense: commit-limit=50%" {
	expect_rejected pctcommit 0 memgate.io/commit-limit 'a percentage is not accepted here' -- \
		'memgate.io/commit-limit=50%'
}

@test "rejects a percentage without a memory limit: pressure-gate=50%" {
	expect_rejected pctnolimit 0 memgate.io/pressure-gate 'a percentage needs a container memory limit' -- \
		'memgate.io/pressure-gate=50%'
}

@test "rejects 0%: fork-gate=0%" {
	expect_rejected pct0 536870912 memgate.io/fork-gate 'expected a percentage from 1% to 100%' -- \
		'memgate.io/fork-gate=0%'
}

@test "rejects 101%: pressure-gate=101%" {
	expect_rejected pct101 536870912 memgate.io/pressure-gate 'expected a percentage from 1% to 100%' -- \
		'memgate.io/pressure-gate=101%'
}

@test "rejects a fractional percentage: pressure-gate=50.5%" {
	expect_rejected pctfrac 536870912 memgate.io/pressure-gate 'whole percentage' -- \
		'memgate.io/pressure-gate=50.5%'
}

@test "rejects an unknown mode: mode=enforcing" {
	expect_rejected mode 0 memgate.io/mode 'expected "enforce" or "audit"' -- \
		'memgate.io/commit-limit=256Mi' 'memgate.io/mode=enforcing'
}

@test "rejects an unknown on-unsupported: on-unsupported=maybe" {
	expect_rejected unsup 0 memgate.io/on-unsupported 'expected "fail" or "warn"' -- \
		'memgate.io/commit-limit=256Mi' 'memgate.io/on-unsupported=maybe'
}

@test "rejects less than one page: commit-limit=100" {
	expect_rejected page 0 memgate.io/commit-limit 'expected at least 4096 bytes (one page), got 100 bytes' -- \
		'memgate.io/commit-limit=100'
}

@test "rejects zero: commit-limit=0" {
	expect_rejected zero 0 memgate.io/commit-limit 'expected at least 4096 bytes (one page), got 0 bytes' -- \
		'memgate.io/commit-limit=0'
}

@test "rejects surrounding whitespace: commit-limit=\" 1Gi\"" {
	expect_rejected space 0 memgate.io/commit-limit 'no surrounding spaces' -- \
		'memgate.io/commit-limit= 1Gi'
}

@test "rejects a gate above memory.max: pressure-gate=2Gi with a 1Gi limit" {
	expect_rejected gatemax 1073741824 memgate.io/pressure-gate 'above the container memory limit (memory.max is 1073741824)' -- \
		'memgate.io/pressure-gate=2Gi'
}

@test "rejects a bad value next to good ones: fork-gate=lots beside commit-limit=256Mi" {
	expect_rejected mixed 536870912 memgate.io/fork-gate 'expected a size such as 512Mi' -- \
		'memgate.io/commit-limit=256Mi' 'memgate.io/fork-gate=lots'
}

@test "a rejected container leaves a running container's policy untouched" {
	local id policy pins progs

	make_bundle good '{"memgate.io/commit-limit": "256Mi"}' 0 -- /bin/sleep 600
	start_ctr good
	id=$(cgroup_id good)
	policy=$(policy_of_cgroup "$id")
	[ -n "$policy" ]
	pins=$(find /sys/fs/bpf/memgate | sort)
	progs=$(bpftool prog show | grep 'name mg_')
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
	[ "$(bpftool prog show | grep 'name mg_')" = "$progs" ]
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
	assert_nothing_left good
}
