# SPDX-License-Identifier: GPL-2.0-only
# Shared by the bats suites.  They run only inside the memgate VM
# (test/vm/run), where the kernel can run memgate's programs.

HOOK=/usr/libexec/oci/hooks.d/memgate-hook
ALLOC=/memgate/build/test/alloc
BUNDLES=/tmp/bundles
CGROUP_PARENT=/sys/fs/cgroup/mg

require_vm() {
	local cmdline
	read -r cmdline </proc/cmdline # a builtin: every process costs under TCG
	if [[ " $cmdline " != *" memgate.vm=1 "* ]]; then
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
	local dir=$BUNDLES/$name base=$BUNDLES/runc-spec.json
	make_rootfs
	mkdir -p "$dir" /tmp/data
	# runc's default spec, made once: runc and jq are slow to start under TCG.
	if [ ! -s "$base" ]; then
		(cd "$BUNDLES" && rm -f config.json && runc spec && mv config.json "$base")
	fi
	jq --argjson ann "$annotations" --rawfile args <(printf '%s\n' "$@") --arg cg "/mg/$name" --arg rootfs "$BUNDLES/rootfs" \
		--argjson mem "$memory" --arg hook "$HOOK" '
		.process.terminal = false | .process.args = ($args | rtrimstr("\n") | split("\n"))
		| .root = {path: $rootfs, readonly: false}
		| .annotations = $ann | .linux.cgroupsPath = $cg
		| (if $mem > 0 then .linux.resources.memory = {limit: $mem} else . end)
		| .process.rlimits = []
		| .mounts += [{destination: "/data", type: "bind", source: "/tmp/data", options: ["rbind", "rw"]}]
		| .hooks = {prestart: [{path: $hook, args: ["memgate-hook", "prestart"]}],
			    poststop: [{path: $hook, args: ["memgate-hook", "poststop"]}]}
		' "$base" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
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

# Nothing of memgate left: no pins at once, and no programs or links within
# 15 s.  From 6.12 the kernel frees a tracing program's trampoline
# asynchronously, so `bpftool prog show` may
# list it for a moment after its last link was unpinned; 5 s was seen not to
# be enough on 6.12 under TCG with four guests sharing two host cores.
assert_no_memgate() {
	local progs links deadline
	[ ! -e /sys/fs/bpf/memgate ] || { echo "pins left: $(find /sys/fs/bpf/memgate)"; return 1; }
	# Nor a staging, dying or retired tree.
	! compgen -G "/sys/fs/bpf/memgate-*" || { echo "trees left: $(echo /sys/fs/bpf/memgate-*)"; return 1; }
	deadline=$((${EPOCHREALTIME/./} + 15000000))
	while :; do
		progs=$(bpftool prog show | grep -E 'name mg_' || true)
		links=$(bpftool link show | grep -E 'prog [0-9]+ .*mg_|mg_' || true)
		[ -n "$progs$links" ] || return 0
		((${EPOCHREALTIME/./} < deadline)) || break
		sleep 0.1
	done
	[ -z "$progs" ] || { echo "programs left after 15 s:"; echo "$progs"; }
	[ -z "$links" ] || { echo "links left after 15 s:"; echo "$links"; }
	return 1
}

# No memgate-staging-* or memgate-dead-* tree in bpffs: a hook killed while
# it loaded or unloaded memgate leaves one until the next hook that loads.
assert_no_stale_trees() {
	local left
	left=$(ls /sys/fs/bpf | grep -E '^memgate-(staging|dead)-' || true)
	[ -z "$left" ] || { echo "left in /sys/fs/bpf: $left"; return 1; }
}

# mg_program_ids: the ids of memgate's loaded programs (names mg_*), sorted,
# on one line.
mg_program_ids() {
	bpftool prog show | sed -n 's/^\([0-9]*\): .* name mg_.*/\1/p' | sort -n | tr '\n' ' '
}

# mg_programs: memgate's loaded programs as "id name", one a line, sorted by id.
# Only ids and names: bpftool's lines also carry counters (recursion_misses
# once a program was skipped, run_time_ns with stats on) that change by chance.
mg_programs() {
	bpftool prog show -j | jq -r '.[] | select((.name // "") | startswith("mg_")) | "\(.id) \(.name)"' | sort -n
}

# link_prog_type NAME: the type of the program memgate's pinned link NAME
# runs ("lsm", "tracing", ...).
link_prog_type() {
	bpftool prog show id "$(bpftool link show pinned "/sys/fs/bpf/memgate/links/$1" -j | jq .prog_id)" -j | jq -r .type
}

# Run in teardown of suites that use crun: remove every crun container.
cleanup_crun_containers() {
	local id
	for id in $(crun list -q 2>/dev/null); do
		crun delete -f "$id" >/dev/null 2>&1 || true
	done
}

# Run in teardown: remove every container this test made, then memgate's state.
cleanup_containers() {
	local id states=(/run/runc/*)
	# runc list costs seconds under TCG: only when some container exists.
	if [ -e "${states[0]}" ]; then
		for id in $(runc list -q 2>/dev/null); do
			runc delete -f "$id" >/dev/null 2>&1 || true
		done
	fi
	rm -rf "$BUNDLES"/*.log
	# A test that failed half-way must not leave pins to the next one.
	if [ -e /sys/fs/bpf/memgate ]; then
		memgate gc --all >/dev/null 2>&1 || true
	fi
}

# Each jq or bpftool run costs a fraction of a second under TCG: these
# helpers check the pinned maps and `memgate status` with one of each.

# map_dump NAME: a pinned memgate map (maps/NAME) as bpftool's BTF-formatted
# entries, one compact {"key":...,"value":...} per line.
map_dump() {
	bpftool map dump pinned "/sys/fs/bpf/memgate/maps/$1" -j | jq -c '.[].formatted'
}

# map_count NAME: the number of entries in maps/NAME.
map_count() {
	bpftool map dump pinned "/sys/fs/bpf/memgate/maps/$1" -j | jq length
}

# policy_of_cgroup ID: the policies entry of a cgroup id, as JSON; empty when none.
policy_of_cgroup() {
	bpftool map dump pinned /sys/fs/bpf/memgate/maps/policies -j |
		jq -c --argjson id "$1" '.[].formatted | select(.key == $id) | .value'
}

# policy_is ID FILTER: cgroup ID has a policies entry, and FILTER (jq) is true of it.
policy_is() {
	bpftool map dump pinned /sys/fs/bpf/memgate/maps/policies -j |
		jq -e --argjson id "$1" "[.[].formatted | select(.key == \$id) | .value]
			| length == 1 and (.[0] | $2)"
}

# status_is ID FILTER: `memgate status --json` lists container ID once, and
# FILTER (jq) is true of its entry.
status_is() {
	memgate status --json |
		jq -e --arg id "$1" "[.containers[] | select(.id == \$id)] | length == 1 and (.[0] | $2)"
}
