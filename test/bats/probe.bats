#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The kernel mechanisms memgate needs load, attach and fire in the VM.

load helpers

setup() {
	require_vm
}

mechanism() {
	memgate probe --json | jq -r --arg n "$1" '.mechanisms[] | select(.name == $n) | "\(.loads) \(.attaches) \(.fires)"'
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
	run memgate probe --json
	[ "$status" -eq 0 ]
	jq -e '[.verdicts[] | "\(.name)=\(.available)"] == ["commit-limit=true", "pressure-gate=true", "fork-gate=true", "audit=true", "monitor=true"]' <<<"$output"
}
