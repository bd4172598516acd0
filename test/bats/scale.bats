#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Concurrency at scale (issue 11): 50 runc containers started at once, three
# rounds in a row.  Each container has a commit limit of its own, 24Mi to
# 72Mi, and is held to it; memgate is loaded once per round, for all of them,
# and nothing of it is left after each round.

load helpers

N=50
KIB=1024
# The workload commits in steps of this many KiB until refused: it ends
# within one step below its own limit.
STEP_KIB=64

setup() {
	require_vm
	PIDS=()
	ROUND=
}

teardown() {
	local pid
	# A round that failed half-way: let its workloads exit, then clean up.
	[ -z "$ROUND" ] || touch "/tmp/data/release-$ROUND"
	for pid in "${PIDS[@]}"; do
		timeout 120 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null || true
	done
	cleanup_containers
	rm -f /tmp/data/release-*
}

# write_bundles ROUND: $BUNDLES/scC/config.json for C in 1..N, each with its
# own commit limit, in KiB in LIMITS[C-1].  The N limits run from 24Mi to
# 72Mi in steps of about 1 MiB (whole pages); each round deals them out in
# another order, and neighbours get distant ones.  One make_bundle and one
# jq: each run of jq costs about a second under TCG.
write_bundles() {
	local round=$1 c k name config
	LIMITS=()
	for c in $(seq "$N"); do
		k=$(((7 * (c - 1) + 17 * (round - 1)) % N))
		LIMITS+=($((24 * KIB + 4 * (k * 12 * KIB / (N - 1)))))
	done
	make_bundle sc1 '{}' 0 -- /alloc commit "$STEP_KIB" "/data/release-$round"
	jq -r -c -n --slurpfile cfg "$BUNDLES/sc1/config.json" --args '
		$ARGS.positional | to_entries[] | .key as $i | .value as $limit
		| "sc\($i + 1)", ($cfg[0]
			| .annotations = {"memgate.io/commit-limit": "\($limit)Ki"}
			| .linux.cgroupsPath = "/mg/sc\($i + 1)")' "${LIMITS[@]}" |
		while IFS= read -r name && IFS= read -r config; do
			mkdir -p "$BUNDLES/$name"
			printf '%s\n' "$config" >"$BUNDLES/$name/config.json"
		done
}

# report C: the line container scC's workload reported ("got ..."); fails
# while there is none.  Builtins only: a process costs under TCG.
report() {
	local line
	while IFS= read -r line; do
		[[ "$line" == "got "* ]] && { REPORT=$line; return 0; }
	done <"$BUNDLES/sc$1.log"
	return 1
}

