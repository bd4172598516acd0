#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo: a runc container under a memgate policy, inside the VM.
set -euo pipefail
source /memgate/test/bats/helpers.bash
require_vm

# Bold headings on a terminal only, and never with NO_COLOR set (no-color.org).
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi

say "What this kernel can do (memgate probe)"
memgate probe

say "A container with memgate.io/commit-limit=64Mi, allocating 1 MiB at a time until malloc fails"
make_bundle demo '{"memgate.io/commit-limit": "64Mi"}' 0 -- /bin/sh -c '/alloc steps 1; echo "exit status $?"; sleep 600'
start_ctr demo
for _ in $(seq 100); do grep -q 'exit status' "$BUNDLES/demo.log" && break; sleep 0.2; done
cat "$BUNDLES/demo.log"

say "memgate status, while the container runs"
memgate status

say "memgate events (the denial, from the ring buffer)"
memgate events

say "memgate status --json"
memgate status --json | jq -M '.containers[0] | {id, policy, decisions, last_denial}'

say "runc delete: poststop removes the policy; the last container takes memgate with it"
runc delete -f demo
memgate status
if [ -e /sys/fs/bpf/memgate ] || bpftool prog show | grep -q 'name mg_'; then
	echo "memgate left state behind" >&2
	exit 1
fi
echo "no memgate pins, programs or links remain"
