#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The root hook trusts no path and blocks no node for long (issue 18): pins
# and runtime files only when root's alone, trees removed without following
# a link, a bounded lock wait, cgroup liveness without mountinfo per entry,
# a live container's id not taken by a second one, deep cgroups refused.
#
# Most hook runs are direct, on a crafted OCI state for a cgroup of its own
# with a process in it (as kill.bats does): no runtime to start under TCG.

load helpers

ANN='{"memgate.io/commit-limit": "32Mi"}'

setup() {
	require_vm
	mkdir -p "$CGROUP_PARENT"
	HOLDERS=() CGROUPS=()
}

teardown() {
	local pid dir
	chmod 0700 /sys/fs/bpf
	rm -rf /tmp/harden-victim /tmp/harden-config.json
	for pid in "${HOLDERS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	# Deepest first, in one rmdir: each process costs under TCG.
	local rev=()
	for ((i = ${#CGROUPS[@]} - 1; i >= 0; i--)); do
		rev+=("${CGROUPS[i]}")
	done
	((${#rev[@]} == 0)) || rmdir "${rev[@]}" 2>/dev/null || true
	cleanup_crun_containers
	cleanup_containers
	# Trees a test made as another user's.
	for dir in /sys/fs/bpf/memgate*; do
		[ ! -e "$dir" ] || { chown -R 0 "$dir"; rm -rf "$dir"; }
	done
	[ ! -e /sys/fs/bpf/memgate ] || memgate gc --all >/dev/null 2>&1 || true
	rm -rf /run/memgate
}

# fake_ctr PATH: cgroup mg/PATH (parents made too) with a process in it;
# HOLDER is the process.
fake_ctr() {
	local dir=$CGROUP_PARENT/$1 sub=$CGROUP_PARENT
	local IFS=/ part
	for part in $1; do
		sub=$sub/$part
		[ -d "$sub" ] || { mkdir "$sub"; CGROUPS+=("$sub"); }
	done
	sleep 600 &
	HOLDER=$!
	HOLDERS+=("$HOLDER")
	echo "$HOLDER" >"$dir/cgroup.procs"
}

# state ID STATUS PID: an OCI state with $ANN on stdout.
state() {
	printf '{"ociVersion": "1.0.2", "id": "%s", "status": "%s", "pid": %s, "bundle": "/tmp/%s", "annotations": %s}\n' \
		"$1" "$2" "$3" "$1" "$ANN"
}

# hook_start NAME: the hook at prestart for fake container NAME, under
# `run --separate-stderr`; a hook that hangs fails the test, it does not.
hook_start() {
	local name=${1//\//-}
	fake_ctr "$1"
	state "$name" creating "$HOLDER" >"$BATS_TEST_TMPDIR/$name.json"
	run --separate-stderr timeout 120 "$HOOK" prestart <"$BATS_TEST_TMPDIR/$name.json"
	echo "status $status; stderr: $stderr"
}

# refused_with TEXT: the last hook run failed with one line that contains TEXT.
refused_with() {
	[ "$status" -eq 1 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == "memgate-hook: "*"$1"* ]]
}

@test "a bpffs others can write is refused, naming /sys/fs/bpf and the fix; fixed, the start works" {
	chmod 1777 /sys/fs/bpf
	hook_start b1
	refused_with '/sys/fs/bpf is writable by others (mode 1777): run `chmod 0700 /sys/fs/bpf`'
	[ ! -e /sys/fs/bpf/memgate ]
	# The fix it names works.
	chmod 0700 /sys/fs/bpf
	run --separate-stderr timeout 120 "$HOOK" prestart <"$BATS_TEST_TMPDIR/b1.json"
	[ "$status" -eq 0 ]
	policy_is "$(cgroup_id b1)" '.commit_limit == 33554432'
	# Loaded, and made writable again: a reader refuses it too.
	chmod 0777 /sys/fs/bpf
	run --separate-stderr memgate status
	echo "$stderr"
	[ "$status" -ne 0 ]
	[[ $stderr == *"/sys/fs/bpf is writable by others (mode 0777)"* ]]
}

@test "a memgate tree another user made is refused, naming it; memgate neither loads from it nor removes it" {
	mkdir /sys/fs/bpf/memgate-dead-4242
	chown 65534 /sys/fs/bpf/memgate-dead-4242
	hook_start t1
	refused_with '/sys/fs/bpf/memgate-dead-4242 is owned by uid 65534, not root: if root did not make it, remove it (`rm -r /sys/fs/bpf/memgate-dead-4242`)'
	[ -d /sys/fs/bpf/memgate-dead-4242 ]
	[ ! -e /sys/fs/bpf/memgate ]
	rmdir /sys/fs/bpf/memgate-dead-4242
	# One a user could write into, at the live tree's name.
	mkdir -m 0777 /sys/fs/bpf/memgate
	run --separate-stderr timeout 120 "$HOOK" prestart <"$BATS_TEST_TMPDIR/t1.json"
	echo "$stderr"
	refused_with '/sys/fs/bpf/memgate is writable by others (mode 0777)'
	rmdir /sys/fs/bpf/memgate
	run --separate-stderr timeout 120 "$HOOK" prestart <"$BATS_TEST_TMPDIR/t1.json"
	[ "$status" -eq 0 ]
}

@test "/run/memgate and its lock: a link is not followed, a directory others can write is refused" {
	rm -rf /run/memgate
	mkdir -p /run/memgate /tmp/harden-victim
	ln -s /tmp/harden-victim/created /run/memgate/lock
	hook_start r1
	refused_with 'cannot open /run/memgate/lock'
	[ ! -e /tmp/harden-victim/created ]
	rm /run/memgate/lock
	chmod 0777 /run/memgate
	run --separate-stderr timeout 120 "$HOOK" prestart <"$BATS_TEST_TMPDIR/r1.json"
	echo "$stderr"
	refused_with '/run/memgate is writable by others (mode 0777)'
	rm -rf /run/memgate
	ln -s /tmp/harden-victim /run/memgate
	run --separate-stderr timeout 120 "$HOOK" prestart <"$BATS_TEST_TMPDIR/r1.json"
	echo "$stderr"
	refused_with 'cannot open /run/memgate'
	[ -z "$(ls /tmp/harden-victim)" ]
	rm /run/memgate
	run --separate-stderr timeout 120 "$HOOK" prestart <"$BATS_TEST_TMPDIR/r1.json"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%u %a' /run/memgate)" = "0 700" ]
}

@test "removing a stale tree never follows a link out of it" {
	mkdir -p /tmp/harden-victim/dir
	echo keep >/tmp/harden-victim/file
	echo keep >/tmp/harden-victim/dir/file
	mkdir -p /sys/fs/bpf/memgate-staging-77/maps /sys/fs/bpf/memgate-dead-78
	ln -s /tmp/harden-victim /sys/fs/bpf/memgate-staging-77/links
	ln -s /tmp/harden-victim/file /sys/fs/bpf/memgate-staging-77/maps/policies
	ln -s /tmp/harden-victim/dir /sys/fs/bpf/memgate-dead-78/maps
	run memgate gc --all
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e /sys/fs/bpf/memgate-staging-77 ] && [ ! -e /sys/fs/bpf/memgate-dead-78 ]
	[ "$(cat /tmp/harden-victim/file /tmp/harden-victim/dir/file)" = "$(printf 'keep\nkeep')" ]
}

@test "a start waits for memgate's lock at most lock-timeout, then fails with one line naming the lock" {
	echo '{"lock-timeout": 1}' >/tmp/harden-config.json
	mkdir -p /run/memgate
	# A holder that never lets go: the lock's only open file is this sleep's.
	bash -c 'exec {fd}>/run/memgate/lock; flock "$fd"; exec sleep 600' &
	local holder=$!
	HOLDERS+=("$holder")
	while flock -n /run/memgate/lock true; do sleep 0.05; done
	export MEMGATE_CONFIG=/tmp/harden-config.json
	hook_start l1
	refused_with '/run/memgate/lock is still held by another memgate after 1.000 s'
	[ ! -e /sys/fs/bpf/memgate ]
	# The holder gone, the same start works.
	kill "$holder"
	wait "$holder" || true
	run --separate-stderr timeout 120 "$HOOK" prestart <"$BATS_TEST_TMPDIR/l1.json"
	unset MEMGATE_CONFIG
	[ "$status" -eq 0 ]
}

@test "a cgroup deeper than 16 levels is refused with one line; 16 levels is under policy" {
	# mg is level 1.
	hook_start d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16
	[ "$status" -eq 0 ]
	policy_is "$(stat -c %i "$CGROUP_PARENT/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16")" '.level == 16'
	hook_start d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16/d17
	refused_with 'is 17 levels deep; memgate finds policies down to level 16'
}

# cost: the system calls of one run of COMMAND... (strace -c's total).
cost() {
	strace -f -c -o "$BATS_TEST_TMPDIR/cost" "$@" >/dev/null
	awk '$NF == "total" { print $4 }' "$BATS_TEST_TMPDIR/cost"
}

# many_mounts DIR N: at least 2^N mounts under DIR, in N rbind doublings;
# mountinfo grows past 1 MiB with N = 13.
many_mounts() {
	local dir=$1 i
	mkdir -p "$dir"
	mount -t tmpfs -o size=64k tmpfs "$dir"
	for ((i = 0; i < $2; i++)); do
		mkdir "$dir/kubernetes.io~empty-dir-$i"
		mount --rbind "$dir" "$dir/kubernetes.io~empty-dir-$i"
	done
}

@test "5000 mounts and 1000 entries: a hook run and memgate gc cost what they cost with 10 mounts (within 1.2 times)" {
	# One container under policy keeps the tree loaded between the runs.
	hook_start anchor
	[ "$status" -eq 0 ]
	# 1000 live cgroups with stats entries, as 1000 containers leave them.
	mkdir -p "$CGROUP_PARENT/many"
	CGROUPS+=("$CGROUP_PARENT/many")
	mkdir "$CGROUP_PARENT"/many/e{1..1000}
	CGROUPS+=("$CGROUP_PARENT"/many/e{1..1000})
	local size
	size=$(bpftool map show pinned /sys/fs/bpf/memgate/maps/stats -j | jq .bytes_value)
	stat -c %i "$CGROUP_PARENT"/many/e* | awk -v size="$size" '{
		printf "map update pinned /sys/fs/bpf/memgate/maps/stats key"
		for (b = 0; b < 8; b++) { printf " %d", $1 % 256; $1 = int($1 / 256) }
		printf " value"
		for (b = 0; b < size; b++) printf " 0"
		printf "\n"
	}' >"$BATS_TEST_TMPDIR/batch"
	bpftool batch file "$BATS_TEST_TMPDIR/batch" >/dev/null
	[ "$(map_count stats)" -ge 1001 ]

	fake_ctr few
	state few creating "$HOLDER" >"$BATS_TEST_TMPDIR/few.json"
	fake_ctr lots
	state lots creating "$HOLDER" >"$BATS_TEST_TMPDIR/lots.json"
	# Both measures in a mount namespace of their own: the mounts go with it.
	unshare -m --propagation private bash -c "
		set -e
		$(declare -f cost many_mounts)
		BATS_TEST_TMPDIR=$BATS_TEST_TMPDIR
		echo mounts \$(wc -l </proc/self/mountinfo) \$(wc -c </proc/self/mountinfo)
		echo hook \$(cost $HOOK prestart <$BATS_TEST_TMPDIR/few.json)
		echo gc \$(cost memgate gc)
		many_mounts /tmp/harden-mounts 13
		echo mounts \$(wc -l </proc/self/mountinfo) \$(wc -c </proc/self/mountinfo)
		echo hook \$(cost $HOOK prestart <$BATS_TEST_TMPDIR/lots.json)
		echo gc \$(cost memgate gc)
	" >"$BATS_TEST_TMPDIR/costs"
	sed 's/^/# /' "$BATS_TEST_TMPDIR/costs" >&3
	# Few mounts first, then more than 5000 in more than 1 MiB.
	awk '$1 == "mounts" { n++; if (n == 1 && $2 > 100) exit 1; if (n == 2 && ($2 < 5000 || $3 < 1048576)) exit 1 }' "$BATS_TEST_TMPDIR/costs"
	# The second start is under policy: the large mountinfo failed none of it.
	policy_is "$(cgroup_id lots)" '.commit_limit == 33554432'
	awk '$1 == "hook" || $1 == "gc" { if ($1 in first) { if ($2 > first[$1] * 1.2) { print $1 " cost " $2 " > 1.2 x " first[$1]; bad = 1 } } else first[$1] = $2 }
		END { exit bad }' "$BATS_TEST_TMPDIR/costs"
	# gc took none of the 1000 live cgroups for gone.
	[ "$(map_count stats)" -ge 1003 ]
}

@test "a second container under a live container's id is refused with one line; the first keeps its policy" {
	make_bundle dup '{"memgate.io/commit-limit": "32Mi"}' 0 -- /bin/sleep 600
	make_bundle dup2 '{"memgate.io/commit-limit": "512Mi"}' 0 -- /bin/sleep 600
	(cd "$BUNDLES/dup" && crun run -d dup </dev/null)
	policy_is "$(cgroup_id dup)" '.commit_limit == 33554432'
	# runc keeps its own state: it takes crun's live id, and runs poststop
	# for the container it could not start.
	run bash -c "cd $BUNDLES/dup2 && runc run -d dup </dev/null 2>&1"
	echo "$output"
	[ "$status" -ne 0 ]
	# runc quotes the hook's stderr in its own message: \" for ".
	[[ $output == *'memgate-hook: container id '*'dup'*' is already in use by a live container under memgate policy (cgroup '"$(cgroup_id dup)"'); a second container can not take its id'* ]]
	runc delete -f dup >/dev/null 2>&1 || true
	# The first still has its policy, under its id, after runc's poststop.
	policy_is "$(cgroup_id dup)" '.commit_limit == 33554432'
	status_is dup '.policy.commit_limit_bytes == 33554432'
	[ "$(map_count policies)" -eq 1 ]
	# A stopped container's id is free again.
	crun delete -f dup
	(cd "$BUNDLES/dup2" && runc run -d dup </dev/null)
	status_is dup '.policy.commit_limit_bytes == 536870912'
}
