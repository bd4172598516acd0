#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Kubernetes through CRI-O: every pod annotation lands in every container's
# config.json, the pod sandbox included.  memgate.io/<knob>.<container-name>
# overrides memgate.io/<knob> for that container; the sandbox gets no policy.
# runc passes config.json's annotations in the state it gives the hook.

load helpers

setup() {
	require_vm
}

teardown() {
	cleanup_containers
}

# The pod's annotations, as the pod spec sets them.
POD_ANNOTATIONS='{
	"memgate.io/commit-limit": "128Mi",
	"memgate.io/commit-limit.app": "256Mi",
	"kubernetes.io/config.seen": "2024-05-01T10:00:00.000000000Z",
	"kubernetes.io/config.source": "api"
}'

# crio_annotations TYPE CONTAINER_NAME [POD_ANNOTATIONS_JSON]: config.json
# annotations shaped as CRI-O writes them for a container of pod "web".
crio_annotations() {
	local type=$1 cname=$2 pod=${3:-$POD_ANNOTATIONS}
	jq -c -n --arg type "$type" --arg cname "$cname" --argjson pod "$pod" '$pod + {
		"io.kubernetes.cri-o.ContainerType": $type,
		"io.kubernetes.container.name": $cname,
		"io.kubernetes.cri-o.ContainerName": ("k8s_" + $cname + "_web_default_6f1c0a8e-1d1b-4c55-9c6e-3b0b4e0a6a11_0"),
		"io.kubernetes.cri-o.SandboxID": "0b7e2f4c9d8a1e3f5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a",
		"io.kubernetes.cri-o.SandboxName": "k8s_web_default_6f1c0a8e-1d1b-4c55-9c6e-3b0b4e0a6a11_0",
		"io.kubernetes.pod.name": "web",
		"io.kubernetes.pod.namespace": "default",
		"io.kubernetes.pod.uid": "6f1c0a8e-1d1b-4c55-9c6e-3b0b4e0a6a11",
		"io.kubernetes.cri-o.Annotations": ($pod | tojson),
		"io.kubernetes.cri-o.Labels": ({"io.kubernetes.container.name": $cname, "io.kubernetes.pod.name": "web"} | tojson),
		"io.kubernetes.container.hash": "5d2ab3f1",
		"io.kubernetes.container.restartCount": "0",
		"io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
		"io.kubernetes.container.terminationMessagePolicy": "File"
	}'
}

@test "the container named in commit-limit.app gets 256Mi, the pod's sidecar gets the pod-wide 128Mi" {
	make_bundle app "$(crio_annotations container app)" 0 -- /bin/sleep 600
	make_bundle sidecar "$(crio_annotations container sidecar)" 0 -- /bin/sleep 600
	start_ctr app &
	app_pid=$!
	start_ctr sidecar &
	wait $!
	wait "$app_pid"
	app_id=$(cgroup_id app)
	sidecar_id=$(cgroup_id sidecar)
	status_is app ".cgroup_id == $app_id and .policy.commit_limit_bytes == 268435456"
	status_is sidecar ".cgroup_id == $sidecar_id and .policy.commit_limit_bytes == 134217728"
	policy_is "$app_id" '.commit_limit == 268435456'
	policy_is "$sidecar_id" '.commit_limit == 134217728'
	[ "$(map_count policies)" -eq 2 ]
	runc delete -f sidecar
	status_is app '.policy.commit_limit_bytes == 268435456'
	runc delete -f app
	assert_no_memgate
}

@test "the pod sandbox gets no policy: memgate loads nothing for it, and leaves it out when the pod's container comes" {
	make_bundle sandbox "$(crio_annotations sandbox POD)" 0 -- /bin/sleep 600
	make_bundle app "$(crio_annotations container app)" 0 -- /bin/sleep 600
	start_ctr sandbox
	[ "$(runc state sandbox | jq -r .status)" = running ]
	assert_no_memgate
	start_ctr app
	[ "$(map_count policies)" -eq 1 ]
	[ -z "$(policy_of_cgroup "$(cgroup_id sandbox)")" ]
	memgate status --json | jq -e '[.containers[] | .id] == ["app"]'
	runc delete -f app
	assert_no_memgate
}

@test "a containerd sandbox (io.kubernetes.cri.container-type) gets no policy" {
	make_bundle cdsandbox '{
		"io.kubernetes.cri.container-type": "sandbox",
		"io.kubernetes.cri.sandbox-name": "web",
		"io.kubernetes.cri.sandbox-namespace": "default",
		"memgate.io/commit-limit": "128Mi"
	}' 0 -- /bin/sleep 600
	start_ctr cdsandbox
	assert_no_memgate
}

@test "an override sets one knob; the others come from the pod-wide annotations" {
	pod='{
		"memgate.io/mode": "audit",
		"memgate.io/commit-limit": "128Mi",
		"memgate.io/commit-limit.app": "256Mi",
		"memgate.io/pressure-gate": "50%",
		"memgate.io/pressure-gate.sidecar": "75%"
	}'
	make_bundle app "$(crio_annotations container app "$pod")" 536870912 -- /bin/sleep 600
	start_ctr app
	status_is app '.mode == "audit"
		and .policy.commit_limit_bytes == 268435456
		and .policy.pressure_gate_bytes == 268435456'
	runc delete -f app
	assert_no_memgate
}

@test "a bad override for another container of the pod still fails the container" {
	pod='{"memgate.io/commit-limit": "128Mi", "memgate.io/commit-limit.sidecar": "512m"}'
	make_bundle app "$(crio_annotations container app "$pod")" 0 -- /bin/sleep 600
	run bash -c "cd '$BUNDLES/app' && runc run -d app </dev/null"
	echo "$output"
	[ "$status" -ne 0 ]
	output=${output//\\\"/\"} # runc logs in logfmt: \" for "
	[[ "$output" == *'memgate-hook: annotation memgate.io/commit-limit.sidecar="512m"'*'did you mean "512Mi"?'* ]]
	[ -z "$(runc list -q)" ]
	[ ! -e "$CGROUP_PARENT/app" ]
	assert_no_memgate
}

@test "a container of the pod with neither its own override nor a pod-wide value gets no policy" {
	pod='{"memgate.io/commit-limit.app": "256Mi"}'
	make_bundle sidecar "$(crio_annotations container sidecar "$pod")" 0 -- /bin/sleep 600
	start_ctr sidecar
	[ "$(runc state sidecar | jq -r .status)" = running ]
	assert_no_memgate
}

@test "memgate status names a Kubernetes container by namespace, pod and container name, the tenant's control characters escaped; its names go with it" {
	make_bundle app "$(crio_annotations container $'ap\x1b[2Jp')" 0 -- /bin/sleep 600
	start_ctr app
	status_is app '.kubernetes == {namespace: "default", pod: "web", container: "ap\u001b[2Jp"}
		and .policy.commit_limit_bytes == 134217728'
	run memgate status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'  kubernetes: container ap\e[2Jp of pod default/web, id app'* ]]
	[[ "$output" != *$'\x1b'* ]]
	[ -n "$(ls /run/memgate/kube)" ]
	runc delete -f app
	assert_no_memgate
	[ -z "$(ls /run/memgate/kube)" ]
}
