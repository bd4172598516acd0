#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Kills survived (issue 11): the hook is SIGKILLed at many points of its start
# (prestart/createRuntime) and stop (poststop) paths.  After every kill the
# runtime does what it does with a failed hook (the container's cgroup goes),
# and then a fresh runc container must start under policy and be held to its
# limit; at the end nothing of memgate remains.
#
# The killed hook runs directly, on a crafted OCI state for a cgroup of its
# own with a process in it.  Most kills are placed by strace: it delivers
# SIGKILL on entry to the Nth call of one system call, so the hook dies just
# before that call, at a point chosen from a trace of an unkilled run of the
# same path.  Others come after a measured delay, or while the hook waits for
# memgate's lock.

load helpers

# The killed hooks' containers: commit limit and fork gate (a link per cgroup).
KILLED_ANNOTATIONS='{"memgate.io/commit-limit": "32Mi", "memgate.io/fork-gate": "64Mi"}'
FRESH_LIMIT_KIB=$((40 * 1024))
STEP_KIB=64
KILLS=$BATS_FILE_TMPDIR/kills
LEFTOVERS=$BATS_FILE_TMPDIR/leftovers
POLICY_LEFTOVERS=$BATS_FILE_TMPDIR/policy-leftovers
FINISHED=$BATS_FILE_TMPDIR/finished

setup() {
	require_vm
	mkdir -p "$CGROUP_PARENT"
	echo "+memory +pids" >"$CGROUP_PARENT/cgroup.subtree_control"
	# The verifying container: reports what it got and exits at once.
	mkdir -p /tmp/data
	touch /tmp/data/go
	[ -e "$BUNDLES/fresh/config.json" ] ||
		make_bundle fresh "{\"memgate.io/commit-limit\": \"${FRESH_LIMIT_KIB}Ki\"}" 0 -- /alloc commit "$STEP_KIB" /data/go
	HOLDERS=()
	STATE=unloaded TRACE= BY_ID=
}

teardown() {
	local pid dir
	for pid in "${HOLDERS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	for dir in "$CGROUP_PARENT"/k*; do
		[ ! -d "$dir" ] || rmdir "$dir" 2>/dev/null || true
	done
	cleanup_containers
}

# fake_ctr NAME: cgroup mg/NAME with a process in it, as a runtime leaves a
# container before its start hooks; HOLDER is the process.
fake_ctr() {
	mkdir "$CGROUP_PARENT/$1"
	sleep 600 &
	HOLDER=$!
	HOLDERS+=("$HOLDER")
	echo "$HOLDER" >"$CGROUP_PARENT/$1/cgroup.procs"
}

# fake_gone NAME: what a runtime does when a start hook fails or the
# container stops: its processes are killed and its cgroup removed.
fake_gone() {
	kill "$HOLDER" 2>/dev/null || true
	wait "$HOLDER" 2>/dev/null || true
	rmdir "$CGROUP_PARENT/$1"
}

# state NAME STATUS PID: an OCI state on stdout.
state() {
	printf '{"ociVersion": "1.0.2", "id": "%s", "status": "%s", "pid": %s, "bundle": "/tmp/%s", "annotations": %s}\n' \
		"$1" "$2" "$3" "$1" "$KILLED_ANNOTATIONS"
}

# kill_points TRACE K [CALLS [FROM]]: kill points in an strace TRACE of an
# unkilled run.  The candidates are the calls whose names match the regular
# expression CALLS (by default those that change or look up memgate's state,
# and the libraries' and files' openat) and the run's last call, exit_group;
# with FROM, only those from the first line that matches FROM on.  K of them
# are spread evenly, the last always included; K "all" takes every one.
# Each point is "NAME N": the Nth call of NAME in the run.
kill_points() {
	awk -v k="$2" -v calls="^(${3:-bpf|mkdir|rename|unlink|rmdir|flock|openat|mount|statfs|getdents64}|exit_group)\$" \
		-v from="${4:-}" '
		{
			if (from != "" && !started && $0 ~ from)
				started = 1
			if (!match($0, /^[a-z_0-9]+\(/))
				next
			name = substr($0, 1, RLENGTH - 1)
			seen[name]++
			if ((from == "" || started) && name ~ calls)
				cand[++n] = name " " seen[name]
		}
		END {
			if (k == "all")
				for (i = 1; i <= n; i++) print cand[i]
			else
				for (i = 0; i < k; i++) print cand[1 + int(i * (n - 1) / (k - 1))]
		}' "$1"
}

# call_at POINT: the call at a kill point ("NAME N") in the trace the
# points came from ($TRACE), as strace showed it in the unkilled run.
call_at() {
	awk -v name="${1% *}" -v n="${1#* }" 'index($0, name "(") == 1 && ++seen == n { print substr($0, 1, 120); exit }' "$TRACE"
}

# record PHASE POINT RC: one hook run that was meant to be killed.  Only a
# run that died of SIGKILL counts; one that finished first is noted apart.
record() {
	case $3 in
	137) echo "$1 $2" >>"$KILLS" ;;
	0) echo "$1 $2" >>"$FINISHED" ;;
	*) echo "$1 $2: the hook failed with $3 instead"; return 1 ;;
	esac
}

