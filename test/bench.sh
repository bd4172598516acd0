#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench (in the VM): what memgate costs, measured side by side in one run,
# interleaved A/B, medians of $REPEATS.  Absolute times under TCG mean
# nothing; the ratios are the result.
#
#   allocation  a bystander at cgroup level 4 (memgate loaded for others) and
#               a process under commit-limit + pressure-gate, against the same
#               loop with memgate not loaded: mmap+munmap 64 KiB, fork,
#               malloc-heavy, stress-ng --vm, mmap 1 MiB + touch
#   start       runc run of a trivial container: no hook, cold (the hook
#               loads memgate), warm (memgate already loaded for another)
#   scale       hook start+stop latency and a denial's cost with 1 and with
#               $SCALE containers under policy
#   memory      bpftool's memlock figures for the pinned object
#
# Prints a table and one line "BENCH-JSON {...}" that make bench saves.
set -euo pipefail
source /memgate/test/bats/helpers.bash
require_vm

repeats=${REPEATS:-5}
scale=${SCALE:-1000}
MIB=1048576
CG=/sys/fs/cgroup/bench
declare -A samples

median() {
	sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

now_ns() {
	date +%s%N
}

# add KEY VALUE: one sample of KEY.
add() {
	samples[$1]+="$2 "
}

med() {
	tr ' ' '\n' <<<"${samples[$1]}" | grep . | median
}

# hook STAGE ID CGROUP ANNOTATIONS: run memgate's hook as a runtime would, for
# a "container" whose process sleeps in CGROUP.
hook() {
	local stage=$1 id=$2 cg=$3 annotations=$4 pid=0 status=stopped
	if [ "$stage" = prestart ]; then
		pid=$(head -n 1 "$cg/cgroup.procs")
		status=creating
	fi
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%d,"bundle":"/tmp","annotations":%s}' \
		"$id" "$status" "$pid" "$annotations" | "$HOOK" "$stage"
}

# sleeper CGROUP: a process that waits in CGROUP (created as needed).
sleeper() {
	mkdir -p "$1"
	"$ALLOC" join "$1/cgroup.procs" exec /usr/bin/busybox sleep 3600 &
	for _ in $(seq 100); do grep -q . "$1/cgroup.procs" && return 0; sleep 0.05; done
	echo "bench: no process in $1" >&2
	return 1
}

# in_cgroup CGROUP PROG ARGS...: exec PROG inside CGROUP (governed where a policy is).
in_cgroup() {
	local cg=$1
	shift
	"$ALLOC" join "$cg/cgroup.procs" exec "$@"
}

loop_ns() {
	in_cgroup "$1" "$ALLOC" "$2" "$3" | sed -n 's/^ns_per_round //p'
}

stress_ns() {
	local a b
	a=$(now_ns)
	in_cgroup "$1" /usr/bin/stress-ng --vm 1 --vm-bytes 16m --vm-ops "$2" --quiet >/dev/null
	b=$(now_ns)
	echo $((b - a))
}

# alloc_round VARIANT CGROUP: one sample of every allocation workload.
alloc_round() {
	add "mmap64.$1" "$(loop_ns "$2" mmaploop "${MMAP_ROUNDS:-10000}")"
	add "fork.$1" "$(loop_ns "$2" forkloop "${FORK_ROUNDS:-100}")"
	add "malloc.$1" "$(loop_ns "$2" mallocmix "${MALLOC_ROUNDS:-100000}")"
	add "stressng.$1" "$(stress_ns "$2" "${STRESS_OPS:-20}")"
	add "mmap1m.$1" "$(loop_ns "$2" bench "${ROUNDS:-2000}")"
}

start_ns() {
	local a b
	a=$(now_ns)
	(cd "$BUNDLES/$1" && runc run "$1" </dev/null >/dev/null)
	b=$(now_ns)
	echo $((b - a))
}

memgate_loaded() {
	[ -e /sys/fs/bpf/memgate ]
}

# --- setup ---------------------------------------------------------------
echo "memgate bench on $(uname -r), $repeats repeats" >&2
echo "+memory +pids" >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p "$CG"
echo "+memory +pids" >"$CG/cgroup.subtree_control"
# Level 4, nested as Kubernetes nests pods: /bench/k/a/b.
mkdir -p "$CG/k/a/b"
for d in "$CG/k" "$CG/k/a"; do echo "+memory +pids" >"$d/cgroup.subtree_control"; done
bystander=$CG/k/a/b
sleeper "$CG/holder"
sleeper "$CG/pol"
sleeper "$CG/deny"

make_bundle nohook '{}' 0 -- /bin/true
jq 'del(.hooks)' "$BUNDLES/nohook/config.json" >"$BUNDLES/nohook/c" && mv "$BUNDLES/nohook/c" "$BUNDLES/nohook/config.json"
make_bundle hooked '{"memgate.io/commit-limit": "1Gi"}' 0 -- /bin/true

HOLDER='{"memgate.io/commit-limit": "1Gi"}'
POLICY='{"memgate.io/commit-limit": "4Gi", "memgate.io/pressure-gate": "2Gi"}'

