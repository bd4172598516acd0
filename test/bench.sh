#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench (in the VM): allocation latency (mmap 1 MiB, touch, munmap) in a
# container, side by side in one run:
#   baseline  memgate not loaded
#   loaded    memgate's programs attached (another container has a policy), this one has none
#   policy    this container has a commit limit and a pressure gate
# Absolute times under TCG mean nothing; the ratios are the result.
set -euo pipefail
source /memgate/test/bats/helpers.bash
require_vm

rounds=${ROUNDS:-20000}
repeats=${REPEATS:-5}

bench() {
	run_ctr "$1" | sed -n 's/^ns_per_round //p'
}

median() {
	sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

make_bundle plain '{}' 0 -- /alloc bench "$rounds"
make_bundle gated '{"memgate.io/commit-limit": "1Gi", "memgate.io/pressure-gate": "1Gi"}' $((2048 * 1048576)) -- /alloc bench "$rounds"
make_bundle holder '{"memgate.io/commit-limit": "1Gi"}' 0 -- /bin/sleep 3600

declare -a base loaded policy
for ((i = 0; i < repeats; i++)); do
	base+=("$(bench plain)")
	start_ctr holder
	loaded+=("$(bench plain)")
	policy+=("$(bench gated)")
	runc delete -f holder
done

b=$(printf '%s\n' "${base[@]}" | median)
l=$(printf '%s\n' "${loaded[@]}" | median)
p=$(printf '%s\n' "${policy[@]}" | median)
echo
echo "allocation latency, median of $repeats runs of $rounds rounds (ns per mmap+touch+munmap, TCG)"
printf '%-10s %10s %8s\n' case ns ratio
printf '%-10s %10d %8s\n' baseline "$b" 1.00
printf '%-10s %10d %8.2f\n' loaded "$l" "$(echo "$l $b" | awk '{print $1 / $2}')"
printf '%-10s %10d %8.2f\n' policy "$p" "$(echo "$p $b" | awk '{print $1 / $2}')"
