#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# deploy/kubernetes: the manifests parse, and the installer puts files where
# `make install PREFIX=/usr` does.

load helpers

bats_require_minimum_version 1.5.0

DEPLOY=$TOP/deploy/kubernetes

# A python3 with PyYAML (Debian's python3-yaml, from scripts/deps).
python_yaml() {
	local py
	for py in /usr/bin/python3 python3; do
		if "$py" -c 'import yaml' 2>/dev/null; then
			echo "$py"
			return 0
		fi
	done
	echo "no python3 with PyYAML: install python3-yaml (make deps)" >&2
	return 1
}

setup() {
	PY=$(python_yaml)
}

@test "every manifest in deploy/kubernetes parses as YAML" {
	local f n=0
	for f in "$DEPLOY"/*.yaml; do
		"$PY" -c 'import sys, yaml; docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]; assert docs and all("kind" in d for d in docs), sys.argv[1]' "$f"
		n=$((n + 1))
	done
	[ "$n" -ge 2 ]
}

@test "the installer puts on the node every file make install puts under /usr but the man pages and the preload unit, from the image's payload, through the DaemonSet's mount of the node's root" {
	local dest=$BATS_TEST_TMPDIR/dest
	make -s -C "$TOP" BUILD="$BUILD" install DESTDIR="$dest" PREFIX=/usr >/dev/null
	# put "$payload<PATH>" <PATH> MODE: the payload's file to the same node path.
	sed -n 's|^\t*put "$payload\([^"]*\)" \([^ ]*\) 0[0-7]*$|\1 \2|p' "$DEPLOY/memgate-install" |
		sed 's|$hook|/usr/libexec/oci/hooks.d/memgate-hook|g' >"$BATS_TEST_TMPDIR/puts"
	cat "$BATS_TEST_TMPDIR/puts"
	awk '$1 != $2 { print "payload " $1 " goes to " $2; bad = 1 } END { exit bad }' "$BATS_TEST_TMPDIR/puts"
	# The preload unit is the admin's boot-time choice on a node, not the installer's.
	(cd "$dest" && find . -type f ! -path './usr/share/man/*' ! -path './usr/lib/systemd/*' | sed 's|^\.||' | sort) >"$BATS_TEST_TMPDIR/installed"
	cut -d' ' -f2 "$BATS_TEST_TMPDIR/puts" | sort | diff -u "$BATS_TEST_TMPDIR/installed" -
	# The hooks.d file it installs names the hook it installs.
	grep -q '"path": "/usr/libexec/oci/hooks.d/memgate-hook"' "$dest/usr/share/containers/oci/hooks.d/memgate.json"
	# Both DaemonSets mount the node's root at /host for memgate-install.
	"$PY" - "$DEPLOY/daemonset.yaml" "$DEPLOY/uninstall.yaml" <<-'PYEOF'
	import sys, yaml
	for f in sys.argv[1:]:
	    pod = yaml.safe_load(open(f))["spec"]["template"]["spec"]
	    host = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
	    c = pod["initContainers"][0]
	    assert c["command"][0] == "/bin/memgate-install", c["command"]
	    assert any(m["mountPath"] == "/host" and host.get(m["name"]) == "/" for m in c["volumeMounts"]), f
	PYEOF
}

@test "the containerd hooks name the installed hook, and the pod example uses a per-container override" {
	jq -e '[.createRuntime[], .poststop[]] | all(.path == "/usr/libexec/oci/hooks.d/memgate-hook")' "$DEPLOY/containerd-hooks.json"
	grep -q 'pod_annotations = \["memgate.io/\*"\]' "$DEPLOY/containerd-config.toml"
	grep -q 'base_runtime_spec = "/etc/containerd/memgate-base-spec.json"' "$DEPLOY/containerd-config.toml"
	"$PY" - "$DEPLOY/pod.yaml" "$MEMGATE" <<-'PYEOF'
	import subprocess, sys, yaml
	pod = yaml.safe_load(open(sys.argv[1]))
	ann = pod["metadata"]["annotations"]
	names = [c["name"] for c in pod["spec"]["containers"]]
	over = [k for k in ann if k.startswith("memgate.io/") and k.split("/", 1)[1].count(".") == 1]
	assert over and all(k.rsplit(".", 1)[1] in names for k in over), over
	# Each container's annotations as CRI-O gives them, through memgate validate.
	for c in pod["spec"]["containers"]:
	    args = ["%s=%s" % kv for kv in ann.items()] + ["io.kubernetes.container.name=" + c["name"]]
	    out = subprocess.run([sys.argv[2], "validate", "--memory-max", c["resources"]["limits"]["memory"]] + args,
	                 capture_output=True, text=True, env={"MEMGATE_CONFIG": "/nonexistent"})
	    print(c["name"], out.stdout, out.stderr)
	    assert out.returncode == 0 and out.stdout.startswith("valid: "), out
	PYEOF
}
