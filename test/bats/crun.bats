#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The same hook under crun: policy while the container runs, enforced, gone at delete.

load helpers

setup() {
	require_vm
}

teardown() {
	cleanup_crun_containers
}

@test "crun: commit-limit is enforced and everything is removed at crun delete" {
	make_bundle k1 '{"memgate.io/commit-limit": "128Mi"}' 0 -- /bin/sh -c '/alloc steps 1; sleep 600'
	(cd "$BUNDLES/k1" && crun run -d k1 </dev/null >"$BUNDLES/k1.log" 2>&1)
	for _ in $(seq 100); do grep -q '^got' "$BUNDLES/k1.log" && break; sleep 0.1; done
	cat "$BUNDLES/k1.log"
	got=$(sed -n 's/^got \([0-9]*\) MiB$/\1/p' "$BUNDLES/k1.log")
	[ "$got" -ge 120 ] && [ "$got" -le 128 ]
	status_of k1 | jq -e '.decisions.commits_denied >= 1 and .policy.commit_limit_bytes == 134217728'
	crun delete -f k1
	assert_no_memgate
}

@test "crun: a bad annotation refuses the container and leaves nothing behind" {
	make_bundle k2 '{"memgate.io/commit-limit": "lots"}' 0 -- /bin/true
	run bash -c "cd $BUNDLES/k2 && crun run k2 </dev/null"
	echo "$output"
	[ "$status" -ne 0 ]
	[ -z "$(crun list -q)" ]
	assert_no_memgate
}
