#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The hook's self-confinement (seccomp, capabilities), seen from outside during a real run:
# its bundle's config.json is a FIFO, so the hook waits there, confined, while
# the test reads /proc/PID/status; then it gets a config.json and finishes.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	require_build
	export MEMGATE_CONFIG=$BATS_TEST_TMPDIR/absent.json
	BUNDLE=$BATS_TEST_TMPDIR/bundle
	mkdir -p "$BUNDLE"
	mkfifo "$BUNDLE/config.json"
	# No annotations in the state: the hook reads them from config.json.
	printf '{"ociVersion": "1.0.2", "id": "seccomp-1", "status": "creating", "pid": %d, "bundle": "%s"}\n' \
		$$ "$BUNDLE" >"$BATS_TEST_TMPDIR/state.json"
}

teardown() {
	[ -z "${WATCHER:-}" ] || kill "$WATCHER" 2>/dev/null || true
	[ -z "${HOOK_PID:-}" ] || kill "$HOOK_PID" 2>/dev/null || true
}

field() { # field NAME STATUS_TEXT
	sed -n "s/^$1:[[:space:]]*//p" <<<"$2"
}

# start_hook [WRAPPER...]: run the hook in the background; on return it has
# opened config.json (the test's open for writing returned), so it is past main()'s
# confinement, and it waits for our write.  If it dies first, a watcher opens
# the FIFO so this does not hang, and the checks below fail.
start_hook() {
	"$@" "$HOOK" prestart <"$BATS_TEST_TMPDIR/state.json" 2>"$BATS_TEST_TMPDIR/stderr" &
	HOOK_PID=$!
	(
		while kill -0 "$HOOK_PID" 2>/dev/null; do sleep 0.2; done
		exec 4<>"$BUNDLE/config.json"
	) &
	WATCHER=$!
	local fd # not 3: bats writes its TAP there
	exec {fd}>"$BUNDLE/config.json"
	HOOK_STATUS=$(cat "/proc/$HOOK_PID/status" 2>/dev/null)
	echo '{"ociVersion": "1.0.2", "process": {"args": ["sh"]}}' >&"$fd"
	exec {fd}>&-
	HOOK_RC=0
	wait "$HOOK_PID" || HOOK_RC=$?
	HOOK_PID=
	echo "hook exit $HOOK_RC, stderr: $(cat "$BATS_TEST_TMPDIR/stderr")"
}

@test "the hook runs under its seccomp filter while it reads config.json, and finishes" {
	local mine
	mine=$(cat /proc/self/status)
	start_hook
	echo "hook status: $(grep -E '^(Seccomp|NoNewPrivs)' <<<"$HOOK_STATUS")"
	[ -n "$HOOK_STATUS" ]
	[ "$(field Seccomp "$HOOK_STATUS")" = 2 ]
	[ "$(field NoNewPrivs "$HOOK_STATUS")" = 1 ]
	# CAP_BPF, CAP_PERFMON, CAP_SYSLOG, CAP_SYS_ADMIN, CAP_DAC_READ_SEARCH in every set that grants; none inheritable.
	if [ "$(id -u)" -eq 0 ]; then
		[ "$(field CapEff "$HOOK_STATUS")" = 000000c400200004 ]
		[ "$(field CapPrm "$HOOK_STATUS")" = 000000c400200004 ]
		[ "$(field CapBnd "$HOOK_STATUS")" = 000000c400200004 ]
	fi
	[ "$(field CapInh "$HOOK_STATUS")" = 0000000000000000 ]
	[ "$(field CapAmb "$HOOK_STATUS")" = 0000000000000000 ]
	# One filter more than this shell, so a filter inherited from a container runner does not count.
	if [ -n "$(field Seccomp_filters "$mine")" ]; then
		[ "$(field Seccomp_filters "$HOOK_STATUS")" -eq $(($(field Seccomp_filters "$mine") + 1)) ]
	fi
	[ "$HOOK_RC" -eq 0 ]
	[ ! -s "$BATS_TEST_TMPDIR/stderr" ]
}

@test "a hook that can not confine itself warns and still lets an unannotated container start" {
	[ -x "$BUILD/test/deny-seccomp" ] || skip "build/test/deny-seccomp missing: make"
	[ "$(id -u)" -eq 0 ] || skip "needs root to install a filter without no_new_privs"
	local mine
	mine=$(cat /proc/self/status)
	start_hook "$BUILD/test/deny-seccomp"
	[ -n "$HOOK_STATUS" ]
	# The wrapper's filter only: the hook's own did not load.
	if [ -n "$(field Seccomp_filters "$mine")" ]; then
		[ "$(field Seccomp_filters "$HOOK_STATUS")" -eq $(($(field Seccomp_filters "$mine") + 1)) ]
	fi
	[ "$HOOK_RC" -eq 0 ]
	# The wrapper refuses prctl() too, so no_new_privs is the first layer to fail.
	grep -qx 'memgate-hook: warning: running unconfined: no_new_privs: cannot set it: Operation not permitted' \
		"$BATS_TEST_TMPDIR/stderr"
}
