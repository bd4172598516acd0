#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# scripts/deps (make demo, make check): one line naming what it installs,
# apt's output in a log file.  apt-get, dpkg-query, sudo and debfetch are
# stand-ins: deps runs from a copy beside a debfetch that fetches nothing.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	FAKE=$BATS_TEST_TMPDIR/bin
	mkdir -p "$FAKE"
	# Every package is installed but jq and bats.
	cat >"$FAKE/dpkg-query" <<-'EOF2'
		#!/bin/sh
		for last; do :; done
		case "$last" in jq|bats) exit 1 ;; esac
		printf 'install ok installed'
	EOF2
	cat >"$FAKE/apt-get" <<-'EOF2'
		#!/bin/sh
		echo "apt-get $*" >>"$APT_CALLS"
		for i in 1 2 3 4 5; do echo "Unpacking something ($i) ..."; echo "dpkg progress $i" >&2; done
		exit "${APT_EXIT:-0}"
	EOF2
	printf '#!/bin/sh\nexec "$@"\n' >"$FAKE/sudo"
	chmod +x "$FAKE"/*
	DEPS=$BATS_TEST_TMPDIR/top/scripts/deps
	mkdir -p "${DEPS%/*}"
	cp "$TOP/scripts/deps" "$DEPS"
	printf '#!/bin/sh\necho "debfetch $*" >>"$APT_CALLS"\n' >"${DEPS%/*}/debfetch"
	chmod +x "${DEPS%/*}/debfetch"
	export APT_CALLS=$BATS_TEST_TMPDIR/calls MEMGATE_DEPS_LOG=$BATS_TEST_TMPDIR/deps.log
}

@test "deps installs what is missing in one line, apt's output in the log" {
	PATH=$FAKE:$PATH run --separate-stderr "$DEPS"
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$stderr" = "memgate: installing bats jq (apt's output: $MEMGATE_DEPS_LOG)" ]
	grep -q 'apt-get install .* bats jq' "$APT_CALLS"
	grep -q 'Unpacking something (5)' "$MEMGATE_DEPS_LOG"
	grep -q 'dpkg progress 5' "$MEMGATE_DEPS_LOG"
}

@test "deps: a failed install shows apt's last lines and where the log is" {
	APT_EXIT=100 PATH=$FAKE:$PATH run --separate-stderr "$DEPS"
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"dpkg progress 5"* ]]
	[ "${stderr_lines[-1]}" = "memgate: installing packages failed; apt's output is in $MEMGATE_DEPS_LOG" ]
}

@test "deps fetches containerd 2 into the cache; with --no-fetch (make check, make demo) only apt's packages" {
	PATH=$FAKE:$PATH run --separate-stderr "$DEPS"
	[ "$status" -eq 0 ]
	grep -q '^debfetch .* sid containerd2 containerd$' "$APT_CALLS"
	: >"$APT_CALLS"
	PATH=$FAKE:$PATH run --separate-stderr "$DEPS" --no-fetch
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -eq 0 ]
	grep -q 'apt-get install .* bats jq' "$APT_CALLS"
	! grep -q '^debfetch' "$APT_CALLS"
}

@test "deps: an unknown option is one line and exit 2, and installs nothing" {
	PATH=$FAKE:$PATH run --separate-stderr "$DEPS" --fetch-all
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -eq 2 ]
	[ "$stderr" = "scripts/deps: unknown option '--fetch-all' (expected --no-fetch or nothing)" ]
	[ ! -s "$APT_CALLS" ]
}
