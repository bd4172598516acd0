#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The installer image on a node, run as deploy/kubernetes/daemonset.yaml and
# uninstall.yaml run it: the VM is the node (containerd 1.6 running, podman
# playing the kubelet), and podman runs each container with the DaemonSet's
# command, env, privileges and mounts (test/host/installer.bats built the
# image and turned the manifests into podman arguments, in
# $BUILD/test/installer; make check runs the host suites first).  The node
# starts clean: test/vm/mkroot's memgate files are removed.  Then:
# a node whose memgate can not start gets nothing; an install wires
# containerd 1.6 (restarted, as asked) with no hand step, and cri.bats, run
# against that containerd, passes; uninstall leaves the node as it was; with
# an NRI socket on the node, install leaves containerd and hooks.d alone and
# the DaemonSet's nri container runs the node's memgate-nri on that socket
# (nri.bats tests memgate-nri itself with containerd 2).

load helpers
load ../cri/client

IMG=/memgate/build/test/installer
NODE=/tmp/node
SOCK=/run/containerd/containerd.sock
FILES="/usr/bin/memgate /usr/bin/memgate-nri /usr/libexec/oci/hooks.d/memgate-hook
/usr/share/containers/oci/hooks.d/memgate.json /usr/share/memgate/memgate-always.json
/etc/memgate/memgate.json /etc/containerd/memgate-base-spec.json /var/lib/memgate-install"

# The node's containerd under a supervisor (the node's init): started again
# when $NODE/restart appears, which the installer's restart command makes.
supervise() {
	local pid
	while [ ! -e "$NODE/stop" ]; do
		containerd --config /etc/containerd/config.toml </dev/null >>"$NODE/containerd.log" 2>&1 &
		pid=$!
		echo "$pid" >"$NODE/pid"
		while [ ! -e "$NODE/restart" ] && [ ! -e "$NODE/stop" ] && kill -0 "$pid" 2>/dev/null; do
			sleep 0.2
		done
		rm -f "$NODE/restart"
		kill "$pid" 2>/dev/null
		wait "$pid"
	done
}

# containerd_up [NOT_PID]: containerd answers, with a pid other than NOT_PID.
containerd_up() {
	local deadline=$((SECONDS + 240)) pid
	while :; do
		pid=$(cat "$NODE/pid" 2>/dev/null) || pid=
		if [ -n "$pid" ] && [ "$pid" != "${1:-}" ] && ctr --address "$SOCK" version >/dev/null 2>&1; then
			return 0
		fi
		((SECONDS < deadline)) || { echo "containerd did not answer in 240 s"; tail -n 30 "$NODE/containerd.log"; return 1; }
		sleep 0.5
	done
}

# pod_args WHICH CONTAINER: one container of the DaemonSet (daemonset.json)
# or of uninstall.json as podman runs it: $args, $image, $cmd.
pod_args() {
	local spec=$IMG/$1.json
	mapfile -t args < <(jq -r --arg c "$2" --arg cm "$NODE/configmap" \
		'.[$c].args[] | sub("^@configmap/memgate-config"; $cm)' "$spec")
	mapfile -t cmd < <(jq -r --arg c "$2" '.[$c].command[]' "$spec")
	image=$(jq -r --arg c "$2" '.[$c].image' "$spec")
}

# pod_run WHICH CONTAINER [MORE PODMAN ARGS]: run it to its end, as the
# kubelet runs an init container; its log in $output.
pod_run() {
	pod_args "$1" "$2"
	shift 2
	run podman run --rm "${args[@]}" "$@" "$image" "${cmd[@]}"
	echo "$output"
}

# Nothing of memgate's on the node; containerd's config as it was.
node_clean() {
	local f
	for f in $FILES; do
		[ ! -e "$f" ] || { echo "$f is on the node"; return 1; }
	done
	! compgen -G '/run/memgate-install.*' || { echo "staging left: $(echo /run/memgate-install.*)"; return 1; }
	cmp /etc/containerd/config.toml "$NODE/config.toml.orig"
}

setup_file() {
	require_vm
	for f in image.tar daemonset.json uninstall.json; do
		[ -s "$IMG/$f" ] || {
			echo "no $IMG/$f: test/host/installer.bats makes it on the host (make check runs it before the VM suites)" >&2
			return 1
		}
	done
	mkdir -p "$NODE/configmap" /etc/containerd
	# The ConfigMap memgate-config: TCG's lock timeout (test/vm/mkroot's).
	cp /etc/memgate/memgate.json "$NODE/configmap/memgate.json"
	# A clean node: what test/vm/mkroot installed goes.
	rm -rf /usr/bin/memgate /usr/bin/memgate-nri /usr/libexec/oci/hooks.d/memgate-hook \
		/usr/share/containers/oci/hooks.d/memgate.json /usr/share/memgate /etc/memgate \
		/etc/containerd/memgate-base-spec.json
	[ -e /etc/hosts ] || echo '127.0.0.1 localhost' >/etc/hosts
	[ -e /etc/resolv.conf ] || : >/etc/resolv.conf
	# The node's own containerd configuration, nothing of memgate's: state
	# on tmpfs, the native snapshotter, the local pause image, no AppArmor.
	cri_node_toml "$NODE/containerd" "$SOCK" >/etc/containerd/config.toml
	cp /etc/containerd/config.toml "$NODE/config.toml.orig"
	supervise 3>&- &
	containerd_up
	# Named as the DaemonSets name it, as a node that pulled it would have it.
	loaded=$(podman load -i "$IMG/image.tar" | sed -n 's/^Loaded image[^:]*: //p' | head -n 1)
	[ -n "$loaded" ] || { echo "podman load of $IMG/image.tar named no image" >&2; return 1; }
	podman tag "$loaded" "$(jq -r .install.image "$IMG/daemonset.json")"
}

