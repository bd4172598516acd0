# SPDX-License-Identifier: GPL-2.0-only
# Shared by the bats suites.  They run only inside the memgate VM
# (test/vm/run), where the kernel can run memgate's programs.

HOOK=/usr/libexec/oci/hooks.d/memgate-hook
ALLOC=/memgate/build/test/alloc
BUNDLES=/tmp/bundles
CGROUP_PARENT=/sys/fs/cgroup/mg

require_vm() {
	if ! grep -qw 'memgate.vm=1' /proc/cmdline; then
		echo "this suite runs only inside the memgate VM: use make check" >&2
		return 1
	fi
}

# A busybox rootfs with the alloc workload, shared by all bundles.
make_rootfs() {
	local rootfs=$BUNDLES/rootfs
	[ -x "$rootfs/alloc" ] && return 0
	mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp,data}
	cp /usr/bin/busybox "$rootfs/bin/busybox"
	for applet in sh cat sleep echo ls grep head dd true false mkdir; do
		ln -sf busybox "$rootfs/bin/$applet"
	done
	cp "$ALLOC" "$rootfs/alloc"
}

# make_bundle NAME ANNOTATIONS_JSON [MEMORY_MAX_BYTES] -- ARGS...
# Writes $BUNDLES/NAME/config.json: cgroup /mg/NAME, memgate's hook at
# prestart and poststop, the annotations, and ARGS as the process.
make_bundle() {
	local name=$1 annotations=$2 memory=${3:-0}
	shift 3
	[ "${1:-}" = -- ] && shift
	local dir=$BUNDLES/$name args
	make_rootfs
	mkdir -p "$dir"
	args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	(cd "$dir" && rm -f config.json && runc spec)
	jq --argjson ann "$annotations" --argjson args "$args" --arg cg "/mg/$name" --arg rootfs "$BUNDLES/rootfs" \
		--argjson mem "$memory" --arg hook "$HOOK" '
		.process.terminal = false | .process.args = $args
		| .root = {path: $rootfs, readonly: false}
		| .annotations = $ann | .linux.cgroupsPath = $cg
		| (if $mem > 0 then .linux.resources.memory = {limit: $mem} else . end)
		| .process.rlimits = []
		| .mounts += [{destination: "/data", type: "bind", source: "/tmp/data", options: ["rbind", "rw"]}]
		| .hooks = {prestart: [{path: $hook, args: ["memgate-hook", "prestart"]}],
			    poststop: [{path: $hook, args: ["memgate-hook", "poststop"]}]}
		' "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
	mkdir -p /tmp/data
}

# run_ctr NAME: run a bundle in the foreground; runc deletes it at exit.
run_ctr() {
	local name=$1
	(cd "$BUNDLES/$name" && runc run "$name" </dev/null)
}

# start_ctr NAME: run a bundle detached; its output goes to $BUNDLES/NAME.log.
start_ctr() {
	local name=$1
	(cd "$BUNDLES/$name" && runc run -d "$name" </dev/null >"$BUNDLES/$name.log" 2>&1)
}

# The container's cgroup id, as bpf_get_current_cgroup_id() sees it.
cgroup_id() {
	stat -c %i "$CGROUP_PARENT/$1"
}

# The memgate status entry of a container, as JSON ("null" when none).
status_of() {
	memgate status --json | jq -c --arg id "$1" '.containers[] | select(.id == $id)'
}

# Nothing of memgate left: no pins, no programs, no links.
assert_no_memgate() {
	[ ! -e /sys/fs/bpf/memgate ] || { echo "pins left: $(find /sys/fs/bpf/memgate)"; return 1; }
	! bpftool prog show | grep -E 'name mg_' || { echo "programs left"; return 1; }
	! bpftool link show | grep -E 'prog [0-9]+ .*mg_|mg_' || { echo "links left"; return 1; }
}

# Run in teardown: remove every container this test made, then memgate's state.
cleanup_containers() {
	local id
	for id in $(runc list -q 2>/dev/null); do
		runc delete -f "$id" >/dev/null 2>&1 || true
	done
	rm -rf "$BUNDLES"/*.log
}
