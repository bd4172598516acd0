#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Upgrades across map layouts: containers of an older memgate keep their
# policy, served by the older programs from a retired tree, while the new
# memgate starts others; each tree goes with its last container.
#
# The older memgate is build/test/layout-test: the same code built with
# MG_LAYOUT_TEST (bpf/memgate.h), layout 2 with a policy value 8 bytes longer.

load helpers

OLD=/memgate/build/test/layout-test
# The installed hook's path, as a package upgrade replaces it under running containers.
INSTALLED=/tmp/upgrade/memgate-hook

setup() {
	require_vm
	mkdir -p /tmp/upgrade
	install_hook "$OLD/memgate-hook"
}

teardown() {
	cleanup_containers
	memgate gc --all >/dev/null 2>&1 || true
	rm -rf /tmp/upgrade
}

# install_hook BINARY: replace the installed hook as a package manager does.
install_hook() {
	cp "$1" "$INSTALLED.new"
	mv "$INSTALLED.new" "$INSTALLED"
}

# start_sleeper NAME LIMIT: a sleeping container with a commit limit, hooked by $INSTALLED.
start_sleeper() {
	HOOK=$INSTALLED make_bundle "$1" "{\"memgate.io/commit-limit\": \"$2\"}" 0 -- /bin/sleep 600
	start_ctr "$1" || { cat "$BUNDLES/$1.log"; return 1; }
}

# assert_held NAME LIMIT_MIB: malloc in the container gets LIMIT-10 to LIMIT MiB.
assert_held() {
	local out got
	out=$(runc exec "$1" /alloc steps 1)
	got=$(sed -n 's/^got \([0-9]*\) MiB$/\1/p' <<<"$out")
	echo "$1: $out (limit ${2} MiB)"
	[ -n "$got" ] && [ "$got" -ge $(($2 - 10)) ] && [ "$got" -le "$2" ]
}

retired_tree() {
	compgen -G "/sys/fs/bpf/memgate-retired-2-*"
}

# mg_progs: how many of memgate's programs the kernel holds.
mg_progs() {
	bpftool prog show | grep -c 'name mg_' || true
}

# wait_progs N: until the kernel holds N of memgate's programs (unload is asynchronous from 6.12).
wait_progs() {
	for _ in $(seq 150); do
		[ "$(mg_progs)" -eq "$1" ] && return 0
		sleep 0.1
	done
	echo "expected $1 memgate programs, the kernel holds $(mg_progs)"
	return 1
}

@test "old containers keep their policy while the new memgate starts others; each tree goes with its last container" {
	start_sleeper old1 48Mi
	start_sleeper old2 96Mi
	"$OLD/memgate" status --json | jq -e '[.containers[].id] | sort == ["old1", "old2"]'
	one_load=$(mg_progs)
	[ "$one_load" -gt 0 ]
	before=$(bpftool map dump pinned /sys/fs/bpf/memgate/maps/policies -j | jq -cS '[.[].formatted] | sort_by(.key)')
	# The older layout really differs: its policy carries a field the new one has not.
	jq -e '.[0].value | has("layout_test")' <<<"$before"

	install_hook "$HOOK"
	start_sleeper new1 64Mi

	tree=$(retired_tree)
	[ -d "$tree" ]
	# Not one byte of the old policies changed, and the new tree is the new layout's.
	after=$(bpftool map dump pinned "$tree/maps/policies" -j | jq -cS '[.[].formatted] | sort_by(.key)')
	[ "$before" = "$after" ]
	memgate status --json | jq -e '[.containers[].id] == ["new1"]
		and (.retired | length == 1 and .[0].layout == 2 and .[0].containers == 2)'
	memgate status | grep -F "layout 2 state at $tree: 2 containers under its policy"
	[ "$(mg_progs)" -eq $((2 * one_load)) ]

	assert_held old1 48
	assert_held old2 96
	assert_held new1 64

	# The new hook's poststop forgets old1 in the retired tree, and only there.
	runc delete -f old1
	[ -d "$tree" ]
	bpftool map dump pinned "$tree/maps/policies" -j |
		jq -e 'length == 1 and .[0].formatted.value.commit_limit == 100663296'
	assert_held old2 96
	status_is new1 '.policy.commit_limit_bytes == 67108864'

	# Its last container gone, the retired tree goes, and the old programs unload.
	runc delete -f old2
	[ ! -e "$tree" ]
	wait_progs "$one_load"
	assert_held new1 64
	memgate status --json | jq -e '.retired == []'

	runc delete -f new1
	assert_no_memgate
}

