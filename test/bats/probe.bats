#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The kernel mechanisms memgate needs load, attach and fire in the VM.

load helpers

# One probe serves the tests that read its verdicts (a probe loads and
# attaches every mechanism: seconds under TCG); "leaves no program behind"
# runs one of its own.
setup_file() {
	require_vm
	memgate probe --json >"$BATS_FILE_TMPDIR/probe.json"
}

setup() {
	require_vm
}

mechanism() {
	jq -r --arg n "$1" '.mechanisms[] | select(.name == $n) | "\(.loads) \(.attaches) \(.fires)"' "$BATS_FILE_TMPDIR/probe.json"
}

@test "fmod_ret on security_vm_enough_memory_mm attaches and fires" {
	run mechanism fmod_ret
	[ "$status" -eq 0 ]
	[ "$output" = "true true true" ]
}

@test "fentry on security_inode_alloc attaches and fires" {
	run mechanism fentry
	[ "$status" -eq 0 ]
	[ "$output" = "true true true" ]
}

@test "lsm on task_alloc, mmap_file and file_mprotect attaches and fires on each" {
	run mechanism lsm
	[ "$status" -eq 0 ]
	[ "$output" = "true true true" ]
}

@test "lsm_cgroup on task_alloc attaches to a cgroup and fires" {
	run mechanism lsm_cgroup
	[ "$status" -eq 0 ]
	[ "$output" = "true true true" ]
}

@test "probe leaves no program behind" {
	memgate probe >/dev/null
	run bash -c "bpftool prog show | grep -c probe_"
	[ "$output" = 0 ]
}

@test "probe: a verdict per knob and mode first, every one yes here" {
	jq -e '[.verdicts[] | "\(.name)=\(.available)"] == ["commit-limit=true", "pressure-gate=true", "fork-gate=true", "audit=true", "monitor=true"]' "$BATS_FILE_TMPDIR/probe.json"
}

# A pod without hostPID: memgate probe in a PID namespace of its own, with
# a /proc of its own (the pod's) and with the node's (the installer chroots
# into the node's root), finds its programs firing as on the node.
@test "probe in a PID namespace of its own gives the verdicts and mechanisms it gives outside" {
	local want
	want=$(jq -c '.verdicts, [.mechanisms[] | del(.libbpf)]' "$BATS_FILE_TMPDIR/probe.json")
	jq -e '[.mechanisms[].fires] | all' "$BATS_FILE_TMPDIR/probe.json"
	for proc in --mount-proc ""; do
		unshare -pf $proc memgate probe --json >"$BATS_TEST_TMPDIR/ns.json"
		[ "$(unshare -pf $proc sh -c 'echo $$')" = 1 ]
		run jq -c '.verdicts, [.mechanisms[] | del(.libbpf)]' "$BATS_TEST_TMPDIR/ns.json"
		[ "$status" -eq 0 ]
		[ "$output" = "$want" ] || { echo "unshare -pf $proc: $output, outside: $want"; false; }
	done
}
