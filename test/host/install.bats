#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# make install into a DESTDIR: the binaries, hooks.d files and man pages;
# make uninstall: nothing left of them.

load helpers

bats_require_minimum_version 1.5.0

setup() {
	require_build
	DEST=$BATS_TEST_TMPDIR/dest
	make -s -C "$TOP" BUILD="$BUILD" install DESTDIR="$DEST" PREFIX=/usr >/dev/null
}

@test "make install puts the binaries, both hooks.d files and four man pages in place" {
	local f
	for f in bin/memgate libexec/oci/hooks.d/memgate-hook; do
		[ -x "$DEST/usr/$f" ]
	done
	jq -e '.hook.path == "/usr/libexec/oci/hooks.d/memgate-hook" and .when.annotations["^memgate\\.io/"] == ".*"' \
		"$DEST/usr/share/containers/oci/hooks.d/memgate.json"
	# The always-run variant is shipped, not active: it is not in a hooks.d directory.
	jq -e '.hook.path == "/usr/libexec/oci/hooks.d/memgate-hook" and .when.always == true and (.when | length) == 1' \
		"$DEST/usr/share/memgate/memgate-always.json"
	[ "$(find "$DEST" -path '*hooks.d*' -name '*.json' | wc -l)" -eq 1 ]
	"$DEST/usr/bin/memgate" validate memgate.io/commit-limit=64Mi
}

@test "man renders each installed page with its name" {
	local page name
	for page in man8/memgate.8 man8/memgate-hook.8 man5/memgate-annotations.5 man5/memgate.json.5; do
		name=$(basename "$page")
		run man -P cat -l "$DEST/usr/share/man/$page"
		[ "$status" -eq 0 ]
		[[ "$output" == *"NAME"* ]]
		[[ "$output" == *"${name%.*} - "* ]]
	done
	# man finds them by name in the installed tree, as `man memgate` will.
	MANPATH=$DEST/usr/share/man run man -P cat -w memgate.json
	[ "$output" = "$DEST/usr/share/man/man5/memgate.json.5" ]
}

@test "make uninstall removes every file make install put in place" {
	[ -n "$(find "$DEST" -type f)" ]
	make -s -C "$TOP" BUILD="$BUILD" uninstall DESTDIR="$DEST" PREFIX=/usr
	run find "$DEST" ! -type d
	echo "left: $output"
	[ -z "$output" ]
	[ ! -e "$DEST/usr/share/memgate" ]
}

@test "make uninstall leaves the admin's own files alone" {
	mkdir -p "$DEST/etc/memgate" "$DEST/etc/containers/oci/hooks.d"
	echo '{}' >"$DEST/etc/memgate/memgate.json"
	cp "$DEST/usr/share/memgate/memgate-always.json" "$DEST/etc/containers/oci/hooks.d/memgate.json"
	make -s -C "$TOP" BUILD="$BUILD" uninstall DESTDIR="$DEST" PREFIX=/usr
	[ -f "$DEST/etc/memgate/memgate.json" ]
	[ -f "$DEST/etc/containers/oci/hooks.d/memgate.json" ]
	[ ! -e "$DEST/usr/bin/memgate" ]
}
