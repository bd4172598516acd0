#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# containerd 1.6 (Debian's) with its runc v2 shim, driven by ctr: a container
# whose OCI spec carries memgate's hooks, as deploy/kubernetes/containerd-hooks.json
# adds them (createRuntime and poststop), and a memgate.io/ annotation is held
# to its limit, and leaves nothing once containerd deletes it.  No CRI plugin,
# no image, no network: the spec is `ctr oci spec` (containerd's default)
# with the busybox rootfs as its root, given whole with `ctr run --config`.

load helpers

CTD=/tmp/containerd
SOCK=$CTD/containerd.sock
MIB=1048576

# ctr_ ARGS...: ctr against this suite's containerd, in namespace memgate.
ctr_() {
	ctr --address "$SOCK" --namespace memgate "$@"
}

setup_file() {
	require_vm
	make_rootfs
	mkdir -p "$CTD"
	# State on the guest's tmpfs; no CRI, and no snapshotter that would probe
	# for a module or filesystem the guest lacks.
	cat >"$CTD/config.toml" <<-EOF
		version = 2
		root = "$CTD/root"
		state = "$CTD/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
		  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
		  "io.containerd.snapshotter.v1.zfs"]
		[grpc]
		  address = "$SOCK"
	EOF
	# fd 3 closed: bats waits for every holder of it.
	containerd --config "$CTD/config.toml" </dev/null >"$CTD/containerd.log" 2>&1 3>&- &
	echo $! >"$CTD/pid"
	# Up when it answers; a containerd that died is reported at once.
	until ctr --address "$SOCK" version >/dev/null 2>&1; do
		kill -0 "$(cat "$CTD/pid")" 2>/dev/null || { cat "$CTD/containerd.log" >&2; return 1; }
		sleep 0.2
	done
	# containerd's default spec plus memgate's hooks, as the README makes the base spec.
	ctr_ oci spec | jq --arg hook "$HOOK" --arg rootfs "$BUNDLES/rootfs" '
		.root = {path: $rootfs}
		| .hooks = {createRuntime: [{path: $hook, args: ["memgate-hook", "createRuntime"]}],
			    poststop: [{path: $hook, args: ["memgate-hook", "poststop"]}]}
		' >"$CTD/base-spec.json"
}

teardown_file() {
	local pid
	pid=$(cat "$CTD/pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

setup() {
	require_vm
}

teardown() {
	local id
	for id in $(ctr_ container list -q 2>/dev/null); do
		ctr_ task delete --force "$id" >/dev/null 2>&1 || true
		ctr_ container delete "$id" >/dev/null 2>&1 || true
	done
	cleanup_containers
}

# spec ID ARGS...: $CTD/ID.json, the base spec with cgroup /mg/ID,
# memgate.io/commit-limit=64Mi and ARGS as the process.
spec() {
	local id=$1
	shift
	jq --arg cg "/mg/$id" '.process.args = $ARGS.positional | .linux.cgroupsPath = $cg
		| .annotations = {"memgate.io/commit-limit": "64Mi"}' \
		"$CTD/base-spec.json" --args "$@" >"$CTD/$id.json"
}

got_mib() {
	sed -n 's/^got \([0-9]*\) MiB$/\1/p' <<<"$1"
}

@test "containerd + runc shim: a detached task is under commit-limit=64Mi, status shows it, an exec'd workload gets close to 64 MiB; task delete leaves nothing" {
	spec d1 /bin/sleep 600
	ctr_ run --config "$CTD/d1.json" --runtime io.containerd.runc.v2 --detach d1 </dev/null
	# The hook ran under containerd's shim: memgate lists the task by its containerd id.
	status_is d1 ".policy.commit_limit_bytes == $((64 * MIB))"
	run ctr_ task exec --exec-id alloc d1 /alloc steps 1 </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	[ "$got" -ge 56 ] && [ "$got" -le 64 ]
	status_is d1 '.decisions.commits_denied >= 1 and .last_denial.comm == "alloc"'
	# The shim deletes the runc container here, and runc runs the poststop hook.
	ctr_ task delete --force d1
	assert_no_memgate
	ctr_ container delete d1
}

@test "containerd + runc shim: ctr run --rm of the workload gets close to 64 MiB and leaves nothing" {
	spec r1 /alloc steps 1
	run ctr_ run --config "$CTD/r1.json" --runtime io.containerd.runc.v2 --rm r1 </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	[ "$got" -ge 56 ] && [ "$got" -le 64 ]
	[ -z "$(ctr_ container list -q)" ]
	assert_no_memgate
}
