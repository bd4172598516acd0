#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Tenant bytes in error lines: a container id or annotation value with
# terminal escapes or newlines comes out escaped, on one line, and a long
# value leaves the reason on the line.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	require_build
	export MEMGATE_CONFIG=$BATS_TEST_TMPDIR/absent.json
	ESC=$'\e'
}

# no_raw: neither stream holds an escape or another control byte but the line's end.
no_raw() {
	! LC_ALL=C grep -q '[[:cntrl:]]' <<<"$output$stderr"
	[[ "$output$stderr" != *"$ESC"* ]]
}

@test "a hostile annotation value is escaped in the hook's error line" {
	run --separate-stderr "$HOOK" prestart <<<'{"ociVersion": "1.0.2", "id": "c1", "status": "creating", "pid": 1, "annotations": {"memgate.io/commit-limit": "\u001b[2J\u001b]0;owned\u0007\nmemgate-hook: forged"}}'
	one_line_error 'memgate-hook: annotation memgate.io/commit-limit="\e[2J\e]0;owned\x07\nmemgate-hook: forged": expected a size'
	no_raw
}

@test "a hostile container id is escaped in the hook's warning line" {
	echo '{' >"$BATS_TEST_TMPDIR/broken.json"
	export MEMGATE_CONFIG=$BATS_TEST_TMPDIR/broken.json
	run --separate-stderr "$HOOK" prestart <<<'{"ociVersion": "1.0.2", "id": "\u001b[2Jc\u009b1\ud800x", "status": "creating", "pid": 1}'
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == 'memgate-hook: warning: container \e[2Jc\xc2\x9b1'*' sets no knob, so this is ignored: '* ]]
	no_raw
}

@test "memgate validate escapes a hostile value, and a long one keeps the reason" {
	run --separate-stderr "$MEMGATE" validate "memgate.io/mode=${ESC}[2Jx"
	one_line_error 'memgate validate: annotation memgate.io/mode="\e[2Jx": expected "enforce", "audit" or "monitor"'
	no_raw
	run --separate-stderr "$MEMGATE" validate "memgate.io/commit-limit=1Gi" "memgate.io/mode=start$(printf 'x%.0s' {1..3000})end"
	one_line_error '...(3008 bytes)...'
	[[ "$stderr" == *'end": expected "enforce", "audit" or "monitor"' ]]
}
