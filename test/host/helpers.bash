# SPDX-License-Identifier: GPL-2.0-only
# Shared by the host suites: they run on the build host, need no BPF and no
# VM, and use the binaries in $BUILD (default build/).

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
MEMGATE=$BUILD/memgate
HOOK=$BUILD/memgate-hook

require_build() {
	if [ ! -x "$MEMGATE" ] || [ ! -x "$HOOK" ]; then
		echo "build memgate first: make" >&2
		return 1
	fi
}

# one_line_error EXPECTED: $status, $output and $stderr (run --separate-stderr)
# show a failure with nothing on stdout and one line on stderr holding EXPECTED.
one_line_error() {
	echo "status $status, stdout [$output], stderr [$stderr]"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"$1"* ]]
}
