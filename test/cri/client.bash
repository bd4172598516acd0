# SPDX-License-Identifier: GPL-2.0-only
# For bats suites: one test/cri/cri process per suite, answering through two
# FIFOs.  Under TCG, Python with grpc takes many seconds to start; this way
# it starts once.
#
#   cri_serve SOCKET   in setup_file: start it (ready when this returns)
#   cri_ ARGS...       any cri command: prints its stdout and stderr, returns its status
#   cri_stop           in teardown_file
#   cri_alone ARGS...  a client process of its own, for a call beside others
#                      (the served one answers one call at a time)
# and what the CRI suites share: cri_node_toml, pod, got_mib.

CRI_CLIENT=${CRI_CLIENT:-/memgate/build/test/cri/cri}
CRI_FIFOS=${CRI_FIFOS:-/tmp/cri-client}

cri_serve() {
	rm -rf "$CRI_FIFOS"
	mkdir -p "$CRI_FIFOS"
	# fd 3 closed: bats waits for every holder of it.
	"$CRI_CLIENT" --socket "$1" serve "$CRI_FIFOS" </dev/null >"$CRI_FIFOS/log" 2>&1 3>&- &
	echo $! >"$CRI_FIFOS/pid"
	echo "$1" >"$CRI_FIFOS/socket"
	until [ -p "$CRI_FIFOS/out" ]; do
		kill -0 "$(<"$CRI_FIFOS/pid")" 2>/dev/null || { cat "$CRI_FIFOS/log" >&2; return 1; }
		sleep 0.2
	done
}

cri_() {
	local rc body
	[ -p "$CRI_FIFOS/out" ] || { echo "cri_: no client running (cri_serve first)" >&2; return 1; }
	printf '%s\0' "$@" >"$CRI_FIFOS/in"
	{
		read -r rc
		IFS= read -r -d '' body || true # ends at EOF, not at a NUL
	} <"$CRI_FIFOS/out"
	printf '%s' "$body"
	return "$rc"
}

cri_stop() {
	local pid
	pid=$(<"$CRI_FIFOS/pid") 2>/dev/null || return 0
	kill "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

cri_alone() {
	"$CRI_CLIENT" --socket "$(<"$CRI_FIFOS/socket")" "$@"
}

# pod NAME ANNOTATIONS_JSON: a pod config (uid $UID0-NAME) on the host's
# network (no CNI), its cgroups under /kubepods/pod<uid> as a kubelet's
# cgroupfs driver puts them.
pod() {
	jq -c -n --arg name "$1" --argjson ann "$2" --arg uid "$UID0-$1" '{
		metadata: {name: $name, namespace: "default", uid: $uid},
		annotations: $ann,
		linux: {cgroup_parent: ("/kubepods/pod" + $uid),
			security_context: {namespace_options: {network: "NODE"}}}}'
}

# got_mib OUTPUT: the MiB /alloc got ("got N MiB").
got_mib() {
	sed -n 's/^got \([0-9]*\) MiB$/\1/p' <<<"$1"
}

# A test node's own containerd 1.x configuration, nothing of memgate's:
# state under DIR (on the guest's tmpfs), the native snapshotter (no overlay
# module in the guest), the local pause image, no AppArmor profile to load.
cri_node_toml() { # DIR SOCKET
	cat <<-EOF
		version = 2
		root = "$1/root"
		state = "$1/state"
		disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
		  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
		[grpc]
		  address = "$2"
		[plugins."io.containerd.grpc.v1.cri"]
		  sandbox_image = "localhost/memgate/pause:1"
		  disable_apparmor = true
		[plugins."io.containerd.grpc.v1.cri".containerd]
		  snapshotter = "native"
		  default_runtime_name = "runc"
	EOF
}
