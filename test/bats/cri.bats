#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Kubernetes through containerd's CRI, as a kubelet drives it: Debian's
# containerd 1.6 configured as the README tells an admin
# (deploy/kubernetes/containerd-config.toml: pod_annotations and
# container_annotations = ["memgate.io/*"], memgate's hooks in
# base_runtime_spec, made from `ctr oci spec` and
# deploy/kubernetes/containerd-hooks.json), and test/cri/cri calling
# RunPodSandbox, CreateContainer, StartContainer, ExecSync, StopPodSandbox
# and RemovePodSandbox over the CRI socket.  The images are test/cri's OCI
# archives, imported: nothing is pulled.  Pods share the host's network (no
# CNI).  One containerd and one client (test/cri/client.bash) for the whole
# suite: under TCG each start costs seconds.
# With MEMGATE_CRI_SOCKET, the suite uses the containerd already answering
# there, wired by someone else (test/bats/installer.bats: the installer
# image), and only imports its images; MEMGATE_CRI_LOG is that containerd's log.

load helpers
load ../cri/client

CTD=/tmp/cri-containerd
SOCK=${MEMGATE_CRI_SOCKET:-$CTD/containerd.sock}
CTD_LOG=${MEMGATE_CRI_LOG:-$CTD/containerd.log}
CRI=/memgate/build/test/cri
MIB=1048576
UID0=0c7d1f5e-6a2b-4c3d-8e9f-a0b1c2d3e4f5

setup_file() {
	require_vm
	if [ -n "${MEMGATE_CRI_SOCKET:-}" ]; then
		cri_serve "$SOCK"
		import_images
		return
	fi
	mkdir -p "$CTD" /etc/containerd
	# containerd copies them into host-network pods.
	[ -e /etc/hosts ] || echo '127.0.0.1 localhost' >/etc/hosts
	[ -e /etc/resolv.conf ] || : >/etc/resolv.conf
	# The README's base spec: containerd's default plus memgate's hooks.
	ctr oci spec | jq --slurpfile h /memgate/deploy/kubernetes/containerd-hooks.json '.hooks = $h[0]' \
		>/etc/containerd/memgate-base-spec.json
	# State on the guest's tmpfs, the native snapshotter (no overlay module
	# in the guest), no AppArmor profile to load; then the admin's runc
	# runtime section exactly as deploy/ ships it.
	{
		cri_node_toml "$CTD" "$SOCK"
		sed '/^version = /d' /memgate/deploy/kubernetes/containerd-config.toml
	} >"$CTD/config.toml"
	# fd 3 closed: bats waits for every holder of it.
	containerd --config "$CTD/config.toml" </dev/null >"$CTD/containerd.log" 2>&1 3>&- &
	echo $! >"$CTD/pid"
	# The client loads while containerd starts; it connects at its first call.
	cri_serve "$SOCK"
	until ctr --address "$SOCK" version >/dev/null 2>&1; do
		kill -0 "$(cat "$CTD/pid")" 2>/dev/null || { cat "$CTD_LOG" >&2; return 1; }
		sleep 0.2
	done
	import_images
}

import_images() {
	ctr --address "$SOCK" -n k8s.io images import --snapshotter native "$CRI/pause.tar" >/dev/null
	ctr --address "$SOCK" -n k8s.io images import --snapshotter native "$CRI/workload.tar" >/dev/null
}