# --- allocation and start, interleaved -----------------------------------
# Attaching or detaching a trampoline patches kernel text, and TCG then
# retranslates the code it runs: a warm-up round after each change is not counted.
for ((i = 0; i < repeats; i++)); do
	! memgate_loaded
	alloc_round warmup "$bystander"
	alloc_round base "$bystander"
	add start.base "$(start_ns nohook)"
	add start.cold "$(start_ns hooked)"
	hook prestart holder "$CG/holder" "$HOLDER"
	hook prestart pol "$CG/pol" "$POLICY"
	alloc_round warmup "$bystander"
	alloc_round bystander "$bystander"
	alloc_round policy "$CG/pol"
	add start.warm "$(start_ns hooked)"
	add start.base "$(start_ns nohook)"
	hook poststop pol "$CG/pol" '{}'
	hook poststop holder "$CG/holder" '{}'
done

# --- memory --------------------------------------------------------------
hook prestart holder "$CG/holder" "$HOLDER"
maps_total=0 per_cgroup=0
for m in /sys/fs/bpf/memgate/maps/*; do
	read -r entries bytes < <(bpftool map show pinned "$m" -j | jq -r '"\(.max_entries) \(.bytes_memlock)"')
	maps_total=$((maps_total + bytes))
	# Maps keyed by container or cgroup are sized for 4096 containers.
	((entries == 4096)) && per_cgroup=$((per_cgroup + bytes))
done
progs_total=$(bpftool prog show -j | jq '[.[] | select((.name // "") | startswith("mg_")) | .bytes_memlock] | add')
per_container=$((per_cgroup / 4096))
fixed=$((maps_total - per_cgroup + progs_total))

# --- scale ---------------------------------------------------------------
scale_round() {
	local a b
	for ((j = 0; j < repeats; j++)); do
		mkdir -p "$CG/probe"
		sleeper "$CG/probe"
		a=$(now_ns)
		hook prestart probe "$CG/probe" "$HOLDER"
		hook poststop probe "$CG/probe" '{}'
		b=$(now_ns)
		add "hook.$1" $((b - a))
		kill "$(cat "$CG/probe/cgroup.procs")"
		while grep -q . "$CG/probe/cgroup.procs"; do sleep 0.05; done
		rmdir "$CG/probe"
		add "deny.$1" "$(loop_ns "$CG/deny" denyloop "${DENY_ROUNDS:-2000}")"
	done
}
# The same $scale cgroups with a process each in both measurements: only
# whether they are under policy differs.
echo "bench: $scale cgroups with a process each" >&2
for ((n = 0; n < scale; n++)); do
	sleeper "$CG/s$n"
done
hook prestart deny "$CG/deny" '{"memgate.io/commit-limit": "16Mi"}'
scale_round 1
echo "bench: putting the $scale under policy" >&2
for ((n = 0; n < scale; n++)); do
	hook prestart "s$n" "$CG/s$n" "$HOLDER"
done
[ "$(memgate status --json | jq '.containers | length')" -ge "$scale" ]
scale_round "$scale"

# --- report --------------------------------------------------------------
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'
}
rows=()
row() { # NAME VALUE BASE TARGET
	local r
	r=$(ratio "$2" "$3")
	rows+=("$(jq -cn --arg n "$1" --argjson v "$2" --argjson b "$3" --argjson r "$r" --argjson t "$4" \
		'{name: $n, value_ns: $v, base_ns: $b, ratio: $r, target: $t, met: ($r <= $t)}')")
	printf '%-40s %14d %14d %8s %8s %s\n' "$1" "$2" "$3" "$r" "$4" "$(awk -v r="$r" -v t="$4" 'BEGIN {print (r <= t) ? "met" : "MISSED"}')"
}
echo
echo "median of $repeats, ns (TCG: compare ratios only)"
printf '%-40s %14s %14s %8s %8s\n' case value baseline ratio target
for w in mmap64 fork malloc stressng mmap1m; do
	b=$(med "$w.base")
	target=1.02
	row "$w bystander (level 4, memgate loaded)" "$(med "$w.bystander")" "$b" "$target"
	[ "$w" = mmap64 ] && target=1.05
	row "$w under policy" "$(med "$w.policy")" "$b" "$target"
done
row "start warm (runc run)" "$(med start.warm)" "$(med start.base)" 1.05
row "start cold (runc run)" "$(med start.cold)" "$(med start.base)" 1.30
row "hook start+stop, $scale containers vs 1" "$(med "hook.$scale")" "$(med hook.1)" 1.10
row "denial, $scale containers vs 1" "$(med "deny.$scale")" "$(med deny.1)" 1.10
echo
echo "memory (bpftool memlock): maps $maps_total B, programs $progs_total B;" \
	"per container $per_container B (maps sized for 4096 containers), fixed $fixed B"

jq -cn --arg kernel "$(uname -r)" --argjson repeats "$repeats" --argjson scale "$scale" \
	--argjson maps "$maps_total" --argjson progs "$progs_total" --argjson per "$per_container" \
	--argjson fixed "$fixed" --slurpfile rows <(printf '%s\n' "${rows[@]}") '
	{kernel: $kernel, repeats: $repeats, scale: $scale, rows: $rows,
	 memory: {maps_bytes: $maps, programs_bytes: $progs, per_container_bytes: $per,
		  fixed_bytes: $fixed, containers_preallocated: 4096}}' | sed 's/^/BENCH-JSON /'
