#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The installer image builds from a clean checkout with Debian's packages
# only: deploy/kubernetes/Dockerfile on a bookworm base made by
# scripts/mkbase (mmdebstrap; no registry), with podman (chroot isolation,
# the host's network for apt, no container run on the host).  The image is
# saved as an OCI archive into $BUILD/test/installer/, where
# test/bats/installer.bats (in the VM) runs it as the DaemonSet does.
# Kept in CACHE between runs: the base, the deps stage (apt install of what
# make needs; in CACHE/podman), the Go toolchain nri/build fetches and Go's
# build cache (the build's /var/cache/memgate is CACHE), so a run rebuilds
# only memgate.

load helpers

CACHE=${MEMGATE_VM_CACHE:-/var/cache/memgate}
OUT=$BUILD/test/installer

podman_() {
	podman --root "$CACHE/podman/storage" --runroot /run/memgate-podman --storage-driver overlay \
		--cgroup-manager cgroupfs --events-backend none "$@"
}

@test "the installer image builds from a clean checkout on a Debian-made base, and holds the installer and make install's files" {
	base=$("$TOP/scripts/mkbase" "$CACHE")
	tag=localhost/memgate/bookworm-base:$(basename "$base" .tar | sed 's/.*_//')
	podman_ image exists "$tag" || podman_ import "$base" "$tag" >/dev/null
	# The clean checkout: the files git tracks (or would), nothing of build/.
	ctx=$BATS_TEST_TMPDIR/ctx
	mkdir "$ctx"
	git -C "$TOP" ls-files -z --cached --others --exclude-standard |
		(cd "$TOP" && xargs -0 tar -c -f - --no-recursion) | tar -C "$ctx" -x -f -
	[ ! -e "$ctx/build" ]
	# Go's build cache starts as the host build's: the same toolchain and
	# -trimpath (no directory in its keys), so only memgate-nri is linked anew.
	if [ ! -d "$CACHE/go-build" ] && [ -d "$BUILD/memgate-nri.cache" ]; then
		rm -rf "$CACHE/go-build.tmp"
		cp -a "$BUILD/memgate-nri.cache" "$CACHE/go-build.tmp"
		mv "$CACHE/go-build.tmp" "$CACHE/go-build"
	fi
	build() {
		podman_ build --isolation chroot --network host --layers --build-arg "BASE=$tag" \
			-v "$CACHE:/var/cache/memgate" --build-arg MEMGATE_GOCACHE=/var/cache/memgate/go-build \
			-f "$ctx/deploy/kubernetes/Dockerfile" "$@" "$ctx" >>"$BATS_TEST_TMPDIR/build.log" 2>&1 || {
			tail -n 40 "$BATS_TEST_TMPDIR/build.log"
			return 1
		}
	}
	# The deps stage tagged: the prune below keeps it and its layers.
	build --target deps -t localhost/memgate/installer-deps:latest
	build -t localhost/memgate/installer:check
	rm -rf "$OUT"
	mkdir -p "$OUT"
	podman_ save --format oci-archive -o "$OUT/image.tar" localhost/memgate/installer:check
	podman_ image prune -f >/dev/null
	# What the DaemonSet runs, and the payload make install lays out.
	podman_ image inspect localhost/memgate/installer:check |
		jq -e '.[0].Config.Cmd == ["/bin/memgate-install", "install"]'
	tar -t -f "$OUT/image.tar" >/dev/null
	mnt=$(podman_ image mount localhost/memgate/installer:check)
	for f in bin/memgate-install bin/busybox bin/sh bin/chroot install/usr/bin/memgate install/usr/bin/memgate-nri \
		install/usr/libexec/oci/hooks.d/memgate-hook install/usr/share/containers/oci/hooks.d/memgate.json \
		install/usr/share/memgate/memgate-always.json; do
		[ -e "$mnt/$f" ] || { echo "the image lacks /$f"; podman_ image unmount localhost/memgate/installer:check; false; }
	done
	grep -q '"path": "/usr/libexec/oci/hooks.d/memgate-hook"' "$mnt/install/usr/share/containers/oci/hooks.d/memgate.json"
	podman_ image unmount localhost/memgate/installer:check >/dev/null
}

# podman run arguments for each container of a DaemonSet: its command, env,
# privileges and mounts (hostPath as is, a ConfigMap as @configmap/NAME for
# the caller to replace), as JSON {NAME: {image, args, command}}.
render() {
	/usr/bin/python3 - "$1" <<-'PYEOF'
	import json, sys, yaml
	ds = yaml.safe_load(open(sys.argv[1]))
	assert ds["kind"] == "DaemonSet", ds["kind"]
	pod = ds["spec"]["template"]["spec"]
	vols = {v["name"]: v for v in pod["volumes"]}
	out = {}
	for c in pod.get("initContainers", []) + pod["containers"]:
	    a = ["--network", "host" if pod.get("hostNetwork") else "none"]
	    if pod.get("hostPID"):
	        a += ["--pid", "host"]
	    # containerd and CRI-O give a privileged container the node's cgroup
	    # namespace; podman would give it one of its own.
	    if c.get("securityContext", {}).get("privileged"):
	        a += ["--privileged", "--cgroupns", "host"]
	    for m in c.get("volumeMounts", []):
	        v = vols[m["name"]]
	        src = v["hostPath"]["path"] if "hostPath" in v else "@configmap/" + v["configMap"]["name"]
	        a += ["-v", src + ":" + m["mountPath"] + (":ro" if m.get("readOnly") else "")]
	    for e in c.get("env", []):
	        a += ["-e", e["name"] + "=" + e["value"]]
	    out[c["name"]] = {"image": c["image"], "args": a, "command": c["command"] + c.get("args", [])}
	print(json.dumps(out))
	PYEOF
}

@test "the DaemonSets' containers as podman runs them in test/bats/installer.bats: install and nri, then uninstall, each mounting the node's root; install in a PID namespace of its own (no hostPID)" {
	mkdir -p "$OUT"
	render "$TOP/deploy/kubernetes/daemonset.yaml" >"$OUT/daemonset.json"
	render "$TOP/deploy/kubernetes/uninstall.yaml" >"$OUT/uninstall.json"
	cat "$OUT/daemonset.json" "$OUT/uninstall.json"
	jq -e '.install.command == ["/bin/memgate-install", "install"] and (.install.args | index("--privileged"))
		and (.install.args | index("/:/host")) and (.install.args | index("--pid") | not)
		and .nri.command == ["/bin/memgate-install", "nri"]' "$OUT/daemonset.json"
	jq -e '.uninstall.command == ["/bin/memgate-install", "uninstall"] and (.uninstall.args | index("/:/host"))' "$OUT/uninstall.json"
}
