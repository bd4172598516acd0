#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# In a VM booted without the BPF LSM: every road of roads.bats is held by
# the fmod_ret and fentry fallbacks (security_mmap_file, security_shm_alloc,
# security_mmap_addr; fentry on security_inode_alloc and security_inode_free).

load ../helpers

setup() {
	require_vm
	! grep -qw bpf /sys/kernel/security/lsm
}

teardown() {
	cleanup_containers
}

@test "without the BPF LSM every road is held within a page of 64Mi, and again after release" {
	make_rootfs
	cp /memgate/build/test/roads "$BUNDLES/rootfs/roads"
	# The roads program is the container's only process: its commit is the container's.
	make_bundle r1 '{"memgate.io/commit-limit": "64Mi"}' $((2048 * 1048576)) -- \
		/roads 65536 private mremap mremap-moved mprotect shared shared-noreserve devzero sysv sysv-noreserve hold
	start_ctr r1
	for _ in $(seq 3000); do grep -qE '^(holding|FAIL)' "$BUNDLES/r1.log" && break; sleep 0.1; done
	cat "$BUNDLES/r1.log"
	# The fallbacks, not lsm/ programs, hold them here.
	for link in mmap_file shm_alloc mmap_addr inode_alloc inode_free; do
		[ "$(link_prog_type "$link")" = tracing ]
	done
	grep -qx holding "$BUNDLES/r1.log"
	[ "$(grep -c '^road .*, limit 65536 KiB$' "$BUNDLES/r1.log")" -eq 9 ]
}
