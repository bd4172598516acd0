#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# memgate-nri on the host: its Go tests (what it asks of the runtime for a
# container: nri/memgate-nri_test.go) and one line for each bad input.  The
# runtime end is test/bats/nri.bats, in the VM.

load helpers

bats_require_minimum_version 1.5.0

NRI=$BUILD/memgate-nri

setup() {
	[ -x "$NRI" ] || { echo "build memgate-nri first: make" >&2; return 1; }
}

@test "memgate-nri adds the hook pair only where a memgate.io/ key is (or with --always), copies the pod's keys the container lacks, never twice (go test)" {
	run env BUILD="$BUILD" "$TOP/nri/build" --test
	echo "$output"
	[ "$status" -eq 0 ]
	# Each test ran and passed: none skipped, none missing.
	[ "$(grep -c '^--- PASS: Test' <<<"$output")" -eq 5 ]
	! grep -qE '^--- (FAIL|SKIP)' <<<"$output"
}

@test "memgate-nri: a bad option, an argument, a bad index or a missing hook is one line and a non-zero exit" {
	run --separate-stderr "$NRI" --bogus
	echo "$status [$stderr]"
	[ "$status" -eq 2 ] && [ "${#stderr_lines[@]}" -eq 1 ] && [ -z "$output" ]
	[[ "$stderr" == 'memgate-nri: flag provided but not defined: -bogus (usage: memgate-nri '* ]]
	run --separate-stderr "$NRI" --idx 5
	echo "$status [$stderr]"
	[ "$status" -eq 2 ] && [ "$stderr" = 'memgate-nri: --idx "5": expected two digits, such as 50' ]
	run --separate-stderr "$NRI" extra
	echo "$status [$stderr]"
	[ "$status" -eq 2 ] && [ "$stderr" = 'memgate-nri: unexpected argument "extra" (expected only options)' ]
	run --separate-stderr "$NRI" --hook relative/hook
	echo "$status [$stderr]"
	[ "$status" -eq 2 ] && [ "$stderr" = 'memgate-nri: --hook "relative/hook": expected an absolute path' ]
	run --separate-stderr "$NRI" --hook /nonexistent/memgate-hook
	echo "$status [$stderr]"
	[ "$status" -eq 1 ] && [ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == 'memgate-nri: --hook "/nonexistent/memgate-hook": '*'(expected memgate-hook installed there)' ]]
	# Nothing to connect to: it waits for the runtime, saying so once.
	run --separate-stderr timeout 3 "$NRI" --hook "$HOOK" --socket "$BATS_TEST_TMPDIR/none.sock"
	echo "$status [$stderr]"
	[ "$status" -eq 124 ]
	[ "$(grep -c 'retrying every second' <<<"$stderr")" -eq 1 ]
}