teardown_file() {
	local pid
	cri_stop
	[ -z "${MEMGATE_CRI_SOCKET:-}" ] || return 0
	pid=$(cat "$CTD/pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

setup() {
	require_vm
}

teardown() {
	# A test that failed half-way leaves no pod to the next one.
	cri_ rmp --all || { tail -n 30 "$CTD_LOG"; return 1; }
	cleanup_containers
}

# ctr_cfg NAME [MEMORY_LIMIT_BYTES [ANNOTATIONS_JSON]]: a container of the
# workload image running /pause.
ctr_cfg() {
	local ann=${3:-'{}'}
	jq -c -n --arg name "$1" --argjson mem "${2:-0}" --argjson ann "$ann" '{
		metadata: {name: $name},
		image: {image: "localhost/memgate/workload:1"},
		command: ["/pause"],
		annotations: $ann,
		linux: {resources: {memory_limit_in_bytes: $mem}}}'
}

# The ids `cri pod` printed: {"pod": ID, "containers": {NAME: ID}}.
pod_ids() {
	grep '^{"pod"' <<<"$output"
}

# status_is_k8s CONTAINER_ID POD NAME FILTER: status lists the container
# once, named by its Kubernetes pod and container name, and FILTER holds.
status_is_k8s() {
	status_is "$1" ".kubernetes == {namespace: \"default\", pod: \"$2\", container: \"$3\"} and ($4)"
}

@test "CRI pod: pod-wide 16Mi and a 32Mi override each hold their container; pod-wide 80% applies only where there is a memory limit; the sandbox carries nothing; status names them; an unannotated pod carries nothing; removing the pods leaves nothing" {
	# Small limits: every page alloc touches costs under TCG.
	web=$(pod web '{"memgate.io/commit-limit": "16Mi", "memgate.io/commit-limit.big": "32Mi",
		"memgate.io/pressure-gate": "80%", "kubernetes.io/config.source": "api"}')
	run cri_ pod "$web" "$(ctr_cfg small $((256 * MIB)))" "$(ctr_cfg big)"
	echo "$output"
	[ "$status" -eq 0 ]
	ids=$(pod_ids)
	sandbox=$(jq -r .pod <<<"$ids")
	small=$(jq -r .containers.small <<<"$ids")
	big=$(jq -r .containers.big <<<"$ids")
	cg=/sys/fs/cgroup/kubepods/pod$UID0-web

	# Two policies, the two containers', by containerd id and Kubernetes name.
	[ "$(map_count policies)" -eq 2 ]
	status_is_k8s "$small" web small ".cgroup_id == $(stat -c %i "$cg/$small")
		and .policy.commit_limit_bytes == $((16 * MIB))
		and .policy.pressure_gate_bytes == $((256 * MIB * 80 / 100))"
	status_is_k8s "$big" web big ".cgroup_id == $(stat -c %i "$cg/$big")
		and .policy.commit_limit_bytes == $((32 * MIB))
		and .policy.pressure_gate_bytes == 0"
	[ -z "$(policy_of_cgroup "$(stat -c %i "$cg/$sandbox")")" ]
	memgate status | grep -F "  kubernetes: container small of pod default/web, id $small"

	# A pod with no memgate.io/ annotation in the same node: the hook ran
	# for it (the base spec has it), and it carries nothing.
	run cri_ pod "$(pod plain '{}')" "$(ctr_cfg lone)"
	echo "$output"
	[ "$status" -eq 0 ]
	lone=$(jq -r .containers.lone <<<"$(pod_ids)")
	cri_ inspect -v "$lone" | jq -e '.info.info | fromjson | .runtimeSpec.hooks.createRuntime[0].args
		== ["memgate-hook", "createRuntime"]'
	[ "$(map_count policies)" -eq 2 ]
	memgate status --json | jq -e --arg s "$small" --arg b "$big" '[.containers[].id] | sort == ([$s, $b] | sort)'

	# Each container is held to its own limit, through ExecSync as kubectl exec.
	run cri_ exec "$small" -- /alloc steps 1
	echo "$output"
	got=$(got_mib "$output")
	[ "$got" -ge 8 ] && [ "$got" -le 16 ]
	run cri_ exec "$big" -- /alloc steps 1
	echo "$output"
	got=$(got_mib "$output")
	[ "$got" -ge 24 ] && [ "$got" -le 32 ]
	status_is "$big" '.decisions.commits_denied >= 1 and .last_denial.comm == "alloc"'

	# The pod goes as a kubelet removes it: no policy, no pin, no program.
	cri_ stopp "$sandbox"
	cri_ rmp "$sandbox"
	assert_no_memgate
	[ -z "$(ls /run/memgate/kube)" ]
	[ "$(cri_ ps | jq '[.containers[]? | select(.pod_sandbox_id == "'"$sandbox"'")] | length')" -eq 0 ]
}

@test "CRI: a bad annotation fails StartContainer with memgate's line in the CRI error, a per-container percentage without a memory limit too; nothing is left" {
	bad=$(pod bad '{"memgate.io/pressure-gate.nolimit": "50%"}')
	run cri_ pod "$bad" "$(ctr_cfg nolimit)"
	echo "$output"
	[ "$status" -ne 0 ]
	output=${output//\\\"/\"} # runc logs in logfmt: \" for "
	[[ "$output" == *'StartContainer'*'memgate-hook: annotation memgate.io/pressure-gate.nolimit="50%": a percentage needs a container memory limit'* ]]
	sandbox=$(jq -r .pod <<<"$(pod_ids)")
	# A container annotation, as container_annotations lets it through.
	hint=$(cri_ create "$sandbox" "$(ctr_cfg hint $((64 * MIB)) '{"memgate.io/commit-limit": "512m"}')" "$bad")
	run cri_ start "$hint"
	echo "$output"
	[ "$status" -ne 0 ]
	output=${output//\\\"/\"}
	[[ "$output" == *'memgate-hook: annotation memgate.io/commit-limit="512m"'*'did you mean "512Mi"?'* ]]
	assert_no_memgate
	cri_ stopp "$sandbox"
	cri_ rmp "$sandbox"
	assert_no_memgate
}
