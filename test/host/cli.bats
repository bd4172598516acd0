#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The CLI for a new user, on the host: --version, help, root said plainly,
# validate's hints, and `events --follow` waiting for memgate.  Nothing here
# needs BPF.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	require_build
	# Absent, and where any user may look.
	export MEMGATE_CONFIG=/nonexistent/memgate.json
}

# as_user CMD...: CMD as a user other than root (nobody when we are root).
as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
	else
		"$@"
	fi
}

state() {
	printf '{"ociVersion": "1.0.2", "id": "c1", "status": "creating", "pid": %d, "bundle": "/nonexistent", "annotations": %s}\n' $$ "$1"
}

@test "memgate --version prints the version and exits 0" {
	run --separate-stderr "$MEMGATE" --version
	echo "status $status: $output $stderr"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^memgate\ [0-9]+\.[0-9]+\.[0-9]+ ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "help CMD and CMD --help print the command's help and exit 0, for every command" {
	local cmd bad=0
	for cmd in status events probe gc preload validate help; do
		run --separate-stderr "$MEMGATE" help "$cmd"
		if [ "$status" -ne 0 ] || [[ "$output" != "usage: memgate $cmd "* ]] || [ -n "$stderr" ]; then
			echo "help $cmd: status $status: $output $stderr"
			bad=1
		fi
		run --separate-stderr "$MEMGATE" "$cmd" --help
		if [ "$status" -ne 0 ] || [[ "$output" != "usage: memgate $cmd "* ]] || [ -n "$stderr" ]; then
			echo "$cmd --help: status $status: $output $stderr"
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
	# Every command of the overview has its help.
	run "$MEMGATE" help
	[ "$status" -eq 0 ]
	[ "$(grep -c '^\(usage:\|      \) memgate [a-z]' <<<"$output")" -eq 7 ]
	run --separate-stderr "$MEMGATE" help nope
	[ "$status" -eq 2 ]
	[ "$stderr" = "memgate help: unknown command 'nope' (expected status, events, probe, gc, preload, validate or help)" ]
}

@test "status, events, probe, gc and preload say plainly that they need root" {
	local cmd bad=0
	for cmd in status events probe gc preload; do
		run --separate-stderr as_user "$MEMGATE" "$cmd"
		if [ "$status" -ne 1 ] || [ -n "$output" ] ||
			[[ "$stderr" != "memgate $cmd: needs root: memgate's state (/sys/fs/bpf/memgate, /run/memgate/lock) is root's only, and this runs as uid "* ]]; then
			echo "$cmd: status $status: $output $stderr"
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
	# validate needs no root.
	run as_user "$MEMGATE" validate memgate.io/commit-limit=1Gi
	[ "$status" -eq 0 ]
}

@test "the hook run by a rootless runtime says it needs root, in one line" {
	run --separate-stderr as_user "$HOOK" prestart < <(state '{"memgate.io/commit-limit": "1Gi"}')
	one_line_error "memgate-hook: needs root: memgate's state (/sys/fs/bpf/memgate, /run/memgate/lock) is root's only, and this runs as uid "
	# Root of a user namespace, as rootless podman runs hooks, is not root on the host.
	run --separate-stderr unshare --user --map-root-user "$HOOK" prestart < <(state '{"memgate.io/commit-limit": "1Gi"}')
	one_line_error "memgate-hook: needs root on the host: this is uid 0 of a user namespace (uid $(id -u) outside), as a rootless runtime runs it"
	# A container without policy is none of memgate's business: no error.
	run --separate-stderr as_user "$HOOK" prestart < <(state '{}')
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	run --separate-stderr as_user "$HOOK" poststop < <(state '{"memgate.io/commit-limit": "1Gi"}')
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "status --json --prometheus is refused" {
	run --separate-stderr "$MEMGATE" status --json --prometheus
	one_line_error "memgate status: --json and --prometheus exclude each other: give one"
}

@test "validate --container-name picks the container's overrides" {
	run "$MEMGATE" validate --container-name web memgate.io/commit-limit=2Gi memgate.io/commit-limit.web=1Gi
	[ "$status" -eq 0 ]
	[ "$output" = "valid: mode=enforce commit-limit=1073741824 pressure-gate=0 fork-gate=0" ]
	run "$MEMGATE" validate --container-name db memgate.io/commit-limit=2Gi memgate.io/commit-limit.web=1Gi
	[ "$status" -eq 0 ]
	[ "$output" = "valid: mode=enforce commit-limit=2147483648 pressure-gate=0 fork-gate=0" ]
}

@test "validate hints at a missing or misspelt memgate.io/ prefix" {
	run --separate-stderr "$MEMGATE" validate commit-limit=1Gi
	one_line_error "memgate validate: 'commit-limit=1Gi': no memgate.io/ prefix, so the hook would ignore it; did you mean memgate.io/commit-limit=1Gi?"
	run --separate-stderr "$MEMGATE" validate MEMGATE.IO/mode.web=audit
	one_line_error "memgate validate: 'MEMGATE.IO/mode.web=audit': annotation keys are case-sensitive, and the hook ignores this one; did you mean memgate.io/mode.web=audit?"
	# Other annotations are not memgate's: no policy, no error.
	run "$MEMGATE" validate org.example/commit-limit=1 limit=2
	[ "$status" -eq 0 ]
	[ "$output" = "no memgate policy: the hook will do nothing for this container" ]
}

@test "validate suggests --memory-max when a percentage needs it" {
	run --separate-stderr "$MEMGATE" validate memgate.io/pressure-gate=80%
	one_line_error 'memgate validate: annotation memgate.io/pressure-gate="80%": a percentage needs a container memory limit (memory.max is "max"); give the container'"'"'s limit with --memory-max SIZE'
	run "$MEMGATE" validate --memory-max 1Gi memgate.io/pressure-gate=80%
	[ "$status" -eq 0 ]
}

@test "validate reads files with messages that name them" {
	: >"$BATS_TEST_TMPDIR/empty.json"
	run --separate-stderr "$MEMGATE" validate --config "$BATS_TEST_TMPDIR/empty.json"
	one_line_error "memgate validate: $BATS_TEST_TMPDIR/empty.json is empty"
	run --separate-stderr "$MEMGATE" validate --admin-config "$BATS_TEST_TMPDIR/empty.json"
	one_line_error "memgate validate: admin configuration $BATS_TEST_TMPDIR/empty.json is empty"
	run --separate-stderr "$MEMGATE" validate --admin-config "$BATS_TEST_TMPDIR/absent.json"
	one_line_error "memgate validate: admin configuration $BATS_TEST_TMPDIR/absent.json: cannot open: No such file or directory"
	head -c 70000 /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/big.json"
	echo '{"defaults": {}}' >>"$BATS_TEST_TMPDIR/big.json"
	run --separate-stderr "$MEMGATE" validate --admin-config "$BATS_TEST_TMPDIR/big.json"
	one_line_error "memgate validate: admin configuration $BATS_TEST_TMPDIR/big.json exceeds 65536 bytes"
	run --separate-stderr "$MEMGATE" validate --config "$BATS_TEST_TMPDIR/big.json"
	one_line_error "memgate validate: admin configuration $BATS_TEST_TMPDIR/big.json exceeds 65536 bytes"
}

@test "events --follow waits for memgate to load instead of exiting" {
	[ ! -e /sys/fs/bpf/memgate/maps/policies ] # the build host runs no memgate
	run --separate-stderr timeout -s TERM 3 "$MEMGATE" events --follow
	echo "status $status: $output $stderr"
	[ "$status" -eq 124 ] # still running when timeout stopped it
	[ -z "$output" ]
	[ "$stderr" = "memgate events: waiting for memgate to load (the first container under policy)" ]
	# Without --follow there is nothing to read, and it says so.
	run --separate-stderr "$MEMGATE" events
	[ "$status" -eq 1 ]
}

# The build host refuses trampolines (lockdown) but runs tp_btf programs.
@test "probe: one verdict per knob and mode first, then the mechanisms with what each is for" {
	run --separate-stderr "$MEMGATE" probe
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[1]}" = "KNOB OR MODE   HERE HOW, OR WHY NOT" ]
	[[ "${lines[2]}" == "commit-limit   no   fmod_ret: load failed: Operation not permitted"* ]]
	[ "${lines[3]}" = "pressure-gate  no   as commit-limit" ]
	[[ "${lines[4]}" == "fork-gate      no   "* ]]
	[[ "${lines[5]}" == "audit          no   "* ]]
	[[ "${lines[6]}" == "monitor        yes  tp_btf programs, no trampoline: "* ]]
	[[ "${lines[7]}" == "MECHANISM   TARGET "*" FOR" ]]
	[[ "$output" == *$'\n'"fmod_ret    security_vm_enough_memory_mm   no     no       no     commit-limit and pressure-gate: "*$'\n'"  why not: load failed: Operation not permitted"* ]]
	# Every mechanism's row keeps the columns: hooks that do not fit in TARGET
	# (lsm's) go on under it, and none is lost (--json's targets, below).
	local row bad=0 targets
	for row in "${lines[@]:8}"; do
		case "$row" in " "* | "memory in use"* | "monitor mode"*) continue ;; esac
		[[ "${row:43:4}" == "yes " || "${row:43:4}" == "no  " ]] || { echo "LOADS out of its column: $row"; bad=1; }
	done
	[ "$bad" -eq 0 ]
	targets=$(awk '/^MECHANISM /{on = 1; next} !on {next}
		/^            [^ ]/ {t[n] = t[n] substr($0, 13); next}
		/^[^ ]/ && !/^(memory in use|monitor mode)/ {n++; t[n] = substr($0, 13, 30); sub(/ +$/, "", t[n])}
		END {for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? " " : ""), t[i]; print ""}' <<<"$output")
	run "$MEMGATE" probe --json
	jq -e '[.verdicts[] | "\(.name)=\(.available)"] == ["commit-limit=false", "pressure-gate=false", "fork-gate=false", "audit=false", "monitor=true"]' <<<"$output"
	echo "targets: $targets"
	[ "$targets" = "$(jq -r '[.mechanisms[].target] | join(" ")' <<<"$output")" ]
}

