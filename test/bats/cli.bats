#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# `memgate validate` uses the hook's parser: the same answers, without a
# container; and `memgate events --follow` from before memgate loads.

load helpers

setup() {
	require_vm
}

teardown() {
	[ -z "${FOLLOWER:-}" ] || kill "$FOLLOWER" 2>/dev/null || true
	cleanup_containers
}

@test "validate rejects 512m with a hint towards 512Mi" {
	run memgate validate memgate.io/commit-limit=512m
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == 'memgate validate: annotation memgate.io/commit-limit="512m": '* ]]
	[[ "$output" == *'did you mean "512Mi"?'* ]]
}

@test "validate resolves a percentage against --memory-max" {
	run memgate validate --memory-max 1Gi memgate.io/pressure-gate=50%
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"pressure-gate=536870912"* ]]
	[[ "$output" == *"commit-limit=0"* ]]
}

@test "validate rejects a percentage without --memory-max" {
	run memgate validate memgate.io/pressure-gate=50%
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'annotation memgate.io/pressure-gate="50%": a percentage needs a container memory limit'* ]]
}

@test "validate: a pod-wide percentage is left out, with a warning, for a Kubernetes container without a memory limit; its own override is refused" {
	run memgate validate io.kubernetes.cri.container-name=sidecar memgate.io/commit-limit=64Mi \
		memgate.io/pressure-gate=80%
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == 'warning: annotation memgate.io/pressure-gate="80%": a percentage needs a container memory limit (memory.max is "max"); it is pod-wide, so container sidecar starts without it' ]]
	[[ "$output" == *"commit-limit=67108864 pressure-gate=0 "* ]]
	run memgate validate io.kubernetes.cri.container-name=sidecar memgate.io/pressure-gate.sidecar=80%
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'annotation memgate.io/pressure-gate.sidecar="80%": a percentage needs a container memory limit'* ]]
}

@test "validate accepts sizes in every notation" {
	run memgate validate memgate.io/commit-limit=1.5Gi memgate.io/pressure-gate=1500M \
		memgate.io/fork-gate=1e9 memgate.io/mode=audit memgate.io/on-unsupported=warn
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "valid: mode=audit commit-limit=1610612736 pressure-gate=1500000000 fork-gate=1000000000 on-unsupported=warn" ]
}

@test "validate says when there is no policy" {
	run memgate validate org.example/other=1
	[ "$status" -eq 0 ]
	[[ "$output" == "no memgate policy"* ]]
}

@test "validate --config reads a CRI-O container's config.json: the override wins, whatever the key order" {
	cfg=$BATS_TEST_TMPDIR/config.json
	# The override first: json-c keeps this order, runc would sort it.
	cat >"$cfg" <<-'EOF'
		{"annotations": {
			"memgate.io/commit-limit.app": "256Mi",
			"io.kubernetes.cri-o.ContainerType": "container",
			"io.kubernetes.container.name": "app",
			"memgate.io/commit-limit": "128Mi"
		}}
	EOF
	run memgate validate --config "$cfg"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"commit-limit=268435456 "* ]]
	jq '.annotations["io.kubernetes.container.name"] = "sidecar"' "$cfg" >"$cfg.new"
	run memgate validate --config "$cfg.new"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"commit-limit=134217728 "* ]]
}

@test "validate --config leaves a CRI-O sandbox alone" {
	cfg=$BATS_TEST_TMPDIR/config.json
	echo '{"annotations": {"io.kubernetes.cri-o.ContainerType": "sandbox", "memgate.io/commit-limit": "128Mi"}}' >"$cfg"
	run memgate validate --config "$cfg"
	[ "$status" -eq 0 ]
	[[ "$output" == "no memgate policy"* ]]
}

@test "validate rejects more bad values, naming the annotation" {
	local -a cases=(
		'memgate.io/commit-limit=1e20|too large'
		'memgate.io/commit-limit=Mi|a number, then an optional unit'
		'memgate.io/commit-limit=0|expected at least 4096 bytes (one page), got 0 bytes'
		'memgate.io/commit-limit=1.5.5Gi|unknown unit ".5Gi"'
		'memgate.io/commit-limit=1Gi |no surrounding spaces'
		'memgate.io/commit-limit=+1Gi|(no sign)'
		'memgate.io/commit-limit=1e-3|not a fraction'
		'memgate.io/pressure-gate=50.5%|whole percentage'
		'memgate.io/pressure-gate=-5%|no sign'
		'memgate.io/pressure-gate=%|with a number'
		'memgate.io/fork-gate.=1Gi|expected a container name after "fork-gate."'
		'memgate.io/=1Gi|unknown knob ""'
		'memgate.io/mode=Enforce|expected "enforce", "audit" or "monitor"'
	)
	local c kv expected failed=0
	for c in "${cases[@]}"; do
		kv=${c%%|*} expected=${c#*|}
		run memgate validate --memory-max 1Gi "$kv"
		if [ "$status" -ne 1 ] || [[ "$output" != "memgate validate: annotation ${kv%%=*}="* ]] ||
			[[ "$output" != *"$expected"* ]]; then
			echo "$kv: status $status: $output (expected: $expected)"
			failed=1
		fi
	done
	[ "$failed" -eq 0 ]
}

@test "events --follow waits for memgate to load, then prints its denials" {
	local out=$BATS_TEST_TMPDIR/events i
	[ ! -e /sys/fs/bpf/memgate ]
	memgate events --follow >"$out" 2>"$out.err" &
	FOLLOWER=$!
	make_bundle c1 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sh -c '/alloc once 200; sleep 600'
	start_ctr c1
	for ((i = 0; i < 1200; i++)); do
		grep -q '^denied commit-limit ' "$out" && break
		sleep 0.1
	done
	echo "events: $(<"$out") stderr: $(<"$out.err")"
	grep -q '^denied commit-limit .* limit=67108864$' "$out"
	kill -TERM "$FOLLOWER"
	wait "$FOLLOWER"
	FOLLOWER=
	[ "$(head -n 1 "$out.err")" = "memgate events: waiting for memgate to load (the first container under policy)" ]
	runc delete -f c1
	assert_no_memgate
}
