#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Podman as its users run it: memgate's hooks.d file as `make install` puts
# it, podman's default seccomp profile, runc and crun, no network.

load helpers

IMG=localhost/memgate-test:1
MIB=1048576
FAIL_HOOKS=/tmp/fail-hooks.d

setup_file() {
	require_vm
	make_rootfs
	tar -C "$BUNDLES/rootfs" -cf /tmp/rootfs.tar .
	podman import /tmp/rootfs.tar "$IMG" >/dev/null
	# A hook that fails after memgate's (file names order them), for failed starts.
	mkdir -p "$FAIL_HOOKS"
	cat >"$FAIL_HOOKS/zz-fail.json" <<-'EOF'
		{"version": "1.0.0", "hook": {"path": "/usr/bin/false"},
		 "when": {"annotations": {"^test\\.fail$": ".*"}}, "stages": ["prestart"]}
	EOF
}

setup() {
	require_vm
}

teardown() {
	podman rm -a -f -t 0 >/dev/null 2>&1 || true
	cleanup_containers
}

got_mib() {
	sed -n 's/^got \([0-9]*\) MiB$/\1/p' <<<"$1"
}

# prun RUNTIME ARGS...: podman run with memgate's hooks.d and no network.
prun() {
	local runtime=$1
	shift
	podman run --network none --runtime "$runtime" "$@"
}

commit_limit() {
	run prun "$1" --rm --annotation memgate.io/commit-limit=64Mi "$IMG" /alloc steps 1
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	[ "$got" -ge 56 ] && [ "$got" -le 64 ]
	# --rm: podman's poststop ran memgate's hook; the last container took memgate with it.
	assert_no_memgate
}

@test "podman + runc: commit-limit=64Mi starts with the default seccomp profile, the workload gets close to 64 MiB, --rm leaves nothing" {
	commit_limit runc
}

@test "podman + crun: commit-limit=64Mi starts, the workload gets close to 64 MiB, --rm leaves nothing" {
	commit_limit crun
}

exec_and_status() {
	id=$(prun "$1" -d --annotation memgate.io/commit-limit=64Mi "$IMG" /bin/sleep 600)
	# memgate status lists the container under podman's own id.
	status_is "$id" '.policy.commit_limit_bytes == 67108864'
	run podman exec "$id" /alloc steps 1
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	[ "$got" -ge 48 ] && [ "$got" -le 64 ]
	status_is "$id" '.decisions.commits_denied >= 1 and .last_denial.comm == "alloc"'
	podman rm -f -t 0 "$id"
	assert_no_memgate
}

@test "podman + runc: podman exec into a 64Mi container works and is held to the limit; status shows podman's id; rm -f leaves nothing" {
	exec_and_status runc
}

@test "podman + crun: podman exec into a 64Mi container works and is held to the limit; status shows podman's id; rm -f leaves nothing" {
	exec_and_status crun
}

pressure_gate() {
	run prun "$1" --rm --memory 256m --annotation memgate.io/pressure-gate=48Mi "$IMG" /alloc steps 1
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(got_mib "$output")
	[ "$got" -ge 24 ] && [ "$got" -le 48 ]
}

@test "podman + runc: pressure-gate=48Mi holds" {
	pressure_gate runc
}

@test "podman + crun: pressure-gate=48Mi holds" {
	pressure_gate crun
}

failed_start() {
	run podman --hooks-dir /usr/share/containers/oci/hooks.d --hooks-dir "$FAIL_HOOKS" \
		run --rm --network none --runtime "$1" --annotation memgate.io/commit-limit=64Mi \
		--annotation test.fail=1 "$IMG" /bin/true
	echo "$output"
	[ "$status" -ne 0 ]
	# Podman runs no poststop for a container whose create failed: the policy is left...
	[ "$(map_count policies)" -eq 1 ]
	# ...until the next container starts.
	run prun "$1" --rm --annotation memgate.io/commit-limit=64Mi "$IMG" /bin/true
	[ "$status" -eq 0 ]
	assert_no_memgate
}

@test "podman + runc: a failed podman run leaves nothing once the next container starts" {
	failed_start runc
}

@test "podman + crun: a failed podman run leaves nothing once the next container starts" {
	failed_start crun
}

@test "podman + runc: a bad annotation fails podman run with memgate's one-line message" {
	run prun runc --rm --annotation memgate.io/commit-limit=lots "$IMG" /bin/true
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *'memgate-hook: annotation memgate.io/commit-limit="lots"'* ]]
	[ -z "$(podman ps -aq)" ]
	assert_no_memgate
}

@test "podman + crun: a bad annotation fails podman run and leaves nothing" {
	run prun crun --rm --annotation memgate.io/commit-limit=lots "$IMG" /bin/true
	echo "$output"
	[ "$status" -ne 0 ]
	[ -z "$(podman ps -aq)" ]
	assert_no_memgate
}