# traced_kill STAGE STATEFILE POINT: run the hook, SIGKILLed on entry to the
# system call POINT ("NAME N").  Prints the exit status (137 if killed).
traced_kill() {
	local name=${3% *} n=${3#* } rc=0
	strace -f -qq -o /dev/null -e trace="$name" -e inject="$name:signal=KILL:when=$n" \
		"$HOOK" "$1" <"$2" >/dev/null 2>&1 || rc=$?
	echo "$rc"
}

# fresh_ctr: the next hook run after a kill must work: a runc container
# starts under policy, is held to its limit, and its poststop runs.
fresh_ctr() {
	local out committed
	out=$(run_ctr fresh 2>&1) || { echo "fresh container failed: $out"; return 1; }
	if [[ "$out" =~ got\ [0-9]+\ KiB,\ committed\ ([0-9]+)\ KiB ]]; then
		committed=${BASH_REMATCH[1]}
	else
		echo "fresh container: unexpected output: $out"
		return 1
	fi
	((committed <= FRESH_LIMIT_KIB && committed > FRESH_LIMIT_KIB - STEP_KIB)) ||
		{ echo "fresh container: committed $committed KiB under a $FRESH_LIMIT_KIB KiB limit"; return 1; }
}

# map_keys: the keys of policies, stats and names, and the number of
# containers entries, on one line (one jq for all).
map_keys() {
	local m
	for m in policies stats names containers; do
		bpftool map dump pinned "/sys/fs/bpf/memgate/maps/$m" -j
	done | jq -r -n '[inputs] | [.[0:3][] | [.[].formatted.key] | sort | tostring] as [$p, $s, $n]
		| "policies=\($p) stats=\($s) names=\($n) containers=\(.[3] | length)"'
}

# state_now: "unloaded", or memgate's entries and links on one line.
state_now() {
	if [ -e /sys/fs/bpf/memgate ]; then
		echo "$(map_keys) links=$(ls /sys/fs/bpf/memgate/links | tr '\n' ' ')"
	else
		echo unloaded
	fi
}

# policies_of STATE: the policies part of a state_now line.
policies_of() {
	local p=${1%% stats=*}
	[ "$1" != unloaded ] || p="policies=[]"
	echo "$p"
}

# The bystander: a runc container under policy (commit limit and fork gate)
# that keeps memgate loaded while other containers' hooks are killed.
start_bystander() {
	assert_no_memgate
	make_bundle bystander '{"memgate.io/commit-limit": "256Mi", "memgate.io/fork-gate": "128Mi"}' 0 -- /bin/sleep 600
	start_ctr bystander
	BY_ID=$(cgroup_id bystander)
	BY_PROGS=$(mg_program_ids)
	STATE=$(state_now)
	[[ "$STATE" == "policies=[$BY_ID] stats=[$BY_ID] names=[$BY_ID] containers=1 links="*"fork-gate-$BY_ID "* ]]
}

# stop_bystander: delete the bystander.  Unless a killed container's policy
# was left (noted), that was the last policy: nothing of memgate remains.
stop_bystander() {
	runc delete -f bystander
	if [ "$(policies_of "$STATE")" = "policies=[$BY_ID]" ]; then
		assert_no_memgate
		assert_no_stale_trees
	elif [ -e /sys/fs/bpf/memgate ]; then
		echo "after the last container stopped, memgate stayed loaded: $(state_now)" >>"$POLICY_LEFTOVERS"
	fi
}

# after_kill PHASE POINT: the next hook run after a kill works: a fresh
# container starts under policy and is held to its limit, and its poststop
# runs.  No staging or dead tree is left, and a running bystander keeps its
# policy and memgate's programs.  What the kill left in memgate beyond that
# is noted: a policy in $POLICY_LEFTOVERS, other entries and links in
# $LEFTOVERS; two tests below report them.  (teardown's `memgate gc --all`
# then clears them for the next test.)
after_kill() {
	local now where
	fresh_ctr
	assert_no_stale_trees
	if [ -n "${BY_ID:-}" ]; then
		[ "$(mg_program_ids)" = "$BY_PROGS" ]
		status_is bystander ".cgroup_id == $BY_ID and .policy.commit_limit_bytes == 268435456"
	fi
	now=$(state_now)
	if [ "$now" = "$STATE" ]; then
		[ "$now" != unloaded ] || assert_no_memgate
		return 0
	fi
	where="$1 $2${TRACE:+ ($(call_at "$2"))}: was $STATE; now $now"
	if [ "$(policies_of "$now")" != "$(policies_of "$STATE")" ]; then
		echo "$where" >>"$POLICY_LEFTOVERS"
	else
		echo "$where" >>"$LEFTOVERS"
	fi
	STATE=$now
}

# kill_starts PHASE K [CALLS [FROM]]: trace one unkilled start, then kill
# starts at the points kill_points chooses from it; each killed start's
# cgroup goes, as runc removes it.
kill_starts() {
	local phase=$1 k=$2 calls=${3:-} from=${4:-} i=0 point rc trace=$BATS_TEST_TMPDIR/start.trace
	TRACE=$trace
	fake_ctr k0
	state k0 creating "$HOLDER" >"$BATS_TEST_TMPDIR/k0.json"
	strace -qq -o "$trace" "$HOOK" prestart <"$BATS_TEST_TMPDIR/k0.json"
	"$HOOK" poststop <"$BATS_TEST_TMPDIR/k0.json"
	fake_gone k0
	while read -r point; do
		i=$((i + 1))
		fake_ctr "k$i"
		state "k$i" creating "$HOLDER" >"$BATS_TEST_TMPDIR/k$i.json"
		rc=$(traced_kill prestart "$BATS_TEST_TMPDIR/k$i.json" "$point")
		record "$phase" "$point" "$rc"
		fake_gone "k$i"
		after_kill "$phase" "$point"
	done < <(kill_points "$trace" "$k" "$calls" "$from")
	[ "$i" -gt 0 ] || { echo "no kill point in the trace of an unkilled start"; return 1; }
}

# kill_stops PHASE K [CALLS [FROM]]: the same for poststop, after a start
# that worked and the container's end.
kill_stops() {
	local phase=$1 k=$2 calls=${3:-} from=${4:-} i=0 point rc trace=$BATS_TEST_TMPDIR/stop.trace
	TRACE=$trace
	fake_ctr k0
	state k0 creating "$HOLDER" >"$BATS_TEST_TMPDIR/k0.json"
	"$HOOK" prestart <"$BATS_TEST_TMPDIR/k0.json"
	fake_gone k0
	state k0 stopped 0 >"$BATS_TEST_TMPDIR/k0.json"
	strace -qq -o "$trace" "$HOOK" poststop <"$BATS_TEST_TMPDIR/k0.json"
	while read -r point; do
		i=$((i + 1))
		fake_ctr "k$i"
		state "k$i" creating "$HOLDER" >"$BATS_TEST_TMPDIR/k$i.json"
		"$HOOK" prestart <"$BATS_TEST_TMPDIR/k$i.json"
		fake_gone "k$i"
		state "k$i" stopped 0 >"$BATS_TEST_TMPDIR/k$i.json"
		rc=$(traced_kill poststop "$BATS_TEST_TMPDIR/k$i.json" "$point")
		record "$phase" "$point" "$rc"
		after_kill "$phase" "$point"
	done < <(kill_points "$trace" "$k" "$calls" "$from")
	[ "$i" -gt 0 ] || { echo "no kill point in the trace of an unkilled poststop"; return 1; }
}

@test "a start that loads memgate, killed at 12 points from its first file to its last call: the next container starts under policy" {
	kill_starts cold-start 12
}

# Beside a running container the hook only reads maps until it prunes, then
# writes: it is killed before each of its bpf, unlink and rename calls from
# the prune on.  The prune begins with a peek at the dead queue, the only
# lookup with a NULL key.
PRUNE_START='BPF_MAP_LOOKUP_ELEM, .map_fd=[0-9]+, key=NULL'

@test "a start beside a running container, killed before each of its map updates and pins: the next container starts, the other keeps its policy" {
	start_bystander
	kill_starts warm-start all 'bpf|unlink|rename' "$PRUNE_START"
	stop_bystander
}

@test "the last container's poststop, which unloads memgate, killed at 10 points: the next container starts under policy" {
	kill_stops last-stop 10
}

@test "a poststop beside a running container, killed before each of its map updates and unpins: the next container starts, the other keeps its policy" {
	start_bystander
	kill_stops warm-stop all 'bpf|unlink|rename' "$PRUNE_START"
	stop_bystander
}

@test "a start that loads memgate, SIGKILLed after 6 delays spread over the first two thirds of its measured run, without a tracer" {
	local i t0 total delay rc
	fake_ctr k0
	state k0 creating "$HOLDER" >"$BATS_TEST_TMPDIR/k0.json"
	t0=${EPOCHREALTIME/./}
	"$HOOK" prestart <"$BATS_TEST_TMPDIR/k0.json"
	total=$((${EPOCHREALTIME/./} - t0))
	"$HOOK" poststop <"$BATS_TEST_TMPDIR/k0.json"
	fake_gone k0
	echo "# an unkilled start that loads memgate took $((total / 1000)) ms" >&3
	for i in 1 2 3 4 5 6; do
		delay=$((total * i / 9))
		fake_ctr "k$i"
		state "k$i" creating "$HOLDER" >"$BATS_TEST_TMPDIR/k$i.json"
		rc=0
		"$HOOK" prestart <"$BATS_TEST_TMPDIR/k$i.json" &
		sleep "$(printf '%d.%06d' $((delay / 1000000)) $((delay % 1000000)))"
		kill -9 $! 2>/dev/null || true
		wait $! || rc=$?
		record timed-start "after-$((delay / 1000))ms" "$rc"
		fake_gone "k$i"
		after_kill timed-start "after-$((delay / 1000))ms"
	done
}

# lock_held_kill STAGE NAME: hold memgate's lock, run the hook on NAME's
# state, and kill it once /proc/locks shows it waiting for the lock.
lock_held_kill() {
	local stage=$1 name=$2 hook lock rc=0
	mkdir -p /run/memgate
	exec {lock}>/run/memgate/lock
	flock "$lock"
	"$HOOK" "$stage" <"$BATS_TEST_TMPDIR/$name.json" {lock}>&- &
	hook=$!
	while ! grep -q -- "-> FLOCK .* $hook " /proc/locks; do sleep 0.05; done
	kill -9 "$hook"
	wait "$hook" || rc=$?
	exec {lock}>&-
	record "lock-wait-$stage" flock "$rc"
}

@test "a start and a poststop killed while they wait for memgate's lock" {
	fake_ctr k1
	state k1 creating "$HOLDER" >"$BATS_TEST_TMPDIR/k1.json"
	lock_held_kill prestart k1
	fake_gone k1
	after_kill lock-wait-prestart flock
	fake_ctr k2
	state k2 creating "$HOLDER" >"$BATS_TEST_TMPDIR/k2.json"
	"$HOOK" prestart <"$BATS_TEST_TMPDIR/k2.json"
	fake_gone k2
	state k2 stopped 0 >"$BATS_TEST_TMPDIR/k2.json"
	lock_held_kill poststop k2
	after_kill lock-wait-poststop flock
}

@test "no killed container's policy outlives the next container's start and stop (else memgate never unloads)" {
	# Each line: the kill, then memgate's state before it and after the
	# next container's run.
	[ ! -s "$POLICY_LEFTOVERS" ] || { cat "$POLICY_LEFTOVERS"; false; }
}

@test "no entry or link of a killed container outlives the next container's start and stop" {
	[ ! -s "$LEFTOVERS" ] || { cat "$LEFTOVERS"; false; }
}

@test "at least 40 kills in all, each followed by a working start; nothing of memgate remains" {
	echo "# kills survived: $(wc -l <"$KILLS") ($(cut -d' ' -f1 "$KILLS" | uniq -c |
		awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }'))" >&3
	# Where each one hit, by phase.
	awk '{ p = $1; $1 = ""; at[p] = at[p] (at[p] == "" ? "" : ",") $0 }
		END { for (p in at) print "# " p ":" at[p] }' "$KILLS" | sort >&3
	touch "$FINISHED"
	echo "# runs that finished before their kill point: $(wc -l <"$FINISHED")" >&3
	[ "$(wc -l <"$KILLS")" -ge 40 ]
	assert_no_memgate
	assert_no_stale_trees
	[ -z "$(ls "$CGROUP_PARENT" | grep -E '^k[0-9]+$')" ]
}
