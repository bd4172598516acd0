#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The hook's confinement on this kernel: confined as memgate-hook confines
# itself (test/progs/confined.c runs the same mg_confine_hook()), a process
# can not write another process's memory, write to /etc, mount or load a
# module, while bpf() and memgate's own trees still work; and a real
# container start and stop, confined, still load and unload memgate.

load helpers

setup() {
	require_vm
}

teardown() {
	cleanup_containers
	rm -f /etc/memgate-confined-victim /etc/memgate-confined-new /etc/memgate-confined-renamed
	umount /mnt 2>/dev/null || true
}

@test "confined, the hook can not write another process's memory, /etc, mount or load a module" {
	local mounts_before modules_before
	echo original >/etc/memgate-confined-victim
	mounts_before=$(cat /proc/self/mountinfo | wc -l)
	modules_before=$(cat /proc/modules | wc -l)
	run /memgate/build/test/confined /etc/memgate-confined-victim
	echo "$output"
	# What holds on this kernel, in the TAP stream for RELIABILITY.md's table.
	grep '^# landlock ABI' <<<"$output" >&3
	[ "$status" -eq 0 ]
	# Every check ran: the last one reports on the victim.
	[[ "$output" == *"ok the victim's memory is untouched"* ]]
	[[ "$output" != *FAIL* ]]
	# And from outside: nothing changed.
	[ "$(cat /etc/memgate-confined-victim)" = original ]
	[ ! -e /etc/memgate-confined-new ] && [ ! -e /etc/memgate-confined-renamed ]
	[ "$(cat /proc/self/mountinfo | wc -l)" -eq "$mounts_before" ]
	[ "$(cat /proc/modules | wc -l)" -eq "$modules_before" ]
}

@test "a confined hook still starts and stops a container under policy" {
	make_bundle c1 '{"memgate.io/commit-limit": "64Mi"}' 0 -- /alloc once 128
	run run_ctr c1
	echo "$output"
	# The policy was in place: the 128 MiB mmap was refused.
	[ "$output" = ENOMEM ]
	# poststop removed it and, as the last one, unloaded memgate.
	assert_no_memgate
}