teardown_file() {
	touch "$NODE/stop"
	local pid
	pid=$(cat "$NODE/pid" 2>/dev/null) || return 0
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

setup() {
	require_vm
}

@test "installer: on a node where memgate can not start (libbpf unreadable) it installs nothing and says why" {
	# test/vm/mkroot copies the library to the path the binaries ask for.
	lib=/usr/lib/x86_64-linux-gnu/libbpf.so.1
	[ -f "$lib" ]
	mount --bind /dev/null "$lib"
	pod_run daemonset install
	umount "$lib"
	[ "$status" -ne 0 ]
	[[ "$output" == *"memgate-install: this node can not run memgate: 'memgate probe' failed (above); nothing installed"* ]]
	[[ "$output" == *libbpf* ]]
	node_clean
}

@test "installer: install wires containerd 1.6 (restarted as asked) and the ConfigMap; cri.bats passes on that containerd with no hand step; uninstall leaves the node as it was" {
	old=$(cat "$NODE/pid")
	pod_run daemonset install -e MEMGATE_RESTART_CONTAINERD=yes -e "MEMGATE_RESTART_COMMAND=touch $NODE/restart"
	[ "$status" -eq 0 ]
	[[ "$output" == *"memgate-install: memgate probe: commit-limit yes"* ]]
	[[ "$output" == *"memgate-install: containerd 1.6."*", no NRI: base_runtime_spec"* ]]
	[[ "$output" == *"memgate-install: done"* ]]
	for f in $FILES; do
		[ -e "$f" ] || { echo "$f is missing"; false; }
	done
	cmp /etc/memgate/memgate.json "$NODE/configmap/memgate.json"
	grep -qxF '  base_runtime_spec = "/etc/containerd/memgate-base-spec.json"' /etc/containerd/config.toml
	# The base spec: the node's default spec, and memgate's two hooks.
	jq -e --argjson d "$(ctr oci spec)" 'del(.hooks) == $d and .hooks == {
		createRuntime: [{path: "/usr/libexec/oci/hooks.d/memgate-hook", args: ["memgate-hook", "createRuntime"]}],
		poststop: [{path: "/usr/libexec/oci/hooks.d/memgate-hook", args: ["memgate-hook", "poststop"]}]}' \
		/etc/containerd/memgate-base-spec.json
	containerd_up "$old"

	# Installing again changes nothing.
	cp /etc/containerd/config.toml "$NODE/config.toml.installed"
	pod_run daemonset install
	[ "$status" -eq 0 ]
	cmp /etc/containerd/config.toml "$NODE/config.toml.installed"

	# The node's CRI, as a kubelet drives it: the whole of cri.bats.
	run env MEMGATE_CRI_SOCKET="$SOCK" MEMGATE_CRI_LOG="$NODE/containerd.log" \
		bats --tap /memgate/test/bats/cri.bats 3>&-
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^ok 2 ' <<<"$output"

	old=$(cat "$NODE/pid")
	pod_run uninstall uninstall -e MEMGATE_RESTART_CONTAINERD=yes -e "MEMGATE_RESTART_COMMAND=touch $NODE/restart"
	[ "$status" -eq 0 ]
	[[ "$output" == *"memgate-install: uninstalled"* ]]
	node_clean
	containerd_up "$old"
	assert_no_memgate
}

@test "installer: with an NRI socket on the node it installs memgate-nri and touches neither containerd's configuration nor hooks.d; the nri container runs the node's memgate-nri on that socket; uninstall leaves the node as it was" {
	# A socket no runtime listens on: the installer looks for the file only.
	mkdir -p /var/run/nri
	python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("/var/run/nri/nri.sock")'
	[ -S /var/run/nri/nri.sock ]
	pod_run daemonset install
	[ "$status" -eq 0 ]
	[[ "$output" == *"memgate-install: NRI socket /var/run/nri/nri.sock: memgate-nri wires the hook"* ]]
	[[ "$output" != *containerd:* ]]
	[ -x /usr/bin/memgate-nri ] && [ -x /usr/libexec/oci/hooks.d/memgate-hook ]
	[ ! -e /usr/share/containers/oci/hooks.d/memgate.json ]
	[ ! -e /etc/containerd/memgate-base-spec.json ]
	cmp /etc/containerd/config.toml "$NODE/config.toml.orig"

	# The main container, as the DaemonSet runs it: memgate-nri from the
	# node, its --hook found there, trying the socket.
	pod_args daemonset nri
	podman run -d --name memgate-nri "${args[@]}" "$image" "${cmd[@]}" >/dev/null
	deadline=$((SECONDS + 180))
	until podman logs memgate-nri 2>&1 | grep -q '^memgate-nri: /var/run/nri/nri.sock: .*; retrying every second$'; do
		((SECONDS < deadline)) || { podman logs memgate-nri; false; }
		sleep 1
	done
	podman logs memgate-nri 2>&1 | grep -qxF 'memgate-install: running memgate-nri on /var/run/nri/nri.sock'
	podman rm -f -t 0 memgate-nri >/dev/null

	pod_run uninstall uninstall
	[ "$status" -eq 0 ]
	rm -f /var/run/nri/nri.sock
	node_clean
}
