#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# memgate governs the container's workload, not its runtime: runc/crun init
# and the init of `runc exec` are neither charged nor denied until they exec;
# everything the workload starts stays governed.  And a start that failed
# after the hook ran leaves nothing once another hook runs.

load helpers

MIB=1048576

setup() {
	require_vm
}

teardown() {
	cleanup_crun_containers
	cleanup_containers
}

got_mib() {
	sed -n 's/^got \([0-9]*\) MiB$/\1/p' <<<"$1"
}

# start_sleeper RUNTIME NAME ANNOTATIONS: a detached container that only sleeps.
start_sleeper() {
	make_bundle "$2" "$3" 0 -- /bin/sleep 600
	(cd "$BUNDLES/$2" && "$1" run -d "$2" </dev/null >"$BUNDLES/$2.log" 2>&1)
}

@test "runc exec into a 48Mi container works, and the exec'd program gets close to 48 MiB and no more" {
	start_sleeper runc w1 '{"memgate.io/commit-limit": "48Mi"}'
	run runc exec w1 /alloc steps 1
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	[ "$got" -ge 40 ] && [ "$got" -le 48 ]
	status_of w1 | jq -e '.decisions.commits_denied >= 1 and .last_denial.comm == "alloc"'
}

@test "crun exec into a 48Mi container works, and the exec'd program gets close to 48 MiB and no more" {
	start_sleeper crun w2 '{"memgate.io/commit-limit": "48Mi"}'
	run crun exec w2 /alloc steps 1
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	[ "$got" -ge 40 ] && [ "$got" -le 48 ]
	crun delete -f w2
	assert_no_memgate
}

@test "runc with its default seccomp profile starts under a 16Mi limit: runc init is not charged" {
	make_bundle w3 '{"memgate.io/commit-limit": "16Mi"}' 0 -- /alloc steps 1
	# A seccomp filter as podman's default profile installs it: runc's Go init builds it in the cgroup.
	jq '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
		syscalls: [{names: ["kexec_load", "open_by_handle_at", "bpf"], action: "SCMP_ACT_ERRNO"}]}' \
		"$BUNDLES/w3/config.json" >"$BUNDLES/w3/c.json" && mv "$BUNDLES/w3/c.json" "$BUNDLES/w3/config.json"
	run run_ctr w3
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	[ "$got" -ge 8 ] && [ "$got" -le 16 ]
}

@test "no escape: a forked child that renames itself and starts a session is held to the limit" {
	start_sleeper runc w4 '{"memgate.io/commit-limit": "64Mi"}'
	run runc exec w4 /alloc forked 1
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	[ "$got" -ge 48 ] && [ "$got" -le 64 ]
	status_of w4 | jq -e '.last_denial.comm == "renamed"'
}

@test "no escape: a reparented grandchild, a vfork+exec child and threads are held to the limit" {
	start_sleeper runc w5 '{"memgate.io/commit-limit": "64Mi"}'
	run runc exec w5 /alloc daemon 1
	echo "$output"
	got=$(got_mib "$output")
	[ "$got" -ge 48 ] && [ "$got" -le 64 ]
	run runc exec w5 /alloc vfork /alloc steps 1
	echo "$output"
	got=$(got_mib "$output")
	[ "$got" -ge 48 ] && [ "$got" -le 64 ]
	run runc exec w5 /alloc threads 4 1
	echo "$output"
	got=$(got_mib "$output")
	[ "$got" -ge 16 ] && [ "$got" -le 64 ]
}

@test "a process that joins the cgroup without exec'ing is a helper until it execs; then it is governed" {
	start_sleeper runc w6 '{"memgate.io/commit-limit": "32Mi"}'
	procs=$CGROUP_PARENT/w6/cgroup.procs
	# Like runc init: exec'd outside, moved in, not charged.
	run "$ALLOC" join "$procs" once 128
	echo "$output"
	[ "$output" = ok ]
	# Its exec inside the container makes it the workload.
	run "$ALLOC" join "$procs" exec "$ALLOC" once 128
	echo "$output"
	[ "$output" = ENOMEM ]
	# And so is a fork of the exec'd program.
	run "$ALLOC" join "$procs" exec "$ALLOC" forked 1
	echo "$output"
	got=$(got_mib "$output")
	[ "$got" -ge 16 ] && [ "$got" -le 32 ]
}

@test "pressure gate: runc exec works above the gate, and the exec'd program is held to it" {
	make_bundle w7 '{"memgate.io/pressure-gate": "48Mi"}' $((256 * MIB)) -- /bin/sleep 600
	start_ctr w7
	run runc exec w7 /alloc steps 1
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	[ "$got" -ge 24 ] && [ "$got" -le 48 ]
}

@test "fork gate: runc exec and its Go threads are not refused while the workload is above the gate" {
	make_bundle w8 '{"memgate.io/fork-gate": "32Mi"}' $((256 * MIB)) -- /alloc hold 64 600
	start_ctr w8
	for _ in $(seq 100); do grep -q holding "$BUNDLES/w8.log" && break; sleep 0.1; done
	run runc exec w8 /alloc fork
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "fork EAGAIN" ]
}

@test "a start that fails after memgate's hook leaves nothing once the next container starts" {
	make_bundle broken '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sleep 600
	# A later prestart hook fails, and there is no poststop (as with podman).
	jq '.hooks = {prestart: [.hooks.prestart[0], {path: "/usr/bin/false"}]}' "$BUNDLES/broken/config.json" \
		>"$BUNDLES/broken/c.json" && mv "$BUNDLES/broken/c.json" "$BUNDLES/broken/config.json"
	run start_ctr broken
	[ "$status" -ne 0 ]
	# The policy outlived the container whose start failed...
	[ "$(map_count policies)" -eq 1 ]
	runc delete -f broken 2>/dev/null || true
	[ ! -e "$CGROUP_PARENT/broken" ]
	# ...until any hook runs again.
	start_sleeper runc next '{"memgate.io/commit-limit": "64Mi"}'
	[ "$(map_count policies)" -eq 1 ]
	[ "$(map_count containers)" -eq 1 ]
	[ "$(map_count names)" -eq 1 ]
	status_is next '.policy.commit_limit_bytes == 67108864'
	runc delete -f next
	assert_no_memgate
}

@test "a failed start is pruned by the next hook run even when that container has no annotation" {
	make_bundle broken '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sleep 600
	jq '.hooks = {prestart: [.hooks.prestart[0], {path: "/usr/bin/false"}]}' "$BUNDLES/broken/config.json" \
		>"$BUNDLES/broken/c.json" && mv "$BUNDLES/broken/c.json" "$BUNDLES/broken/config.json"
	run start_ctr broken
	[ "$status" -ne 0 ]
	runc delete -f broken 2>/dev/null || true
	[ -e /sys/fs/bpf/memgate ]
	make_bundle plain '{}' 0 -- /bin/true
	run run_ctr plain
	[ "$status" -eq 0 ]
	assert_no_memgate
}