# run_round ROUND: start N containers at once, each with its own limit;
# check each is held to it, that one set of memgate's programs served them
# all, then let them exit and check that nothing of memgate is left.
run_round() {
	local round=$1 c started=${EPOCHREALTIME/./} pending ready next_sample deadline failed=0 line got committed limit
	local ids misses samples=$BATS_TEST_TMPDIR/samples
	ROUND=$round
	assert_no_memgate
	[ -z "$(ls /sys/fs/bpf | grep -E '^memgate-')" ]
	rm -f "/tmp/data/release-$round" "$samples"
	write_bundles "$round"

	# runc run in the foreground: it starts the container, waits for it,
	# deletes it and runs poststop.  All N at once.
	for c in $(seq "$N"); do
		(cd "$BUNDLES/sc$c" && exec runc run "sc$c" </dev/null >"$BUNDLES/sc$c.log" 2>&1) &
		PIDS[c]=$!
	done

	# Every workload reports once it was refused; none may have exited.
	# memgate's programs are sampled as the count of ready ones passes 1,
	# 10, 20, 30 and 40 (bpftool costs a fraction of a second under TCG).
	pending=$(seq "$N") ready=0 next_sample=1
	deadline=$((started + 900 * 1000000))
	while [ -n "$pending" ]; do
		local still=
		for c in $pending; do
			if report "$c"; then
				ready=$((ready + 1))
				continue
			elif ! kill -0 "${PIDS[c]}" 2>/dev/null; then
				echo "sc$c exited before its workload reported: $(cat "$BUNDLES/sc$c.log")"
				return 1
			fi
			still+=" $c"
		done
		pending=$still
		if ((ready >= next_sample && ready < N)); then
			echo "$ready ready: $(mg_program_ids)" >>"$samples"
			next_sample=$(((ready / 10 + 1) * 10))
		fi
		if ((${EPOCHREALTIME/./} > deadline)); then
			echo "not ready after 900 s:$pending"
			return 1
		fi
		[ -z "$pending" ] || sleep 1
	done
	echo "# round $round: $N containers started and at their limits in $(((${EPOCHREALTIME/./} - started) / 1000000)) s" >&3

	# One set of programs, the same from the first sample to now.
	ids=$(mg_program_ids)
	echo "$N ready: $ids" >>"$samples"
	cat "$samples"
	[ -n "$ids" ]
	[ "$(cut -d: -f2- "$samples" | sort -u)" = " $ids" ]
	[ "$(wc -l <"$samples")" -ge 2 ]
	[ "$(bpftool prog show | grep -c 'name mg_vm_enough')" -eq 1 ]
	# The pinned links run these programs.
	[[ " $ids" == *" $(bpftool link show pinned /sys/fs/bpf/memgate/links/vm_enough -j | jq .prog_id) "* ]]
	assert_no_stale_trees
	# A new load for each round: no program of the last round's set.
	echo "$ids" >"$BATS_FILE_TMPDIR/programs-$round"
	if [ -e "$BATS_FILE_TMPDIR/programs-$((round - 1))" ]; then
		[ -z "$(comm -12 <(tr ' ' '\n' <"$BATS_FILE_TMPDIR/programs-$((round - 1))" | sort) \
			<(echo "$ids" | tr ' ' '\n' | sort) | grep .)" ]
	fi

	# A tracing program that was skipped (the kernel counts recursion
	# misses) did not count or decide: worth knowing when a check below fails.
	misses=$(bpftool prog show -j | jq -r '[.[] | select((.name // "" | startswith("mg_")) and (.recursion_misses // 0) > 0)
		| "\(.name) \(.recursion_misses)"] | join(", ")')
	[ -z "$misses" ] || echo "# round $round: recursion misses of memgate's programs: $misses" >&3
	# memgate status reports their sum, so an operator sees them too.
	[ "$(memgate status --json | jq .program_runs_skipped)" -eq \
		"$(bpftool prog show -j | jq '[.[] | select(.name // "" | startswith("mg_")) | .recursion_misses // 0] | add')" ]

	# Each container under its own limit, in the maps and in status.
	[ "$(map_count policies)" -eq "$N" ]
	memgate status --json | jq -e --argjson n "$N" --args '
		[$ARGS.positional | to_entries[] | ["sc\(.key + 1)", (.value | tonumber) * 1024]] as $want
		| [.containers[] | [.id, .policy.commit_limit_bytes]] | sort == ($want | sort)' "${LIMITS[@]}"
	memgate status --json | jq -e '.containers | length > 0 and all(.[];
		.decisions.commits_denied >= 1 and .decisions.committed_peak_bytes <= .policy.commit_limit_bytes)'

	# Each workload got to within one step of its own limit, and no further:
	# another container's limit, 1 MiB or more away, fails this.
	for c in $(seq "$N"); do
		limit=${LIMITS[c - 1]}
		report "$c"
		line=$REPORT
		if [[ "$line" =~ ^got\ ([0-9]+)\ KiB,\ committed\ ([0-9]+)\ KiB$ ]]; then
			got=${BASH_REMATCH[1]} committed=${BASH_REMATCH[2]}
		else
			echo "sc$c: unexpected report: $line"
			failed=1
			continue
		fi
		if ((committed > limit || committed <= limit - STEP_KIB || got > committed)); then
			echo "sc$c: limit $limit KiB, but committed $committed KiB (got $got KiB)"
			failed=1
		fi
	done
	[ "$failed" -eq 0 ]
	echo "# round $round: each of the $N workloads was refused within $STEP_KIB KiB below its own limit" >&3

	# Let them exit: runc deletes each, and poststop removes its policy.
	touch "/tmp/data/release-$round"
	for c in $(seq "$N"); do
		wait "${PIDS[c]}" || { echo "sc$c: runc run failed: $(cat "$BUNDLES/sc$c.log")"; failed=1; }
	done
	PIDS=()
	[ "$failed" -eq 0 ]
	for c in $(seq "$N"); do
		[ ! -e "$CGROUP_PARENT/sc$c" ] || { echo "cgroup of sc$c left"; failed=1; }
	done
	[ "$failed" -eq 0 ]
	[ -z "$(runc list -q)" ]
	assert_no_memgate
	[ -z "$(ls /sys/fs/bpf | grep -E '^memgate-')" ]
	ROUND=
	echo "# round $round: $(((${EPOCHREALTIME/./} - started) / 1000000)) s in all" >&3
}

@test "round 1: 50 containers started at once, each held to its own commit limit, memgate loaded once and gone after" {
	run_round 1
}

@test "round 2: 50 containers again, their limits dealt out anew" {
	run_round 2
}

@test "round 3: 50 containers again, their limits dealt out anew" {
	run_round 3
}
