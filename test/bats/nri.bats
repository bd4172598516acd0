#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# memgate-nri on containerd 2.1 (Debian unstable's, in /opt/containerd2/bin)
# with NRI on and nothing of memgate in its configuration: no base spec, no
# pod_annotations.  test/cri/cri starts pods as a kubelet does.  The plugin
# adds memgate-hook to the containers of annotated pods and copies the pod's
# memgate.io/ annotations into their specs; the hook does the rest.  One
# containerd for the suite; pods share the host's network (no CNI).  One
# test/cri/cri process answers the suite's calls (test/cri/client.bash);
# a call racing another runs a client of its own (cri_alone).

load helpers
load ../cri/client

CTD=/tmp/nri-containerd
SOCK=$CTD/containerd.sock
NRI_SOCK=/run/nri/nri.sock
BIN2=/opt/containerd2/bin
CRI=/memgate/build/test/cri
MIB=1048576
UID0=5a1e2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b

# Wait up to $2 seconds (under TCG) for the command $1 to succeed.
wait_for() {
	local deadline=$((SECONDS + $2))
	until eval "$1"; do
		((SECONDS < deadline)) || { echo "timed out after $2 s waiting for: $1"; return 1; }
		sleep 0.5
	done
}

start_containerd() {
	local pid deadline=$((SECONDS + 240))
	# The shim containerd starts is found on PATH: 2.1's, not 1.6's.
	PATH=$BIN2:$PATH containerd --config "$CTD/config.toml" </dev/null >>"$CTD/containerd.log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$CTD/pid"
	# A client of its own: the served one starts once containerd answers.
	until "$CRI_CLIENT" --socket "$SOCK" --timeout 5 version >/dev/null 2>&1; do
		kill -0 "$pid" 2>/dev/null || { tail -n 30 "$CTD/containerd.log"; return 1; }
		((SECONDS < deadline)) || { echo "containerd 2 did not answer in 240 s"; return 1; }
		sleep 0.5
	done
}

stop_containerd() {
	local pid
	pid=$(cat "$CTD/pid")
	kill "$pid" 2>/dev/null || true
	wait_for '! kill -0 '"$pid"' 2>/dev/null' 120
}

start_plugin() {
	memgate-nri --socket "$NRI_SOCK" </dev/null >>"$CTD/nri.log" 2>&1 3>&- &
	echo $! >"$CTD/nri.pid"
}

# registered N: the plugin's log has N "registered with containerd" lines.
registrations() {
	grep -c '^memgate-nri: registered with containerd 2\.' "$CTD/nri.log" || true
}

wait_registered() {
	wait_for '[ "$(registrations)" -ge '"$1"' ]' 240 || { cat "$CTD/nri.log"; return 1; }
}

setup_file() {
	require_vm
	[ -x "$BIN2/containerd" ] || {
		echo "no containerd 2 in the guest at $BIN2 (test/vm/mkroot copies it from the cache scripts/debfetch fills)" >&2
		return 1
	}
	mkdir -p "$CTD" "$(dirname "$NRI_SOCK")"
	[ -e /etc/hosts ] || echo '127.0.0.1 localhost' >/etc/hosts
	[ -e /etc/resolv.conf ] || : >/etc/resolv.conf
	# Test plumbing only (state on tmpfs, native snapshotter, the local
	# pause image, no AppArmor profile to load); NRI as containerd 2 ships it,
	# with its own socket path spelt out.
	cat >"$CTD/config.toml" <<-EOF
		version = 3
		root = "$CTD/root"
		state = "$CTD/state"
		disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
		  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.erofs",
		  "io.containerd.snapshotter.v1.blockfile", "io.containerd.differ.v1.erofs",
		  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
		[grpc]
		  address = "$SOCK"
		[plugins.'io.containerd.nri.v1.nri']
		  disable = false
		  socket_path = "$NRI_SOCK"
		[plugins.'io.containerd.cri.v1.images']
		  snapshotter = "native"
		[plugins.'io.containerd.cri.v1.images'.pinned_images]
		  sandbox = "localhost/memgate/pause:1"
		[plugins.'io.containerd.cri.v1.runtime']
		  disable_apparmor = true
	EOF
	start_containerd
	"$BIN2/ctr" --address "$SOCK" -n k8s.io images import --local --snapshotter native "$CRI/pause.tar" >/dev/null
	"$BIN2/ctr" --address "$SOCK" -n k8s.io images import --local --snapshotter native "$CRI/workload.tar" >/dev/null
	cri_serve "$SOCK"
	start_plugin
	wait_registered 1
}