@test "probe --verbose: libbpf's reasons under each failure, not its debug log" {
	run --separate-stderr "$MEMGATE" probe --verbose
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -lt 80 ]
	[[ "$output" == *$'\n'"  why not: load failed: Operation not permitted"*$'\n'"    libbpf: prog 'probe_fmod_ret': BPF program load failed: Operation not permitted"$'\n'* ]]
	[[ "$output" != *"relo #"* && "$output" != *"ulimit"* ]]
	run "$MEMGATE" probe --json --verbose
	jq -e '.mechanisms[] | select(.name == "fmod_ret") | .libbpf | test("BPF program load failed")' <<<"$output"
}

# Each marker: a text symbol the CLI defines, or a string its binary holds.
# The markers are looked for in both binaries: a marker the CLI lacks is a
# stale test, not a passing one.
@test "the hook links no probe and no renderers: no probe BPF object, probe code, status or Prometheus text; the CLI has each" {
	local syms=(mg_probe_all mg_probe_monitor mg_snapshot_take cmd_status cmd_probe cmd_events put_json print_json print_retired
		render_json render_prometheus render_table)
	local strings=(probe_fmod_ret probe_lsm_cgroup probe_tp_btf memgate_decisions_total memgate_committed_bytes)
	local m bad=0

	for m in "${syms[@]}"; do
		nm --defined-only "$MEMGATE" | grep -qE "^[0-9a-f]+ [tT] $m\$" ||
			{ echo "the CLI lacks the symbol $m: update this test"; bad=1; }
		if nm --defined-only "$HOOK" | grep -qE "^[0-9a-f]+ [tT] $m\$"; then
			echo "memgate-hook defines $m"; bad=1
		fi
	done
	for m in "${strings[@]}"; do
		grep -qaF -- "$m" "$MEMGATE" || { echo "the CLI lacks the string $m: update this test"; bad=1; }
		if grep -qaF -- "$m" "$HOOK"; then
			echo "memgate-hook holds the string $m"; bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}
