#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Monitor mode on the build host's own kernel, outside the VM.  This host
# refuses BPF trampolines (lockdown): memgate's enforcement can not load, its
# monitor (tp_btf) can.  The test's cgroup is made under the host's cgroup2
# mount, wherever mountinfo says it is, and removed; the host's own cgroups
# are left alone.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	require_build
	export MEMGATE_CONFIG=$BATS_TEST_TMPDIR/absent.json
	CGROUP2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n 1)
	[ -n "$CGROUP2" ]
	CG=$CGROUP2/memgate-host-test-$$
	mkdir "$CG"
	sleep 600 &
	WORKLOAD=$!
	echo "$WORKLOAD" >"$CG/cgroup.procs"
}

teardown() {
	[ -z "${WORKLOAD:-}" ] || { kill "$WORKLOAD" 2>/dev/null; wait "$WORKLOAD" 2>/dev/null; } || true
	[ -z "${CG:-}" ] || rmdir "$CG/nomem" "$CG" 2>/dev/null || rmdir "$CG" 2>/dev/null || true
	# A test that failed half-way must not leave pins behind.
	if [ -e /sys/fs/bpf/memgate ]; then
		"$MEMGATE" gc --all >/dev/null 2>&1 || true
	fi
}

# state STATUS ANNOTATIONS_JSON: the OCI state of a container whose process is $WORKLOAD.
state() {
	printf '{"ociVersion": "1.0.2", "id": "host-monitor", "status": "%s", "pid": %d, "bundle": "/nonexistent", "annotations": %s}\n' \
		"$1" "$WORKLOAD" "$2"
}

# Nothing of memgate left: no pins at once, no mg_ program or link within 5 s.
assert_no_memgate() {
	local left
	[ ! -e /sys/fs/bpf/memgate ] || { echo "pins left: $(find /sys/fs/bpf/memgate)"; return 1; }
	for _ in $(seq 50); do
		left=$(bpftool prog show | grep -E 'name mg_' || true)
		[ -n "$left" ] || return 0
		sleep 0.1
	done
	echo "programs left after 5 s: $left"
	return 1
}

@test "probe: the trampoline mechanisms are unavailable with the kernel's reason, monitor mode is available" {
	run --separate-stderr "$MEMGATE" probe --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	for m in fmod_ret fentry lsm_cgroup; do
		jq -e --arg m "$m" '.mechanisms[] | select(.name == $m)
			| .loads == false and (.why_not | test("^load failed: Operation not permitted"))' <<<"$output"
	done
	jq -e '.monitor.available == true and .monitor.oom_kills == true and .monitor.reclaim == true and .monitor.why_not == ""' <<<"$output"
	run "$MEMGATE" probe
	[[ "$output" == *$'\n'"monitor mode: yes "* ]]
}

@test "mode monitor: the hook loads and attaches the monitor for the cgroup, poststop leaves nothing" {
	run --separate-stderr "$HOOK" prestart <<<"$(state creating '{"memgate.io/mode": "monitor"}')"
	echo "status $status, stderr [$stderr]"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	for link in oom_victim reclaim_begin reclaim_end cgroup_rmdir; do
		[ -e "/sys/fs/bpf/memgate/links/$link" ]
	done
	# Only the monitor: no trampoline link on this kernel.
	[ ! -e /sys/fs/bpf/memgate/links/vm_enough ]
	progs=$(bpftool prog show)
	links=$(bpftool link show)
	for prog in mg_oom_victim mg_reclaim_begin mg_reclaim_end mg_cgroup_rmdir; do
		grep -q "name $prog " <<<"$progs"
	done
	grep -q "tp 'mark_victim'" <<<"$links"
	grep -q "tp 'mm_vmscan_memcg_reclaim_begin'" <<<"$links"
	id=$(stat -c %i "$CG")
	run "$MEMGATE" status --json
	echo "$output"
	jq -e --argjson id "$id" '.schema == 2 and .enforcement == false
		and (.enforcement_error | length > 0)
		and ([.containers[] | select(.id == "host-monitor" and .cgroup_id == $id
			and .mode == "monitor" and .oom.kills == 0 and .reclaim.episodes >= 0)] | length == 1)' <<<"$output"
	run --separate-stderr "$HOOK" poststop <<<"$(state stopped '{}')"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_no_memgate
}

@test "on-unsupported=warn: a commit limit this kernel can not enforce starts monitored, with exactly one warning line" {
	run --separate-stderr "$HOOK" prestart <<<"$(state creating '{"memgate.io/commit-limit": "64Mi", "memgate.io/on-unsupported": "warn"}')"
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "memgate-hook: warning: annotation memgate.io/commit-limit is not enforced on this kernel: "*"Operation not permitted"*"; the container is monitored only" ]]
	"$MEMGATE" status --json | jq -e '[.containers[] | select(.id == "host-monitor" and .mode == "monitor" and .policy.commit_limit_bytes == 0)] | length == 1'
	run --separate-stderr "$HOOK" poststop <<<"$(state stopped '{}')"
	[ "$status" -eq 0 ]
	assert_no_memgate
}

@test "on-unsupported=fail: the refusal is the hook's one line, with no libbpf diagnostics" {
	run --separate-stderr "$HOOK" prestart <<<"$(state creating '{"memgate.io/commit-limit": "64Mi"}')"
	one_line_error "annotation memgate.io/commit-limit can not be enforced on this kernel"
	[[ "$stderr" != *libbpf* && "$stderr" != *ulimit* ]]
	assert_no_memgate
}

# A cgroup whose parent enables no controller has no memory.max, as under a
# cgroup v1 memory hierarchy (a hybrid host): the gates can not measure.
@test "no memory controller: on-unsupported=warn starts the container with one warning, fail refuses it in one line" {
	mkdir "$CG/nomem"
	echo "$WORKLOAD" >"$CG/nomem/cgroup.procs"
	[ ! -e "$CG/nomem/memory.max" ]
	run --separate-stderr "$HOOK" prestart <<<"$(state creating '{"memgate.io/pressure-gate": "50%", "memgate.io/on-unsupported": "warn"}')"
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$stderr" = "memgate-hook: warning: annotation memgate.io/pressure-gate is not enforced on this kernel: the container's cgroup has no memory controller (cannot open $CG/nomem/memory.max: No such file or directory); the container is monitored only" ]
	"$MEMGATE" status --json | jq -e '[.containers[] | select(.id == "host-monitor" and .mode == "monitor" and .policy.pressure_gate_bytes == 0)] | length == 1'
	run --separate-stderr "$HOOK" poststop <<<"$(state stopped '{}')"
	[ "$status" -eq 0 ]
	assert_no_memgate
	run --separate-stderr "$HOOK" prestart <<<"$(state creating '{"memgate.io/fork-gate": "64Mi"}')"
	one_line_error "memgate-hook: the memory controller is not enabled for the container's cgroup: cannot open $CG/nomem/memory.max: No such file or directory"
	assert_no_memgate
	echo "$WORKLOAD" >"$CG/cgroup.procs"
	rmdir "$CG/nomem"
}