teardown_file() {
	local pid
	cri_stop
	pid=$(cat "$CTD/nri.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
	pid=$(cat "$CTD/pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

setup() {
	require_vm
}

teardown() {
	cri_ rmp --all || { tail -n 30 "$CTD/containerd.log"; return 1; }
	cleanup_containers
}

ctr_cfg() {
	jq -c -n --arg name "$1" '{metadata: {name: $name},
		image: {image: "localhost/memgate/workload:1"}, command: ["/pause"]}'
}

# The id `cri pod` printed for container NAME.
ctr_id() {
	grep '^{"pod"' <<<"$output" | jq -r --arg n "$1" '.containers[$n]'
}

# The OCI spec containerd gave runc for container ID.
spec_of() {
	cat "$CTD/state/io.containerd.runtime.v2.task/k8s.io/$1/config.json"
}

# hooked ID: the spec runs memgate-hook at createRuntime and poststop and at
# no other stage.
hooked() {
	spec_of "$1" | jq -e --arg h "$HOOK" '(.hooks // {}) as $k
		| ($k.createRuntime | map(.path)) == [$h] and ($k.poststop | map(.path)) == [$h]
		and ([$k | to_entries[] | select(.key != "createRuntime" and .key != "poststop") | .value[]] | length == 0)' >/dev/null
}

# bare ID: the spec has no hook at all.
bare() {
	spec_of "$1" | jq -e '[(.hooks // {})[][]] | length == 0' >/dev/null
}

# consistent ID: a container has memgate's hook exactly when memgate holds a
# policy for it (both or neither: never one without the other).
consistent() {
	local has=0
	[ -n "$(status_of "$1")" ] && has=1
	if hooked "$1"; then
		((has)) || { echo "$1 has the hook but no policy"; return 1; }
	else
		bare "$1" || { echo "$1 has hooks that are not memgate's pair:"; spec_of "$1" | jq .hooks; return 1; }
		((!has)) || { echo "$1 has a policy but no hook"; return 1; }
	fi
}

@test "NRI: an annotated pod's containers get the hook and are held to 64Mi and to the 128Mi override; the sandbox and an unannotated pod's container get no hook; removing the pods leaves nothing" {
	run cri_ pod "$(pod web '{"memgate.io/commit-limit": "64Mi", "memgate.io/commit-limit.big": "128Mi"}')" \
		"$(ctr_cfg small)" "$(ctr_cfg big)"
	echo "$output"
	[ "$status" -eq 0 ]
	small=$(ctr_id small) big=$(ctr_id big)
	sandbox=$(grep '^{"pod"' <<<"$output" | jq -r .pod)
	run cri_ pod "$(pod plain '{"kubernetes.io/config.source": "api"}')" "$(ctr_cfg solo)"
	echo "$output"
	[ "$status" -eq 0 ]
	solo=$(ctr_id solo)

	hooked "$small"
	hooked "$big"
	# The pod's annotations reached the spec through the plugin alone.
	spec_of "$small" | jq -e '.annotations["memgate.io/commit-limit"] == "64Mi"
		and .annotations["memgate.io/commit-limit.big"] == "128Mi"'
	bare "$sandbox"
	bare "$solo"
	[ "$(map_count policies)" -eq 2 ]
	status_is "$small" ".policy.commit_limit_bytes == $((64 * MIB))"
	status_is "$big" ".policy.commit_limit_bytes == $((128 * MIB))"
	[ -z "$(status_of "$solo")" ]

	run cri_ exec "$small" -- /alloc steps 1
	echo "$output"
	got=$(got_mib "$output")
	[ "$got" -ge 56 ] && [ "$got" -le 64 ]
	run cri_ exec "$big" -- /alloc steps 1
	echo "$output"
	got=$(got_mib "$output")
	[ "$got" -ge 120 ] && [ "$got" -le 128 ]

	cri_ rmp --all
	assert_no_memgate
}

@test "NRI: the plugin killed: a pod created meanwhile gets no hook (NRI fails open), one racing its restart gets the hook and its policy or neither, later ones both; containerd restarted while a pod starts: running containers keep their policy, the plugin reconnects by itself, later pods get both; removing them all leaves nothing" {
	ann='{"memgate.io/commit-limit": "64Mi"}'
	n=$(registrations)
	pid=$(cat "$CTD/nri.pid")
	kill -KILL "$pid"
	wait_for '! kill -0 '"$pid"' 2>/dev/null' 60

	run cri_ pod "$(pod dead "$ann")" "$(ctr_cfg c)"
	echo "$output"
	[ "$status" -eq 0 ]
	bare "$(ctr_id c)"
	[ -z "$(status_of "$(ctr_id c)")" ]

	# A pod starts while the plugin starts and registers.
	cri_alone pod "$(pod race "$ann")" "$(ctr_cfg c)" >"$CTD/race.out" 2>&1 3>&- &
	racer=$!
	start_plugin
	wait "$racer" || { cat "$CTD/race.out"; false; }
	output=$(cat "$CTD/race.out")
	consistent "$(ctr_id c)"

	wait_registered $((n + 1))
	run cri_ pod "$(pod back "$ann")" "$(ctr_cfg c)"
	echo "$output"
	[ "$status" -eq 0 ]
	back=$(ctr_id c)
	hooked "$back"
	status_is "$back" ".policy.commit_limit_bytes == $((64 * MIB))"

	# A pod on its way in as containerd stops: it may fail, or start whole.
	cri_alone pod "$(pod during "$ann")" "$(ctr_cfg c)" >"$CTD/during.out" 2>&1 3>&- &
	racer=$!
	stop_containerd
	wait "$racer" || cat "$CTD/during.out"
	start_containerd
	wait_registered $((n + 2))
	status_is "$back" ".policy.commit_limit_bytes == $((64 * MIB))"

	run cri_ pod "$(pod after "$ann")" "$(ctr_cfg c)"
	echo "$output"
	[ "$status" -eq 0 ]
	hooked "$(ctr_id c)"
	status_is "$(ctr_id c)" ".policy.commit_limit_bytes == $((64 * MIB))"
	# Every running container; one whose start the restart cut off has no task.
	for id in $(cri_ ps | jq -r '.containers[]? | select(.state == "CONTAINER_RUNNING") | .id'); do
		consistent "$id"
	done

	cri_ rmp --all
	assert_no_memgate
}