@test "the new memgate's first run may be a poststop: it retires the old tree and removes it with its last container" {
	start_sleeper old1 48Mi
	install_hook "$HOOK"
	# Before any new hook ran, the new CLI reports the old tree instead of failing.
	run memgate status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"layout 2 state at /sys/fs/bpf/memgate: 1 container under its policy"* ]]
	runc delete -f old1
	[ -z "$(retired_tree)" ]
	assert_no_memgate
}

@test "a retired container whose poststop was lost is pruned by the next hook run" {
	start_sleeper old1 48Mi
	start_sleeper old2 64Mi
	install_hook "$HOOK"
	start_sleeper new1 32Mi
	tree=$(retired_tree)
	# A lost poststop: the runtime's state goes without its hook, as when it crashed.
	id=$(cgroup_id old1)
	runc kill old1 KILL
	for _ in $(seq 100); do [ "$(runc state old1 | jq -r .status)" = stopped ] && break; sleep 0.1; done
	rm -rf /run/runc/old1
	rmdir "$CGROUP_PARENT/old1"
	# An unannotated container's hook run is housekeeping too.
	HOOK=$INSTALLED make_bundle plain '{}' 0 -- /bin/true
	run_ctr plain
	bpftool map dump pinned "$tree/maps/policies" -j | jq -e --argjson id "$id" '[.[].formatted.key] | index($id) == null and length == 1'
	assert_held old2 64
	runc delete -f old2
	runc delete -f new1
	assert_no_memgate
}

@test "memgate gc moves an old tree aside and keeps serving it; gc --all removes every tree" {
	start_sleeper old1 48Mi
	run memgate gc
	echo "$output"
	[ "$status" -eq 0 ]
	tree=$(retired_tree)
	[ -d "$tree" ]
	assert_held old1 48
	memgate status --json | jq -e '.loaded == false and .retired[0].containers == 1'
	run memgate gc --all
	[ "$status" -eq 0 ]
	[ -z "$(retired_tree)" ]
	# No policy left: the old programs decide nothing, and they are gone.
	wait_progs 0
	runc exec old1 /alloc once 64 | grep -x ok
	runc delete -f old1
	assert_no_memgate
}

@test "an older memgate beside a newer tree refuses annotated starts in one line, and still stops its own containers" {
	HOOK=$OLD/memgate-hook make_bundle old1 '{"memgate.io/commit-limit": "48Mi"}' 0 -- /bin/sleep 600
	start_ctr old1
	install_hook "$HOOK"
	start_sleeper new1 64Mi
	tree=$(retired_tree)
	[ -d "$tree" ]
	# The old binary, still named by old1's hooks, never retires the newer tree.
	HOOK=$OLD/memgate-hook make_bundle old2 '{"memgate.io/commit-limit": "32Mi"}' 0 -- /bin/sleep 600
	run start_ctr old2
	cat "$BUNDLES/old2.log"
	[ "$status" -ne 0 ]
	grep -q "memgate-hook: /sys/fs/bpf/memgate holds memgate state of layout 5, newer than this memgate's 2" "$BUNDLES/old2.log"
	HOOK=$OLD/memgate-hook make_bundle plain '{}' 0 -- /bin/true
	run_ctr plain
	status_is new1 '.policy.commit_limit_bytes == 67108864'
	# old1's poststop runs the old binary: it forgets old1 in its retired tree, which goes.
	runc delete -f old1
	[ ! -e "$tree" ]
	assert_held new1 64
	runc delete -f old2 2>/dev/null || true
	runc delete -f new1
	assert_no_memgate
}
